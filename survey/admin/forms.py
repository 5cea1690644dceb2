from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


class SignOutForm(FlaskForm):
    pass


class TargetForm(FlaskForm):
    sector = SelectField(
        _l("Sector"),
        choices=[
            SelectChoice("", _l("Every sector")),
            SelectChoice("administrative", _l("Administrative services")),
            SelectChoice("health", _l("Public health")),
            SelectChoice("education", _l("Public education")),
        ],
        validate_choice=True,
    )
    first = DateField(_l("From"), validators=[InputRequired()])
    last = DateField(_l("To"), validators=[InputRequired()])
    low = DecimalField(
        _l("Target: percent satisfied (or the lower end of a band)"),
        places=1,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    high = DecimalField(
        _l("Upper end of a band, in percent (leave empty for “above”)"),
        places=1,
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    description = StringField(_l("Description"), validators=[InputRequired(), Length(max=500)])
    source = StringField(_l("Source (decision, plan)"), validators=[Optional(), Length(max=300)])


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
