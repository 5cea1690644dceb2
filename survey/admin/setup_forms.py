"""Forms of the province set-up pages (survey/admin/setup_views.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

SECTOR_CHOICES = [
    SelectChoice("administrative", _l("Administrative services")),
    SelectChoice("health", _l("Public health")),
    SelectChoice("education", _l("Public education")),
]
LEVEL_CHOICES = [
    SelectChoice("province", _l("Province")),
    SelectChoice("district", _l("District")),
    SelectChoice("commune", _l("Commune")),
]
CODE_HELP = _l("Letters without accents, digits, - and _.")
ENGLISH_NAME_HELP = _l(
    "Leave it empty if there is none: English pages then show the Vietnamese name."
)


class AgencyForm(FlaskForm):
    code = StringField(
        _l("Code"), description=CODE_HELP, validators=[InputRequired(), Length(max=64)]
    )
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[InputRequired(), Length(max=300)])
    name_en = StringField(
        _l("Name (English)"),
        description=ENGLISH_NAME_HELP,
        validators=[Optional(), Length(max=300)],
    )
    parent_code = SelectField(_l("Part of"), choices=[], validate_choice=False)
    sector = SelectField(_l("Sector"), choices=SECTOR_CHOICES)
    level = SelectField(_l("Level"), choices=LEVEL_CHOICES)
    valid_from = DateField(_l("In service from"), validators=[InputRequired()])


class AgencyEditForm(AgencyForm):
    code = StringField(_l("Code"), render_kw={"readonly": True})


class RetireAgencyForm(FlaskForm):
    valid_to = DateField(_l("Retired from (first day without it)"), validators=[InputRequired()])
    successor_code = SelectField(
        _l("Successor (the unit that took over)"), choices=[], validate_choice=False
    )


class ServicePointForm(FlaskForm):
    code = StringField(
        _l("Code"), description=CODE_HELP, validators=[InputRequired(), Length(max=64)]
    )
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[InputRequired(), Length(max=300)])
    name_en = StringField(
        _l("Name (English)"),
        description=ENGLISH_NAME_HELP,
        validators=[Optional(), Length(max=300)],
    )


class ClosePointForm(FlaskForm):
    successor_code = StringField(
        _l("Code of the service point that takes over (optional)"),
        validators=[Optional(), Length(max=64)],
    )


class UploadForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])


class ResponsesUploadForm(UploadForm):
    channel = SelectField(
        _l("Channel"),
        choices=[
            SelectChoice("paper", _l("Paper surveys")),
            SelectChoice("import", _l("Imported from another system")),
        ],
    )


class EndTargetForm(FlaskForm):
    last = DateField(_l("Last day"), validators=[InputRequired()])


class ProvinceForm(FlaskForm):
    province = SelectField(_l("Province or city"), choices=[], validate_choice=False)


class TranslationUploadForm(UploadForm):
    language = StringField(
        _l("Language tag (BCP 47, e.g. hmn for H'Mông, tdd for Thái)"),
        validators=[InputRequired(), Length(max=16)],
    )
