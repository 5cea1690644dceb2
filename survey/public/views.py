"""Public views: thin — validate, call a service, render or redirect."""

from __future__ import annotations

import secrets

from flask import current_app, redirect, render_template, request, url_for
from werkzeug import Response

from survey.extensions import csrf, get_session
from survey.i18n import current_language
from survey.public import public_blueprint as bp
from survey.public.forms import response_form
from survey.public.recent import recent_submission, remember_submission
from survey.services.access import public_route
from survey.services.errors import InvalidAnswers
from survey.services.integrity import IntegritySettings
from survey.services.questionnaires import open_service_point
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
    form = response_form(questionnaire, language)
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
        ),
        status,
    )


@bp.get("/s/<code>/thanks")
@public_route
def thank_you(code: str) -> str:
    point, _questionnaire = open_service_point(get_session(), code)
    return render_template("public/thanks.html", point=point, language=current_language())
