"""The forms of the officials' pages (set-up forms are in setup_forms.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from survey.services.accounts import ROLES
from survey.services.integrity import REASON_MAX_LENGTH, REASON_MIN_LENGTH
from survey.services.kiosks import LABEL_MAX_LENGTH


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


# --- accounts ---------------------------------------------------------------------------------

LARGEST_ID = 2**31 - 1

ROLE_NAMES = {
    "province_admin": _l("Province administrator"),
    "sector_admin": _l("Sector administrator"),
    "agency_manager": _l("Agency manager"),
    "viewer": _l("Viewer (read-only)"),
}
SECTOR_CHOICES = [
    SelectChoice("", _l("— none —")),
    SelectChoice("administrative", _l("Administrative services")),
    SelectChoice("health", _l("Public health")),
    SelectChoice("education", _l("Public education")),
]
PASSWORD_RULE = _l(
    "At least 12 characters, not a common password, not a repetition or a sequence, "
    "without the username. A few unrelated words are easy to remember and hard to guess."
)


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        _l("New password"),
        description=PASSWORD_RULE,
        validators=[InputRequired(), Length(max=200)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
    )


class UserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        description=_l("3 to 40 characters: letters without accents, digits, . _ -"),
        validators=[InputRequired(), Length(max=80)],
    )
    password = PasswordField(
        _l("First password"),
        description=PASSWORD_RULE,
        validators=[InputRequired(), Length(max=200)],
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ROLES],
        validators=[InputRequired()],
    )
    sector = SelectField(
        _l("Sector (sector administrators, sector viewers)"), choices=SECTOR_CHOICES
    )
    scope_agency_id = SelectField(
        _l("Agency and its sub-units (agency managers, viewers)"), choices=[]
    )


class UserActionForm(FlaskForm):
    """A button acting on one account: the account's id and the CSRF token."""

    user_id = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=LARGEST_ID)]
    )


class PasswordResetForm(UserActionForm):
    new_password = PasswordField(
        _l("Temporary password (leave empty and one is made for you)"),
        description=PASSWORD_RULE,
        validators=[Optional(), Length(max=200)],
    )


class RoleForm(UserActionForm):
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ROLES],
        validators=[InputRequired()],
    )
    sector = SelectField(
        _l("Sector (sector administrators, sector viewers)"), choices=SECTOR_CHOICES
    )
    scope_agency_id = SelectField(
        _l("Agency and its sub-units (agency managers, viewers)"), choices=[]
    )


# --- comments ---------------------------------------------------------------------------------

POLARITY_NAMES = {
    "-": _l("Complaint"),
    "+": _l("Praise"),
    "=": _l("Aspect (judged by its clause)"),
    "0": _l("Ignore (hides shorter terms)"),
}


class TermForm(FlaskForm):
    topic = SelectField(_l("Topic"), validators=[InputRequired()])
    term = StringField(_l("Term"), validators=[InputRequired(), Length(max=80)])
    polarity = SelectField(
        _l("Kind"),
        choices=[SelectChoice(code, name) for code, name in POLARITY_NAMES.items()],
        validators=[InputRequired()],
    )


class LexiconFileForm(FlaskForm):
    file = FileField(_l("Lexicon file (CSV or XLSX)"), validators=[FileRequired()])


# --- kiosks and flagged responses --------------------------------------------------------------


class RegisterKioskForm(FlaskForm):
    service_point = SelectField(_l("Service point"), coerce=int, validators=[InputRequired()])
    label = StringField(
        _l("Kiosk name (e.g. where it stands)"),
        validators=[InputRequired(), Length(max=LABEL_MAX_LENGTH)],
    )


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("include", _l("Keep counting it")),
            SelectChoice("exclude", _l("Exclude it from indices")),
        ],
        validators=[InputRequired()],
    )
    reason = TextAreaField(
        _l("Reason (kept in the log)"),
        validators=[InputRequired(), Length(min=REASON_MIN_LENGTH, max=REASON_MAX_LENGTH)],
    )
