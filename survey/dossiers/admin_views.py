"""Officials' dossier pages under ``/admin/dossiers``: thin — validate, call a service, render.

Who may do what (survey/auth.py): every role sees dossiers and the official figures of
its scope (``view_reports``); managing roles import, print slips and export invitations
(``manage_service_points``) and handle complaints, clerks and comment reviews
(``review_responses``: agency managers and above). Routes that name a dossier, complaint, clerk or
review check its agency against the user's scope and answer 404 outside it.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug import Response

from survey.admin.forms import ConfirmForm
from survey.auth import current_scope, requires
from survey.dossiers import dossiers_blueprint as bp
from survey.dossiers.forms import (
    FindDossierForm,
    NewComplaintForm,
    NoteForm,
    PeriodForm,
    StaffForm,
    UploadForm,
)
from survey.dossiers.views import settings
from survey.errors import status_of
from survey.extensions import get_session
from survey.i18n import current_language
from survey.services import audit, spreadsheets
from survey.services.access import visible_agency_ids
from survey.services.agencies import agencies_by_code
from survey.services.dossiers import complaints, reviews
from survey.services.dossiers.codes import InvalidDossierCode
from survey.services.dossiers.importing import import_dossiers
from survey.services.dossiers.links import invitation_counts, pending_invitations
from survey.services.dossiers.official import official_scores
from survey.services.dossiers.records import dossier_in_scope, dossier_page, find_dossier
from survey.services.dossiers.slips import FORMATS, make_slip, slip_file
from survey.services.dossiers.staff import (
    clerk_results,
    import_staff,
    staff_in_scope,
    update_staff,
)
from survey.services.errors import DomainError, NotFound
from survey.services.importing import ImportRefused
from survey.services.local_time import VIETNAM_TIME, today_in_vietnam

UPLOAD_MAX_BYTES = 64 * 1024 * 1024  # a month of a large province; the command line has no limit


def _scope_ids() -> frozenset[int] | None:
    return visible_agency_ids(get_session(), current_scope())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _period() -> tuple[PeriodForm, dt.date, dt.date]:
    form = PeriodForm(request.args)
    today = today_in_vietnam()
    first, last = dt.date(today.year, 1, 1), today
    if request.args and form.validate():
        first, last = form.first.data, form.last.data
    else:
        form.first.data, form.last.data = first, last
    return form, first, last


def _render(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    return render_template(template, language=current_language(), **context), status


# --- dossiers: find, import, slips, invitations ------------------------------------------------


@bp.get("/admin/dossiers/")
@requires("view_reports")
def index() -> Response | tuple[str, int]:
    form = FindDossierForm(request.args)
    if request.args.get("code") and form.validate():
        try:
            dossier = find_dossier(get_session(), form.code.data, current_scope())
        except InvalidDossierCode as error:
            form.code.errors = [error.message(current_language())]
        else:
            if dossier is not None:
                return redirect(url_for(".dossier", dossier_id=dossier.id))
            form.code.errors = [_("No dossier with this code is within your scope.")]
    return _render("dossiers/index.html", find=form, upload=UploadForm())


@bp.route("/admin/dossiers/import", methods=["GET", "POST"])
@requires("manage_service_points")
def import_file() -> tuple[str, int]:
    request.max_content_length = UPLOAD_MAX_BYTES  # this page only (the app's limit is small)
    form = UploadForm()
    report, refused = None, None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            try:
                report = import_dossiers(
                    get_session(),
                    upload.stream,
                    filename=upload.filename,
                    max_bytes=UPLOAD_MAX_BYTES,
                    actor=current_user,
                    visible_agency_ids=_scope_ids(),
                )
            except ImportRefused as error:
                refused, status = error, 422
        else:
            status = 400
    return _render("dossiers/import.html", status, form=form, report=report, refused=refused)


@bp.get("/admin/dossiers/<int:dossier_id>")
@requires("view_reports")
def dossier(dossier_id: int) -> tuple[str, int]:
    page = dossier_page(get_session(), dossier_id, current_scope(), settings())
    return _render(
        "dossiers/dossier.html",
        dossier=page.dossier,
        invitation=page.invitation,
        rating=page.rating,
        case=page.complaint,
        expires=page.link_expires_at,
        formats=FORMATS,
    )


@bp.get("/admin/dossiers/<int:dossier_id>/slip.<fmt>")
@requires("manage_service_points")
def slip(dossier_id: int, fmt: str) -> Response:
    if fmt not in FORMATS:
        raise NotFound()
    found = dossier_in_scope(get_session(), dossier_id, current_scope())
    config = settings()
    made = make_slip(
        get_session(), found, config, current_app.config["PUBLIC_BASE_URL"], actor=current_user
    )
    content, mimetype = slip_file(made, fmt, config)
    name = f"{made.dossier.code}.{fmt}"
    disposition = "inline" if fmt != "pdf" else f'attachment; filename="{name}"'
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": disposition})


@bp.post("/admin/dossiers/invitations.csv")
@requires("manage_service_points")
def invitations() -> Response:
    channel = request.form.get("channel", "sms")
    if channel not in ("sms", "zalo"):
        channel = "sms"
    session = get_session()
    rows = [
        {
            "dossier_code": pending.dossier_code,
            "service_point_code": pending.service_point_code,
            "returned_at": pending.returned_at.astimezone(VIETNAM_TIME).isoformat(
                timespec="minutes"
            )
            if pending.returned_at
            else "",
            "link": pending.link,
            "expires_at": pending.expires_at.astimezone(VIETNAM_TIME).isoformat(timespec="minutes")
            if pending.expires_at
            else "",
        }
        for pending in pending_invitations(
            session,
            settings(),
            current_app.config["PUBLIC_BASE_URL"],
            channel=channel,
            visible_agency_ids=_scope_ids(),
            actor=current_user,
        )
    ]
    table = pd.DataFrame(
        rows, columns=["dossier_code", "service_point_code", "returned_at", "link", "expires_at"]
    )
    body = spreadsheets.csv_bytes(table)  # the links are marked as sent when the request commits
    return Response(
        body,
        mimetype=spreadsheets.CSV_MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="invitations-{channel}.csv"',
        },
    )


# --- the official figures ----------------------------------------------------------------------


@bp.get("/admin/dossiers/official")
@requires("view_reports")
def official() -> tuple[str, int]:
    form, first, last = _period()
    session = get_session()
    config = settings()
    scores = official_scores(
        session,
        first,
        last,
        visible_agency_ids=_scope_ids(),
        min_n=current_app.config["MIN_RESPONSES_FOR_INDEX"],
        with_grade=config.criteria_grade,
    )
    counts = invitation_counts(session, first, last)
    return _render("dossiers/official.html", form=form, scores=scores, counts=counts, config=config)


@bp.get("/admin/dossiers/official.csv")
@requires("view_reports")
def official_csv() -> Response:
    _form, first, last = _period()
    scores = official_scores(
        get_session(),
        first,
        last,
        visible_agency_ids=_scope_ids(),
        min_n=current_app.config["MIN_RESPONSES_FOR_INDEX"],
    )
    audit.record(
        get_session(),
        current_user,
        "export.written",
        "official-scores",
        {"from": first, "to": last},
    )
    return Response(
        spreadsheets.csv_bytes(scores.table()),
        mimetype=spreadsheets.CSV_MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="official-scores-{first}-{last}.csv"'
        },
    )


# --- complaints --------------------------------------------------------------------------------


@bp.route("/admin/dossiers/complaints", methods=["GET", "POST"])
@requires("review_responses")
def complaint_list() -> Response | tuple[str, int]:
    state = request.args.get("state", "open")
    if state not in ("open", "overdue", "closed"):
        state = "open"
    form = NewComplaintForm()
    session = get_session()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                case = complaints.open_by_official(
                    session,
                    dossier_code=form.dossier_code.data or "",
                    agency_id=form.agency_id.data,
                    description=form.description.data,
                    settings=settings(),
                    actor=current_user,
                    scope=current_scope(),
                )
            except DomainError as error:
                form.description.errors = [error.message(current_language())]
                status = 422 if isinstance(error, NotFound) else status_of(error)
            else:
                return redirect(url_for(".complaint", complaint_id=case.id))
        else:
            status = 400
    ids = _scope_ids()
    return _render(
        "dossiers/complaints.html",
        status,
        cases=complaints.cases(session, ids, state=state),
        state=state,
        form=form,
        agencies=agencies_by_code(session, ids),
        now=_now(),
    )


@bp.get("/admin/dossiers/complaints/<int:complaint_id>")
@requires("review_responses")
def complaint(complaint_id: int) -> tuple[str, int]:
    case = complaints.case_in_scope(get_session(), complaint_id, current_scope())
    return _render("dossiers/complaint.html", case=case, form=NoteForm(), now=_now())


@bp.post("/admin/dossiers/complaints/<int:complaint_id>/<action>")
@requires("review_responses")
def complaint_action(complaint_id: int, action: str) -> Response | tuple[str, int]:
    if action not in ("note", "close"):
        raise NotFound()
    session = get_session()
    case = complaints.case_in_scope(session, complaint_id, current_scope())
    form = NoteForm()
    if not form.validate_on_submit():
        return _render("dossiers/complaint.html", 400, case=case, form=form, now=_now())
    try:
        if action == "note":
            complaints.add_note(session, case, form.text.data, current_user)
        else:
            complaints.close(session, case, form.text.data, current_user)
    except DomainError as error:
        form.text.errors = [error.message(current_language())]
        return _render(
            "dossiers/complaint.html", status_of(error), case=case, form=form, now=_now()
        )
    flash(_("Saved."))
    return redirect(url_for(".complaint", complaint_id=complaint_id))


# --- clerks ------------------------------------------------------------------------------------


@bp.route("/admin/dossiers/staff", methods=["GET", "POST"])
@requires("review_responses")
def staff() -> tuple[str, int]:
    request.max_content_length = 8 * 1024 * 1024
    form, first, last = _period()
    upload = UploadForm()
    report, refused, status = None, None, 200
    session = get_session()
    if request.method == "POST":
        if upload.validate_on_submit():
            try:
                report = import_staff(
                    session,
                    upload.file.data.stream,
                    filename=upload.file.data.filename,
                    visible_agency_ids=_scope_ids(),
                    actor=current_user,
                )
            except ImportRefused as error:
                refused, status = error, 422
        else:
            status = 400
    min_ratings = settings().staff_min_ratings
    results = clerk_results(
        session, first, last, visible_agency_ids=_scope_ids(), min_ratings=min_ratings
    )
    return _render(
        "dossiers/staff.html",
        status,
        form=form,
        upload=upload,
        results=results,
        min_ratings=min_ratings,
        report=report,
        refused=refused,
    )


@bp.route("/admin/dossiers/staff/<int:staff_id>", methods=["GET", "POST"])
@requires("review_responses")
def staff_member(staff_id: int) -> Response | tuple[str, int]:
    session = get_session()
    member = staff_in_scope(session, staff_id, current_scope())
    form = StaffForm(obj=member)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                update_staff(
                    session,
                    member,
                    name=form.name.data,
                    active_from=form.active_from.data,
                    active_to=form.active_to.data,
                    actor=current_user,
                )
            except DomainError as error:
                form.name.errors = [error.message(current_language())]
                return _render("dossiers/staff_member.html", 422, member=member, form=form)
            flash(_("Saved."))
            return redirect(url_for(".staff"))
        return _render("dossiers/staff_member.html", 400, member=member, form=form)
    return _render("dossiers/staff_member.html", member=member, form=form)


# --- comments that name a person ---------------------------------------------------------------


@bp.get("/admin/dossiers/reviews")
@requires("review_responses")
def comment_reviews() -> tuple[str, int]:
    return _render(
        "dossiers/reviews.html",
        reviews=reviews.pending(get_session(), _scope_ids()),
        confirm=ConfirmForm(),
    )


@bp.post("/admin/dossiers/reviews/<int:review_id>")
@requires("review_responses")
def decide_review(review_id: int) -> Response:
    reviews.decide(  # the form's CSRF token is checked by CSRFProtect for every POST
        get_session(),
        review_id,
        request.form.get("decision", ""),
        actor=current_user,
        scope=current_scope(),
    )
    flash(_("Saved."))
    return redirect(url_for(".comment_reviews"))
