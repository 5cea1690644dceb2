"""Forms of the dossier pages (the questionnaire itself is the public form's, survey/public)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from survey.public.forms import SCALE


class HandlingForm(FlaskForm):
    """The citizen's rating of how their complaint was handled."""

    rating = RadioField(
        _l("How satisfied are you with how your complaint was handled?"),
        choices=[SelectChoice(value, label) for value, label in SCALE],
        validate_choice=False,
        validators=[
            InputRequired(message=_l("Please choose an answer for this question.")),
            AnyOf(
                ["1", "2", "3", "4", "5"], message=_l("Please choose an answer for this question.")
            ),
        ],
    )


class UploadForm(FlaskForm):
    file = FileField(_l("File (CSV or Excel .xlsx)"), validators=[FileRequired()])


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only chooses what to show

    first = DateField(_l("From"), validators=[InputRequired()])
    last = DateField(_l("To"), validators=[InputRequired()])


class FindDossierForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(_l("Dossier code"), validators=[InputRequired(), Length(max=80)])


class NewComplaintForm(FlaskForm):
    dossier_code = StringField(
        _l("Dossier code (if the complaint is about a dossier)"),
        validators=[Optional(), Length(max=80)],
    )
    agency_id = IntegerField(_l("Agency (if there is no dossier)"), validators=[Optional()])
    description = TextAreaField(
        _l("What the citizen complains about"), validators=[InputRequired(), Length(max=2000)]
    )


class NoteForm(FlaskForm):
    text = TextAreaField(_l("What was done"), validators=[InputRequired(), Length(max=2000)])


class StaffForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=300)])
    active_from = DateField(_l("Works here from"), validators=[Optional()])
    active_to = DateField(_l("Until"), validators=[Optional()])
