"""Administrator views: thin — validate, call a service, render."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import UserMixin, login_required, login_user, logout_user
from werkzeug import Response

from survey.admin import admin_blueprint as bp
from survey.admin.forms import SignInForm, SignOutForm
from survey.extensions import get_session, login_manager
from survey.services import qr
from survey.services.accounts import authenticate
from survey.services.errors import NotFound
from survey.services.overview import response_overview
from survey.storage import queries
from survey.storage.models import User

login_manager.login_view = "admin.sign_in"


class SignedInUser(UserMixin):
    """What Flask-Login keeps of an official: no database object outlives its request."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.role = user.role


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    if not user_id.isdigit():
        return None
    user = queries.user_by_id(get_session(), int(user_id))
    return SignedInUser(user) if user is not None and user.active else None


def _language() -> str:
    locale = get_locale()
    return locale.language if locale else "vi"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for(".dashboard")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int]:
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(get_session(), form.username.data, form.password.data)
        if user is not None:
            login_user(SignedInUser(user))
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong username or password."))
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/sign_in.html", form=form, language=_language()), status


@bp.post("/sign-out")
@login_required
def sign_out() -> Response:
    if SignOutForm().validate_on_submit():
        logout_user()
    return redirect(url_for("public.index"))


@bp.get("/")
@login_required
def dashboard() -> str:
    overview = response_overview(get_session())
    return render_template(
        "admin/dashboard.html", overview=overview, language=_language(), sign_out=SignOutForm()
    )


@bp.get("/agencies")
@login_required
def agencies() -> str:
    rows = queries.agencies_with_point_counts(get_session())
    return render_template(
        "admin/agencies.html", rows=rows, language=_language(), sign_out=SignOutForm()
    )


@bp.get("/agencies/<int:agency_id>")
@login_required
def agency(agency_id: int) -> str:
    session = get_session()
    found = queries.agency_by_id(session, agency_id)
    if found is None:
        raise NotFound()
    points = queries.service_points_of_agency(session, agency_id)
    base = current_app.config["PUBLIC_BASE_URL"]
    urls = {point.id: qr.service_point_url(base, point) for point in points}
    return render_template(
        "admin/agency.html",
        agency=found,
        points=points,
        urls=urls,
        language=_language(),
        sign_out=SignOutForm(),
    )


@bp.get("/agencies/<int:agency_id>/posters.pdf")
@login_required
def agency_posters(agency_id: int) -> Response:
    session = get_session()
    points = queries.service_points_of_agency(session, agency_id)
    if not points:
        raise NotFound("Cơ quan này chưa có điểm phục vụ.", "This agency has no service points.")
    pdf = qr.poster_sheet_pdf(current_app.config["PUBLIC_BASE_URL"], points)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=qr-posters-{points[0].agency.code}.pdf"},
    )


@bp.get("/service-points/<code>/qr.<fmt>")
@login_required
def service_point_qr(code: str, fmt: str) -> Response:
    point = queries.service_point_by_code(get_session(), code)
    if point is None or fmt not in ("png", "svg"):
        raise NotFound()
    url = qr.service_point_url(current_app.config["PUBLIC_BASE_URL"], point)
    if fmt == "png":
        return Response(qr.qr_png(url), mimetype="image/png")
    return Response(qr.qr_svg(url), mimetype="image/svg+xml")
