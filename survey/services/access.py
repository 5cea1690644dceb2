"""Who may see and do what: role scopes over the agency hierarchy, and route policies.

Roles (``User.role``) and their scope:

* ``province_admin`` — everything, may manage.
* ``sector_admin`` — every agency whose ``Agency.sector`` is the user's ``sector`` (the Department
  of Health sees every hospital, not the communes' desks), may manage.
* ``agency_manager`` — ``User.scope_agency`` and its sub-units (descendants through
  ``Agency.parent``, any depth), may manage. The subtree also takes in retired agencies whose
  ``successor`` is inside it, with their own sub-units: the manager of a merged commune sees the
  history of the communes it replaced.
* ``viewer`` — read-only reports for a sector (``sector``) or an agency subtree (``scope_agency``).

Every view declares a policy with ``@requires(permission, agency_arg=…, point_arg=…)`` or
``@public_route``; the authorization matrix test fails for a route that declares none.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy.orm import Session

from survey.services.accounts import SessionTimes, session_has_expired
from survey.services.errors import DomainError, NotFound
from survey.services.hierarchy import agency_subtree
from survey.storage import queries
from survey.storage.models import ROLES, Agency, ServicePoint

log = logging.getLogger(__name__)

ALL_ROLES = frozenset(ROLES)
MANAGING_ROLES = frozenset({"province_admin", "sector_admin", "agency_manager"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "signed_in": ALL_ROLES,  # own account: sign out, change password
    "view_reports": ALL_ROLES,  # pages, reports, exports, PDFs, QR codes within the scope
    "manage_service_points": MANAGING_ROLES,
    "manage_kiosks": MANAGING_ROLES,
    "review_responses": MANAGING_ROLES,  # flag decisions, excluding responses
    "manage_targets": frozenset({"province_admin", "sector_admin"}),
    "manage_users": frozenset({"province_admin"}),
    "view_audit": frozenset({"province_admin"}),
    "province_admin": frozenset({"province_admin"}),
}

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "seen_at"
SESSION_EPOCH = "epoch"

V = TypeVar("V", bound=Callable[..., Any])


class ScopedUser(Protocol):
    role: str
    sector: str | None
    scope_agency_id: int | None


class Forbidden(DomainError):
    message_vi = "Bạn không có quyền xem hay thực hiện thao tác này."
    message_en = "You are not allowed to see this or do this."


class OutOfScope(Forbidden):
    message_vi = "Nội dung này nằm ngoài phạm vi được giao cho tài khoản của bạn."
    message_en = "This is outside the scope of your account."


@dataclass(frozen=True)
class Scope:
    """What a user may see. Exactly one of ``everything``, ``sector``, ``agency_ids`` applies."""

    everything: bool
    sector: str | None  # sector administrators / sector viewers
    agency_ids: frozenset[int] | None  # agency subtree (already expanded to descendants), or None
    can_manage: bool  # False for viewers (read-only)

    def allows_agency(self, agency_id: int, sector: str) -> bool:
        if self.everything:
            return True
        if self.sector is not None:
            return sector == self.sector
        return self.agency_ids is not None and agency_id in self.agency_ids

    def allows(self, agency: Agency) -> bool:
        return self.allows_agency(agency.id, agency.sector)

    def allows_point(self, point: ServicePoint) -> bool:
        return self.allows(point.agency)


NOTHING = Scope(everything=False, sector=None, agency_ids=frozenset(), can_manage=False)


def scope_for(session: Session, user: ScopedUser | None) -> Scope:
    """The scope of a user (a ``User`` or the signed-in user); ``NOTHING`` for unknown roles."""
    if user is None or getattr(user, "role", None) not in ALL_ROLES:
        return NOTHING
    can_manage = user.role in MANAGING_ROLES
    if user.role == "province_admin":
        return Scope(everything=True, sector=None, agency_ids=None, can_manage=True)
    if user.role in ("sector_admin", "viewer") and user.sector:
        return Scope(everything=False, sector=user.sector, agency_ids=None, can_manage=can_manage)
    if user.role in ("agency_manager", "viewer") and user.scope_agency_id is not None:
        return Scope(
            everything=False,
            sector=None,
            agency_ids=agency_subtree(session, user.scope_agency_id),
            can_manage=can_manage,
        )
    return NOTHING


def visible_agency_ids(session: Session, scope: Scope) -> frozenset[int] | None:
    """The ids of every agency the scope allows, or None when it allows everything.

    For queries: ``select(...).where(Agency.id.in_(ids))`` unless ``ids is None``.
    """
    if scope.everything:
        return None
    if scope.sector is not None:
        return frozenset(
            row.id for row in queries.agency_links(session) if row.sector == scope.sector
        )
    return scope.agency_ids or frozenset()


def current_scope() -> Scope:
    """The scope of the signed-in user of this request (``NOTHING`` when nobody is signed in)."""
    if "survey_scope" not in g:
        from survey.extensions import get_session

        user = current_user if current_user.is_authenticated else None
        g.survey_scope = scope_for(get_session(), user) if user is not None else NOTHING
    scope: Scope = g.survey_scope
    return scope


def can(permission: str) -> bool:
    """Whether the signed-in user's role has this permission (for templates: nav links)."""
    return bool(current_user.is_authenticated and current_user.role in PERMISSIONS[permission])


def ensure_agency_allowed(agency: Agency) -> None:
    """For views that find an agency themselves: 403 unless it is within the current scope."""
    if not current_scope().allows(agency):
        raise OutOfScope()


def ensure_point_allowed(point: ServicePoint) -> None:
    if not current_scope().allows_point(point):
        raise OutOfScope()


# --- route policies ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutePolicy:
    """What a view requires. ``permission`` None: public (no sign-in)."""

    permission: str | None
    agency_arg: str | None = None  # URL argument holding an agency id
    point_arg: str | None = None  # URL argument holding a service point's public code or id
    json: bool = False  # answer 401/403 as JSON (API and kiosk JSON routes; /api/ always)
    kiosk_arg: str | None = None  # URL argument holding a kiosk id
    response_arg: str | None = None  # URL argument holding a response id
    report_args: tuple[str, str] | None = None  # URL arguments (kind, key) of a report scope

    @property
    def scoped_arguments(self) -> tuple[str, ...]:
        names = (self.agency_arg, self.point_arg, self.kiosk_arg, self.response_arg)
        return tuple(name for name in names if name) + (self.report_args or ())

    @property
    def roles(self) -> frozenset[str]:
        return ALL_ROLES if self.permission is None else PERMISSIONS[self.permission]


POLICY_ATTRIBUTE = "access_policy"


def policy_of(view: Callable[..., Any]) -> RoutePolicy | None:
    return getattr(view, POLICY_ATTRIBUTE, None)


def public_route(view: V) -> V:
    """Declare a view open to everyone (the citizen's form, sign-in, kiosk device routes that
    check their own device token)."""
    setattr(view, POLICY_ATTRIBUTE, RoutePolicy(permission=None))
    return view


def _wants_json(policy: RoutePolicy) -> bool:
    return policy.json or request.path.startswith("/api/")


def _refuse(policy: RoutePolicy, error: Forbidden) -> Any:
    if _wants_json(policy):
        body = {
            "error": "forbidden",
            "message_vi": error.message_vi,
            "message_en": error.message_en,
        }
        return jsonify(body), 403
    raise error


def _check_target(policy: RoutePolicy, arguments: dict[str, Any]) -> bool:
    """False when the URL names an agency or service point outside the user's scope."""
    from survey.extensions import get_session

    scope = current_scope()
    if scope.everything:
        return True
    if policy.agency_arg is not None:
        value = arguments.get(policy.agency_arg)
        agency = queries.agency_by_id(get_session(), int(value)) if value is not None else None
        if agency is not None and not scope.allows(agency):
            return False
    if policy.point_arg is not None:
        value = arguments.get(policy.point_arg)
        point: ServicePoint | None = None
        if isinstance(value, int):
            point = queries.service_point_by_id(get_session(), value)
        elif isinstance(value, str):
            point = queries.service_point_by_code(get_session(), value)
        if point is not None and not scope.allows_point(point):
            return False
    if policy.kiosk_arg is not None:
        kiosk = queries.kiosk_by_id(get_session(), int(arguments[policy.kiosk_arg]))
        if kiosk is not None and not scope.allows_point(kiosk.service_point):
            return False
    if policy.response_arg is not None:
        response = queries.response_by_id(get_session(), int(arguments[policy.response_arg]))
        if response is not None and not scope.allows_point(response.service_point):
            return False
    if policy.report_args is not None:
        kind_arg, key_arg = policy.report_args
        return report_allowed(scope, str(arguments.get(kind_arg)), str(arguments.get(key_arg)))
    return True


MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL


def _names_an_impossible_id(policy: RoutePolicy, arguments: dict[str, Any]) -> bool:
    """Any integer in the URL beyond what a primary key can hold (a 404, not a database error)."""
    return any(
        isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_ID
        for value in arguments.values()
    )


def report_allowed(scope: Scope, kind: str, key: str) -> bool:
    """Whether a report scope (``province``/``all``, ``sector``/<sector>, ``agency``/<code>) is
    within the user's scope; an unknown agency code is left to the view (404)."""
    from survey.extensions import get_session

    if scope.everything:
        return True
    if kind == "sector":
        return scope.sector is not None and key == scope.sector
    if kind == "agency":
        agency = queries.agency_by_code(get_session(), key)
        return agency is None or scope.allows(agency)
    return False  # the whole province, or an unknown kind


def requires(
    permission: str,
    *,
    agency_arg: str | None = None,
    point_arg: str | None = None,
    json: bool = False,
    kiosk_arg: str | None = None,
    response_arg: str | None = None,
    report_args: tuple[str, str] | None = None,
) -> Callable[[V], V]:
    """Declare and enforce a view's policy: signed in, a role with ``permission``, and (with
    ``agency_arg``/``point_arg``/``kiosk_arg``/``response_arg``/``report_args``) the agency,
    service point, kiosk, response or report scope named in the URL inside the user's scope.

    Not signed in: a redirect to the sign-in page, or 401 JSON for ``json=True`` and ``/api/``.
    Signed in without the right: the bilingual 403 page (or 403 JSON). Put it under ``@bp.route``.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {sorted(PERMISSIONS)}")
    policy = RoutePolicy(
        permission, agency_arg, point_arg, json, kiosk_arg, response_arg, report_args
    )

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if _wants_json(policy):
                    body = {
                        "error": "unauthorized",
                        "message_vi": "Vui lòng đăng nhập.",
                        "message_en": "Please sign in.",
                    }
                    return jsonify(body), 401
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.role not in policy.roles:
                return _refuse(policy, Forbidden())
            if _names_an_impossible_id(policy, kwargs):
                raise NotFound()  # no row can have it (and the database would refuse it)
            if not _check_target(policy, kwargs):
                return _refuse(policy, OutOfScope())
            return view(*args, **kwargs)

        setattr(guarded, POLICY_ATTRIBUTE, policy)
        return guarded  # type: ignore[return-value]

    return decorate


# --- signed-in sessions ---------------------------------------------------------------------


def start_session_clock(session_epoch: int = 0) -> None:
    """Call right after ``login_user``: the session's sign-in and last-seen times, and the
    user's ``session_epoch`` (the session ends once the user's moves on: sign-out elsewhere,
    password change or reset, disabling, role change)."""
    now = time.time()
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    session[SESSION_EPOCH] = session_epoch
    session.permanent = True


def _session_times() -> SessionTimes | None:
    started, seen = session.get(SIGNED_IN_AT), session.get(LAST_SEEN_AT)
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return None
    return SessionTimes(float(started), float(seen))


def _session_was_revoked() -> bool:
    """A session signed in before the user's sessions were revoked. A session without the
    number counts as 0, the number of a user whose sessions were never revoked."""
    return session.get(SESSION_EPOCH, 0) != getattr(current_user, "session_epoch", 0)


def _end_expired_sessions() -> None:
    if "_user_id" not in session or not current_user.is_authenticated:
        return
    now = time.time()
    config = current_app.config
    times = _session_times()
    if _session_was_revoked() or session_has_expired(
        times,
        now,
        idle=config["SESSION_IDLE_TIMEOUT"],
        absolute=config["PERMANENT_SESSION_LIFETIME"],
        password_changed_at=getattr(current_user, "password_changed_at", None),
    ):
        logout_user()
        session.clear()
        g.pop("survey_scope", None)
        flash(str(_l("Your session has ended. Please sign in again.")))
        return
    if times is not None and now - times.last_seen_at > 30:
        session[LAST_SEEN_AT] = now


PASSWORD_CHANGE_ENDPOINTS = frozenset({"admin.change_password", "admin.sign_out", "static"})


def _require_a_new_password() -> Any:
    """After a password reset, the user's own password first: every other page sends them to
    the password change page (JSON routes answer 403)."""
    if not current_user.is_authenticated or not getattr(
        current_user, "must_change_password", False
    ):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    policy = policy_of(view) if view is not None else None
    if request.endpoint in PASSWORD_CHANGE_ENDPOINTS or policy is None or policy.permission is None:
        return None  # public pages (the citizen's form, sign-in) stay as they are
    message_vi = "Vui lòng đặt mật khẩu của riêng bạn trước khi tiếp tục."
    message_en = "Please choose your own password before going on."
    if request.path.startswith("/api/") or request.is_json:
        body = {"error": "password_change_required", "message_vi": message_vi}
        return jsonify({**body, "message_en": message_en}), 403
    flash(str(_l("Please choose your own password before going on.")))
    return redirect(url_for("admin.change_password"))


def safe_redirect_target(target: str | None, default: str) -> str:
    r"""``target`` when it is a path of this site, else ``default`` (for ``?next=`` after sign-in).

    Refused, since a browser could read them as another site or they could split a header:
    anything but printable ASCII (browsers drop tabs and newlines, so ``/\t/evil`` is
    ``//evil``), backslashes (read as slashes), a start other than a single ``/`` (``//host``,
    ``/\host``, ``https:``, ``javascript:``), and anything with a scheme or host once parsed.
    """
    if not target or len(target) > 2000:
        return default
    if any(not ("!" <= char <= "~") for char in target) or "\\" in target:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _refuse_undeclared_routes() -> Any:
    """Defence in depth: a route without a declared policy answers 403 (and is logged)."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    view = current_app.view_functions.get(endpoint)
    if view is not None and policy_of(view) is None:
        log.error("route %s has no access policy: add @requires(...) or @public_route", endpoint)
        return _refuse(RoutePolicy("province_admin"), Forbidden())
    return None


def init_app(app: Flask) -> None:
    """Session expiry, Flask-Login's messages, and ``can()`` in templates."""
    from survey.extensions import login_manager

    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str
    app.before_request(_end_expired_sessions)
    app.before_request(_require_a_new_password)
    if app.config.get("ACCESS_DEFAULT_DENY", True):
        app.before_request(_refuse_undeclared_routes)

    @app.context_processor
    def access_helpers() -> dict[str, Any]:
        return {"can": can}
