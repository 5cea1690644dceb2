"""Administrator pages for kiosks (register, pair, revoke) and flagged responses (decide)."""

from __future__ import annotations

import base64
import datetime as dt

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug import Response
from wtforms.fields.choices import SelectChoice

from survey.admin import kiosk_admin_blueprint as bp
from survey.admin.forms import ConfirmForm, DecisionForm, RegisterKioskForm, SignOutForm
from survey.auth import current_scope, requires
from survey.errors import status_of
from survey.extensions import get_session
from survey.i18n import current_language
from survey.services import qr
from survey.services.access import visible_agency_ids
from survey.services.errors import DomainError
from survey.services.integrity import (
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
    IntegritySettings,
    default_scan_days,
    flagged_responses,
    may_decide,
    record_decision,
    scan_for_anomalies,
)
from survey.services.kiosks import (
    PairingCode,
    find_kiosk,
    kiosks_in_scope,
    new_pairing_code,
    points_for_new_kiosks,
    register_kiosk,
    revoke_kiosk,
)

FLAG_NAMES = {
    "too_fast": _l("Too soon after the previous answer on this kiosk"),
    "identical_burst": _l("Burst of identical answers"),
    "implausible_rate": _l("More answers than the point serves"),
    "implausible_time": _l("Device time this kiosk cannot have queued"),
}
FLAG_DETAILS = {
    "too_fast": _l("%(seconds)s s after another answer on the same kiosk (minimum %(minimum)s s)"),
    "identical_burst": _l(
        "%(count)s identical answer sets at this point within %(minutes)s minutes "
        "(threshold %(threshold)s)"
    ),
    "implausible_rate": _l(
        "%(count)s answers at this point in one hour (plausible at most %(limit)s)"
    ),
    "implausible_time": _l(
        "The tablet's time was %(hours)s h from the arrival (before its pairing, older than the "
        "offline window or ahead of the server); counted at its arrival time"
    ),
}
STATUS_NAMES = {"open": _l("To decide"), "decided": _l("Decided"), "all": _l("All")}


def _point_choices(language: str) -> list[SelectChoice]:
    return [
        SelectChoice(
            point.id,
            f"{point.agency.name_vi if language == 'vi' else point.agency.name_en} — "
            f"{point.name_vi if language == 'vi' else point.name_en}",
        )
        for point in points_for_new_kiosks(get_session(), current_scope())
    ]


def _render_kiosks(form: RegisterKioskForm, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "admin/kiosks.html",
            kiosks=kiosks_in_scope(get_session(), current_scope()),
            form=form,
            confirm=ConfirmForm(),
            language=current_language(),
            sign_out=SignOutForm(),
            now=dt.datetime.now(dt.UTC),
        ),
        status,
    )


def _show_pairing(pairing: PairingCode, label: str) -> Response:
    code = pairing.code.replace("-", "")
    link = f"{current_app.config['PUBLIC_BASE_URL']}{url_for('kiosk.pair_page', code=code)}"
    png = base64.b64encode(qr.qr_png(link)).decode()
    html = render_template(
        "admin/kiosks_pairing.html",
        pairing=pairing,
        label=label,
        link=link,
        pair_url=f"{current_app.config['PUBLIC_BASE_URL']}{url_for('kiosk.pair_page')}",
        qr_data_uri="data:image/png;base64," + png,
        language=current_language(),
        sign_out=SignOutForm(),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/kiosks")
@requires("manage_kiosks")
def kiosks() -> tuple[str, int]:
    form = RegisterKioskForm()
    form.service_point.choices = _point_choices(current_language())
    return _render_kiosks(form)


@bp.post("/kiosks")
@requires("manage_kiosks")
def register() -> Response | tuple[str, int]:
    form = RegisterKioskForm()
    form.service_point.choices = _point_choices(current_language())
    if not form.validate_on_submit():
        return _render_kiosks(form, 400)
    try:
        pairing = register_kiosk(
            get_session(),
            service_point_id=form.service_point.data,
            label=form.label.data,
            user_id=current_user.id,
        )
    except DomainError as error:
        form.label.errors = [error.message(current_language())]
        return _render_kiosks(form, status_of(error))
    return _show_pairing(pairing, form.label.data.strip())


@bp.post("/kiosks/<int:kiosk_id>/pairing-code")
@requires("manage_kiosks", kiosk_arg="kiosk_id")
def pairing_code(kiosk_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".kiosks"))
    session = get_session()
    pairing = new_pairing_code(session, kiosk_id, user_id=current_user.id)
    return _show_pairing(pairing, find_kiosk(session, kiosk_id).label)


@bp.post("/kiosks/<int:kiosk_id>/revoke")
@requires("manage_kiosks", kiosk_arg="kiosk_id")
def revoke(kiosk_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        revoke_kiosk(get_session(), kiosk_id, current_user.id)
        flash(_("The kiosk was revoked: it can no longer send answers."))
    return redirect(url_for(".kiosks"))


@bp.get("/flags")
@requires("review_responses")
def flags() -> str:
    status = request.args.get("status", "open")
    if status not in STATUS_NAMES:
        status = "open"
    return render_template(
        "admin/flags.html",
        flagged=flagged_responses(
            get_session(), status, agency_ids=visible_agency_ids(get_session(), current_scope())
        ),
        status=status,
        status_names=STATUS_NAMES,
        flag_names=FLAG_NAMES,
        flag_details=FLAG_DETAILS,
        can_decide=lambda row: may_decide(current_user.role, current_user.sector, row.sector),
        decision_form=DecisionForm(),
        confirm=ConfirmForm(),
        language=current_language(),
        sign_out=SignOutForm(),
        scan_days=default_scan_days(IntegritySettings.from_config(current_app.config)),
    )


@bp.post("/flags/<int:response_id>/decision")
@requires("review_responses", response_arg="response_id")
def decide(response_id: int) -> Response:
    form = DecisionForm()
    if form.validate_on_submit():
        record_decision(
            get_session(),
            response_id=response_id,
            exclude=form.decision.data == "exclude",
            reason=form.reason.data,
            user_id=current_user.id,
        )
        flash(_("Decision recorded for response %(id)s.", id=response_id))
    else:
        flash(
            _(
                "Choose a decision and give a reason (%(low)s–%(high)s characters).",
                low=REASON_MIN_LENGTH,
                high=REASON_MAX_LENGTH,
            )
        )
    return redirect(url_for(".flags"))


@bp.post("/flags/scan")
@requires("review_responses")
def scan() -> Response:
    if ConfirmForm().validate_on_submit():
        settings = IntegritySettings.from_config(current_app.config)
        end = dt.datetime.now(dt.UTC)
        result = scan_for_anomalies(
            get_session(), end - dt.timedelta(days=default_scan_days(settings)), end, settings
        )
        flash(
            _(
                "%(checked)s responses checked, %(added)s new flags.",
                checked=result.checked,
                added=result.flags_added,
            )
        )
    return redirect(url_for(".flags"))
