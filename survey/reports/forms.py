"""Forms of the report pages: what an office writes on a report before filing it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from survey.services.filing import FilingDetails
from survey.services.filing.details import unprintable

MAX_RECIPIENTS = 15
RECIPIENT_LENGTH = 150
FIRST_YEAR, LAST_YEAR = 2000, 2100
REQUIRED = _l("Please fill in this field.")
TOO_LONG = _l("At most %(max)d characters.")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _printable(_form: FlaskForm, field: Field) -> None:
    """Text the document's font can print, without control characters."""
    found = unprintable(str(field.data or ""))
    if found:
        shown = " ".join(sorted(found))[:40] if found != {"\ufffd"} else ""
        raise ValidationError(
            _l("These characters cannot be printed in the document: %(chars)s", chars=shown)
        )


class DayField(DateField):
    """A date whose parse error is translated (WTForms has no Vietnamese messages)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Not a valid date: choose a day, month and year."))) from None


def _sensible_day(_form: FlaskForm, field: Field) -> None:
    if field.data is not None and not (FIRST_YEAR <= field.data.year <= LAST_YEAR):
        raise ValidationError(
            _l("Choose a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
        )


def _recipients(_form: FlaskForm, field: Field) -> None:
    lines = [line for line in (field.data or "").splitlines() if line.strip()]
    if len(lines) > MAX_RECIPIENTS:
        raise ValidationError(_l("At most %(n)d recipients, one per line.", n=MAX_RECIPIENTS))
    if any(len(line.strip()) > RECIPIENT_LENGTH for line in lines):
        raise ValidationError(_l("Each recipient at most %(n)d characters.", n=RECIPIENT_LENGTH))


def _text(
    label: Any, most: int, required: bool = True, extra: tuple[Any, ...] = (), **options: Any
) -> StringField:
    presence = DataRequired(message=REQUIRED) if required else Optional()  # blanks are empty
    return StringField(
        label,
        filters=[_strip],
        validators=[presence, Length(max=most, message=TOO_LONG), _printable, *extra],
        **options,
    )


class FilingForm(FlaskForm):
    """The header and closing of a filed report (Decree 30/2020/NĐ-CP) and its format."""

    governing_body = _text(_l("Governing body (upper line, may be empty)"), 120, required=False)
    issuing_body = _text(_l("Issuing body"), 120)
    number = _text(
        _l("Number (empty: the clerk writes it in when registering)"),
        6,
        required=False,
        extra=(Regexp(r"^[0-9]*$", message=_l("The number is digits only (or empty).")),),
    )
    symbol = StringField(
        _l("Symbol"),
        filters=[_strip, _upper],
        description=_l("Capital letters and digits joined by hyphens, e.g. BC-SNV."),
        validators=[
            DataRequired(message=REQUIRED),
            Length(max=30, message=TOO_LONG),
            Regexp(
                r"^[A-ZĐ0-9]+(-[A-ZĐ0-9]+)*$",
                message=_l(
                    "The symbol is capital letters and digits joined by hyphens, e.g. BC-SNV."
                ),
            ),
        ],
    )
    place = _text(_l("Place"), 60)
    date = DayField(_l("Date"), validators=[InputRequired(message=REQUIRED), _sensible_day])
    title = TextAreaField(
        _l("Title (subject of the report)"),
        filters=[_strip],
        validators=[DataRequired(message=REQUIRED), Length(max=300, message=TOO_LONG), _printable],
    )
    authority = _text(
        _l("Signing on behalf of (e.g. KT. GIÁM ĐỐC; may be empty)"), 80, required=False
    )
    signer_title = _text(_l("Signer's title (e.g. PHÓ GIÁM ĐỐC)"), 80)
    signer_name = _text(_l("Signer's full name"), 80)
    recipients = TextAreaField(
        _l("Recipients, one per line"),
        filters=[_strip],
        validators=[Optional(), Length(max=2500, message=TOO_LONG), _recipients, _printable],
    )
    archive = _text(_l("Archived at (after “Lưu:”)"), 60, required=False)
    fmt = RadioField(
        _l("Format"),
        choices=[
            SelectChoice("pdf", _l("PDF (to print and sign)")),
            SelectChoice("docx", _l("Word (to edit before signing)")),
        ],
        default="pdf",
        validate_choice=False,
        validators=[
            InputRequired(message=REQUIRED),
            AnyOf(["pdf", "docx"], message=_l("Choose PDF or Word.")),
        ],
    )

    @staticmethod
    def defaults(details: FilingDetails) -> dict[str, object]:
        """The form's fields filled from ``details`` (the page's first view)."""
        return {
            "governing_body": details.governing_body,
            "issuing_body": details.issuing_body,
            "number": details.number,
            "symbol": details.symbol,
            "place": details.place,
            "date": details.date,
            "title": details.title,
            "authority": details.authority,
            "signer_title": details.signer_title,
            "signer_name": details.signer_name,
            "recipients": "\n".join(details.recipients),
            "archive": details.archive,
            "fmt": "pdf",
        }

    def details(self) -> FilingDetails:
        """The validated fields as the details of the filed report."""
        date = self.date.data
        assert isinstance(date, dt.date)  # noqa: S101  (validated: InputRequired)
        return FilingDetails(
            governing_body=self.governing_body.data or "",
            issuing_body=self.issuing_body.data or "",
            number=self.number.data or "",
            symbol=self.symbol.data or "",
            place=self.place.data or "",
            date=date,
            title=self.title.data or "",
            authority=self.authority.data or "",
            signer_title=self.signer_title.data or "",
            signer_name=self.signer_name.data or "",
            recipients=tuple(
                line.strip() for line in (self.recipients.data or "").splitlines() if line.strip()
            ),
            archive=self.archive.data or "",
        )
