"""The comments inbox and the topic lexicon: thin views over survey/services/comments/."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug import Response
from wtforms.fields.choices import SelectChoice

from survey.admin import admin_blueprint as bp
from survey.admin.forms import POLARITY_NAMES, ConfirmForm, LexiconFileForm, SignOutForm, TermForm
from survey.auth import can, current_scope, requires
from survey.extensions import discard_changes, get_session
from survey.i18n import current_language
from survey.services.comments import inbox as inbox_service
from survey.services.comments import lexicon_admin
from survey.services.comments.lexicon import LEXICON_TOPICS, lexicon_csv
from survey.services.comments.tagging import current_tagger
from survey.services.comments.topics import BY_CODE, TOPICS
from survey.services.errors import DomainError, NotFound
from survey.services.importing import ImportRefused
from survey.services.reporting import period_choices
from survey.storage.models import CHANNELS

HELPER_TOPIC_NAMES = {
    "general": _l("General evaluation (judges the aspects of its clause)"),
    "wish": _l("Wish or suggestion marker"),
}
SOURCE_NAMES = {"shipped": _l("shipped"), "added": _l("added"), "changed": _l("changed")}


def _topic_choices() -> list[SelectChoice]:
    language = current_language()
    names = {t.code: t.name(language) for t in TOPICS} | {
        code: str(name) for code, name in HELPER_TOPIC_NAMES.items()
    }
    return [SelectChoice(code, names[code]) for code in LEXICON_TOPICS]


def _scope_key() -> str:
    return inbox_service.scope_key(current_scope(), current_user)


@bp.get("/comments")
@requires("view_reports")
def comments() -> str:
    session = get_session()
    filters = inbox_service.parse_filters(request.args)
    found = inbox_service.inbox(session, current_scope(), _scope_key(), filters)
    return render_template(
        "admin/comments.html",
        inbox=found,
        topics=TOPICS,
        topic_names=BY_CODE,
        channels=CHANNELS,
        periods=period_choices(session),
        confirm=ConfirmForm(),
        can_mark=can("review_responses"),
        language=current_language(),
        sign_out=SignOutForm(),
    )


@bp.post("/comments/read")
@requires("review_responses")
def mark_comments() -> Response:
    back = request.form.get("back", "")
    target = url_for(".comments") + ("?" + back if back and "//" not in back else "")
    if not ConfirmForm().validate_on_submit():
        flash(_("The page stayed open too long. Please try again."))
        return redirect(target)
    ids = [int(v) for v in request.form.getlist("response_id") if v.isdigit() and len(v) < 10]
    read = request.form.get("action", "read") != "unread"
    changed = inbox_service.mark(
        get_session(), current_user, current_scope(), _scope_key(), ids, read
    )
    if read:
        flash(_("%(count)s comments marked as read.", count=changed))
    else:
        flash(_("%(count)s comments marked as unread.", count=changed))
    return redirect(target)


@bp.get("/comments/export.<fmt>")
@requires("view_reports")
def export_comments(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    filters = inbox_service.parse_filters(request.args)
    file = inbox_service.export(
        get_session(),
        current_user,
        current_scope(),
        _scope_key(),
        filters,
        fmt,
        current_language(),
    )
    return Response(
        file.body,
        mimetype=file.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


@bp.route("/comments/lexicon", methods=["GET", "POST"])
@requires("province_admin")
def comment_lexicon() -> Response | tuple[str, int]:
    session = get_session()
    form = TermForm()
    form.topic.choices = _topic_choices()
    status = 200
    if form.validate_on_submit():
        try:
            lexicon_admin.set_term(
                session, current_user, form.topic.data, form.term.data, form.polarity.data
            )
        except DomainError as error:
            discard_changes()
            form.form_errors.append(error.message(current_language()))
            status = 400
        else:
            flash(_("The lexicon was changed; comments will be tagged again."))
            return redirect(url_for(".comment_lexicon"))
    elif request.method == "POST":
        status = 400
    return _lexicon_page(form, LexiconFileForm(), status)


def _lexicon_page(form: TermForm, file_form: LexiconFileForm, status: int, problems=None):  # type: ignore[no-untyped-def]
    session = get_session()
    text = (request.args.get("text") or "")[:1000]
    trial = current_tagger(session).tag(text) if text.strip() else None
    return (
        render_template(
            "admin/comments_lexicon.html",
            page=lexicon_admin.lexicon_page(session),
            form=form,
            file_form=file_form,
            problems=problems or [],
            trial=trial,
            trial_text=text,
            topic_names=BY_CODE,
            helper_names=HELPER_TOPIC_NAMES,
            polarity_names=POLARITY_NAMES,
            source_names=SOURCE_NAMES,
            confirm=ConfirmForm(),
            language=current_language(),
            sign_out=SignOutForm(),
        ),
        status,
    )


@bp.post("/comments/lexicon/remove")
@requires("province_admin")
def remove_lexicon_term() -> Response:
    if ConfirmForm().validate_on_submit():
        action = request.form.get("action", "remove")
        topic, term = request.form.get("topic", ""), request.form.get("term", "")
        if action == "restore":
            lexicon_admin.restore_term(get_session(), current_user, topic, term)
            flash(_("The shipped term was put back."))
        else:
            lexicon_admin.remove_term(get_session(), current_user, topic, term)
            flash(_("The term was removed; comments will be tagged again."))
    return redirect(url_for(".comment_lexicon"))


@bp.post("/comments/lexicon/import")
@requires("province_admin")
def import_comment_lexicon() -> Response | tuple[str, int]:
    session = get_session()
    file_form = LexiconFileForm()
    form = TermForm(formdata=None)
    form.topic.choices = _topic_choices()
    if not file_form.validate_on_submit():
        errors = [str(error) for errors in file_form.errors.values() for error in errors]
        return _lexicon_page(
            form, file_form, 400, errors or [str(_l("Choose a CSV or XLSX file."))]
        )
    upload = file_form.file.data
    try:
        report = lexicon_admin.import_lexicon(
            session, current_user, upload.read(), upload.filename or "lexicon.csv"
        )
    except ImportRefused as refused:
        discard_changes()
        language = current_language()
        problems = [p.describe(language) for p in refused.report.problems]
        return _lexicon_page(form, file_form, 422, [refused.message(language), *problems])
    flash(report.summary(current_language()))
    return redirect(url_for(".comment_lexicon"))


@bp.get("/comments/lexicon.csv")
@requires("province_admin")
def comment_lexicon_csv() -> Response:
    lexicon = lexicon_admin.lexicon_page(get_session()).lexicon
    return Response(
        lexicon_csv(lexicon),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="tu-dien-chu-de.csv"'},
    )
