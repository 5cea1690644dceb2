"""Public views: thin — validate, call a service, render or redirect."""

from __future__ import annotations

import secrets

from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from werkzeug import Response

from survey.auth import public_route
from survey.errors import HTTP_MESSAGES, render_error
from survey.extensions import csrf, get_session
from survey.i18n import current_language
from survey.public import public_blueprint as bp
from survey.public.forms import response_form
from survey.public.recent import recent_submission, remember_submission
from survey.services.errors import DomainError, InvalidAnswers
from survey.services.integrity import IntegritySettings
from survey.services.questionnaires import citizen_texts, open_service_point
from survey.services.responses import IdempotencyConflict, submit_response


@bp.get("/")
@public_route
def index() -> str:
    return render_template("public/index.html", language=current_language())


@bp.route("/s/<code>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token so that an expired one keeps the citizen's answers
@public_route
def show_form(code: str) -> Response | tuple[str, int]:
    language = current_language()
    session = get_session()
    point, questionnaire = open_service_point(session, code)
    texts = citizen_texts(session, questionnaire.id, request.args.get("lang"))
    form = response_form(questionnaire, language, texts.item_labels)
    already_sent = None
    if request.method == "GET":
        already_sent = None if request.args.get("new") else recent_submission(code)
        form.submission_id.data = already_sent or secrets.token_urlsafe(16)
    elif form.validate_on_submit():
        if form.website.data:
            return redirect(url_for(".thank_you", code=code))
        try:
            submit_response(
                session,
                point=point,
                questionnaire=questionnaire,
                answers=form.answers(),
                idempotency_key=form.submission_id.data,
                channel="qr",
                language=language,
                comment=form.comment.data,
                integrity=IntegritySettings.from_config(current_app.config),
            )
        except InvalidAnswers as error:
            form.form_errors.append(error.message(language))
        except IdempotencyConflict as error:  # a crafted id: this form gets a fresh one
            form.form_errors.append(error.message(language))
            form.submission_id.data = secrets.token_urlsafe(16)
        else:
            remember_submission(code, form.submission_id.data)
            return redirect(url_for(".thank_you", code=code))
    status = 200 if request.method == "GET" else 422
    return (
        render_template(
            "public/form.html",
            form=form,
            point=point,
            questionnaire=questionnaire,
            language=language,
            already_sent=already_sent,
            texts=texts,
        ),
        status,
    )


@bp.errorhandler(RateLimitExceeded)
def rate_limited(_error: RateLimitExceeded) -> Response | tuple[str, int]:
    """A limit of survey/ratelimit.py refused this request: the form again, answers kept."""
    return form_after_rate_limit() or render_error(429, *HTTP_MESSAGES[429])


def form_after_rate_limit() -> Response | None:
    """The form just refused by a rate limit (429), with the citizen's answers and comment and the
    same submission id, asking to send again in a minute; None for a POST that carries no answers
    (a flood gets the plain 429 page, which needs no database)."""
    code = (request.view_args or {}).get("code", "")
    if request.method != "POST" or not any(name.startswith("q_") for name in request.form):
        return None
    language = current_language()
    session = get_session()
    try:
        point, questionnaire = open_service_point(session, code)
    except DomainError:
        return None
    texts = citizen_texts(session, questionnaire.id, request.args.get("lang"))
    form = response_form(questionnaire, language, texts.item_labels)
    form.form_errors.append(
        _(
            "Too many answers are being sent right now. Your answers are kept: please wait a "
            "minute, then press Send again."
        )
    )
    html = render_template(
        "public/form.html",
        form=form,
        point=point,
        questionnaire=questionnaire,
        language=language,
        already_sent=None,
        texts=texts,
    )
    return make_response(html, 429)


@bp.get("/s/<code>/thanks")
@public_route
def thank_you(code: str) -> str:
    point, _questionnaire = open_service_point(get_session(), code)
    return render_template("public/thanks.html", point=point, language=current_language())
