"""The citizen's pages behind a dossier's link: thin — validate, call a service, render."""

from __future__ import annotations

import secrets

from flask import current_app, redirect, render_template, request, url_for
from werkzeug import Response

from survey.auth import public_route
from survey.dossiers import dossiers_blueprint as bp
from survey.dossiers.forms import HandlingForm
from survey.extensions import csrf, get_session
from survey.i18n import current_language
from survey.public.forms import response_form
from survey.services.dossiers import complaints
from survey.services.dossiers.links import OpenedLink, resolve
from survey.services.dossiers.rating import (
    AlreadyRated,
    complaint_of,
    is_rated,
    questionnaire_for,
    rate_dossier,
)
from survey.services.dossiers.settings import DossierSettings
from survey.services.errors import InvalidAnswers


def settings() -> DossierSettings:
    return DossierSettings.from_config(current_app.config)


def _rated_page(token: str, link: OpenedLink, message: str | None, status: int) -> tuple[str, int]:
    session = get_session()
    case = complaint_of(session, link)
    form = (
        HandlingForm() if case is not None and case.closed_at and not case.handling_rating else None
    )
    return (
        render_template(
            "dossiers/rated.html",
            link=link,
            case=case,
            form=form,
            token=token,
            message=message,
            language=current_language(),
        ),
        status,
    )


@bp.route("/d/<token>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token so that an expired one keeps the citizen's answers
@public_route
def rate(token: str) -> Response | tuple[str, int]:
    language = current_language()
    session = get_session()
    config = settings()
    link = resolve(session, token, config, count_open=request.method == "GET")
    if request.method == "GET" and is_rated(session, link):
        return _rated_page(token, link, None, 200)
    questionnaire = questionnaire_for(session, link)
    form = response_form(questionnaire, language)
    if request.method == "GET":
        form.submission_id.data = secrets.token_urlsafe(16)
    elif form.validate_on_submit():
        if form.website.data:
            return redirect(url_for(".thanks", token=token))
        try:
            rate_dossier(
                session,
                token,
                questionnaire=questionnaire,
                answers=form.answers(),
                idempotency_key=form.submission_id.data,
                comment=form.comment.data,
                is_complaint=request.form.get("is_complaint") == "1",
                language=language,
                settings=config,
            )
        except AlreadyRated as refused:
            return _rated_page(
                token, resolve(session, token, config), refused.message(language), 409
            )
        except InvalidAnswers as error:
            form.form_errors.append(error.message(language))
        else:
            return redirect(url_for(".thanks", token=token))
    status = 200 if request.method == "GET" else 422
    return (
        render_template(
            "dossiers/rate.html",
            form=form,
            link=link,
            questionnaire=questionnaire,
            is_complaint=request.form.get("is_complaint") == "1",
            language=language,
        ),
        status,
    )


@bp.get("/d/<token>/thanks")
@public_route
def thanks(token: str) -> str:
    session = get_session()
    link = resolve(session, token, settings())
    return render_template(
        "dossiers/thanks.html",
        link=link,
        case=complaint_of(session, link),
        language=current_language(),
    )


@bp.post("/d/<token>/handling")
@public_route
def rate_handling(token: str) -> Response | tuple[str, int]:
    session = get_session()
    link = resolve(session, token, settings())
    case = complaint_of(session, link)
    form = HandlingForm()
    if case is None or not form.validate_on_submit():
        return _rated_page(token, link, None, 422)
    complaints.rate_handling(session, case, int(form.rating.data))
    return redirect(url_for(".rate", token=token))
