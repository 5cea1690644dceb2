"""The questionnaire form, built from the questionnaire's data (one radio group per item)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp

from survey.services.responses import COMMENT_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN
from survey.storage.models import Questionnaire

NOT_APPLICABLE = "na"
# Short words so that five choices fit side by side on a 360 px phone in either language.
SCALE = (
    ("1", _l("Very unhappy")),
    ("2", _l("Unhappy")),
    ("3", _l("Neutral")),
    ("4", _l("Happy")),
    ("5", _l("Very happy")),
)


class ResponseFormBase(FlaskForm):
    submission_id = HiddenField(
        validators=[InputRequired(), Regexp(IDEMPOTENCY_KEY_PATTERN.pattern)]
    )
    # Honeypot: hidden from people by CSS; a form that fills it is a robot.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])
    comment = TextAreaField(
        _l("Anything else you would like to tell us? (optional, do not write your name or phone)"),
        validators=[Optional(), Length(max=COMMENT_MAX_LENGTH)],
    )

    def item_fields(self) -> list[Field]:
        return [field for field in self if field.name.startswith("q_")]

    def answers(self) -> dict[str, int | None]:
        return {
            field.name.removeprefix("q_"): None if field.data == NOT_APPLICABLE else int(field.data)
            for field in self.item_fields()
        }


def response_form(
    questionnaire: Questionnaire, language: str, labels: Mapping[str, str] | None = None
) -> ResponseFormBase:
    """A form instance with one required radio group per item of the questionnaire; ``labels``
    (item code → text) replace the item texts, for a language the province translated."""
    wording = tuple(sorted((labels or {}).items()))
    key = (questionnaire.id, questionnaire.code, questionnaire.version, language, wording)
    form_class = _FORM_CLASSES.get(key)
    if form_class is None:
        form_class = _FORM_CLASSES[key] = _form_class(questionnaire, language, dict(wording))
    return form_class()


# One class per questionnaire version, language and translated wording: versions never change
# once answered, and a changed translation is a new key.
_FORM_CLASSES: dict[tuple[Any, ...], type[ResponseFormBase]] = {}


def _form_class(
    questionnaire: Questionnaire, language: str, labels: dict[str, str]
) -> type[ResponseFormBase]:
    class ResponseForm(ResponseFormBase):
        pass

    for item in questionnaire.items:
        choices = [SelectChoice(value, label) for value, label in SCALE]
        if item.allows_not_applicable:
            choices.append(SelectChoice(NOT_APPLICABLE, _l("Not applicable")))
        message = _l("Please choose an answer for this question.")
        setattr(
            ResponseForm,
            f"q_{item.code}",
            RadioField(
                labels.get(item.code) or (item.text_vi if language == "vi" else item.text_en),
                choices=choices,
                validate_choice=False,
                validators=[
                    InputRequired(message=message),
                    AnyOf([choice.value for choice in choices], message=message),
                ],
            ),
        )
    return ResponseForm
