"""Administrator views: thin — validate, call a service, render.

Sign-in, sign-out, one's own password, users and the audit log are in account_views.py.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug import Response

from survey.admin import admin_blueprint as bp
from survey.admin.forms import ConfirmForm, SignOutForm, TargetForm
from survey.auth import current_scope, requires
from survey.extensions import get_session
from survey.i18n import current_language
from survey.services import qr
from survey.services.access import visible_agency_ids
from survey.services.agencies import agencies_with_point_counts, find_agency, service_points_of
from survey.services.errors import NotFound
from survey.services.overview import response_overview
from survey.services.service_points import find_service_point, retire_service_point
from survey.services.targets import add_target, delete_target, targets_in_scope


@bp.get("/")
@requires("view_reports")
def dashboard() -> str:
    session = get_session()
    overview = response_overview(session, agency_ids=visible_agency_ids(session, current_scope()))
    return render_template(
        "admin/dashboard.html",
        overview=overview,
        language=current_language(),
        sign_out=SignOutForm(),
    )


@bp.get("/agencies")
@requires("view_reports")
def agencies() -> str:
    session = get_session()
    rows = agencies_with_point_counts(session, visible_agency_ids(session, current_scope()))
    return render_template(
        "admin/agencies.html", rows=rows, language=current_language(), sign_out=SignOutForm()
    )


@bp.get("/agencies/<int:agency_id>")
@requires("view_reports", agency_arg="agency_id")
def agency(agency_id: int) -> str:
    session = get_session()
    found = find_agency(session, agency_id)
    points = service_points_of(session, agency_id)
    base = current_app.config["PUBLIC_BASE_URL"]
    urls = {point.id: qr.service_point_url(base, point) for point in points}
    return render_template(
        "admin/agency.html",
        agency=found,
        points=points,
        urls=urls,
        confirm=ConfirmForm(),
        language=current_language(),
        sign_out=SignOutForm(),
    )


@bp.get("/agencies/<int:agency_id>/posters.pdf")
@requires("view_reports", agency_arg="agency_id")
def agency_posters(agency_id: int) -> Response:
    points = service_points_of(get_session(), agency_id)
    if not points:
        raise NotFound("Cơ quan này chưa có điểm phục vụ.", "This agency has no service points.")
    pdf = qr.poster_sheet_pdf(current_app.config["PUBLIC_BASE_URL"], points)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=qr-posters-{points[0].agency.code}.pdf"},
    )


@bp.get("/service-points/<code>/qr.<fmt>")
@requires("view_reports", point_arg="code")
def service_point_qr(code: str, fmt: str) -> Response:
    if fmt not in ("png", "svg"):
        raise NotFound()
    point = find_service_point(get_session(), code)
    url = qr.service_point_url(current_app.config["PUBLIC_BASE_URL"], point)
    if fmt == "png":
        return Response(qr.qr_png(url), mimetype="image/png")
    return Response(qr.qr_svg(url), mimetype="image/svg+xml")


@bp.route("/targets", methods=["GET", "POST"])
@requires("manage_targets")
def targets() -> Response | tuple[str, int]:
    session = get_session()
    form = TargetForm()
    status = 200
    if form.validate_on_submit():
        add_target(
            session,
            current_user,
            current_scope(),
            sector=form.sector.data or None,
            first=form.first.data,
            last=form.last.data,
            low=float(form.low.data) / 100,
            high=float(form.high.data) / 100 if form.high.data is not None else None,
            description=form.description.data,
            source=form.source.data or "",
        )
        flash(_("The target was added."))
        return redirect(url_for(".targets"))
    if request.method == "POST":
        status = 422
    return render_template(
        "admin/targets.html",
        form=form,
        targets=targets_in_scope(session, current_scope()),
        confirm=ConfirmForm(),
        language=current_language(),
    ), status


@bp.post("/targets/<int:target_id>/delete")
@requires("manage_targets")
def delete_target_view(target_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        delete_target(get_session(), current_user, current_scope(), target_id)
        flash(_("The target was removed."))
    return redirect(url_for(".targets"))


@bp.post("/service-points/<code>/retire")
@requires("manage_service_points", point_arg="code")
def retire_point(code: str) -> Response:
    agency_id = find_service_point(get_session(), code).agency_id
    if ConfirmForm().validate_on_submit():
        retire_service_point(get_session(), current_user, code)
        flash(_("The service point was closed; its answers stay in the reports."))
    return redirect(url_for(".agency", agency_id=agency_id))
