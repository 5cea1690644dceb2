"""Signed-in sessions and route policies: the web side of ``survey.services.access``.

Every view declares a policy with ``@requires(permission, agency_arg=…, point_arg=…)`` or
``@public_route``; a route without one answers 403 (``ACCESS_DEFAULT_DENY``) and the authorization
matrix test fails for it. The roles, their permissions and scopes, and the checks of what a URL
names against a scope are domain rules and live in ``survey/services/access.py``; this module
finds the signed-in user's scope for a request and applies them.

A signed-in session keeps its sign-in and last-seen times and the user's ``session_epoch``; it
ends when idle or too old (``SESSION_IDLE_MINUTES``, ``SESSION_MAX_HOURS``) or once the user's
epoch moves on (sign-out elsewhere, password change or reset, disabling, role change).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, url_for
from flask import session as cookie
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, logout_user

from survey.extensions import get_session, login_manager
from survey.services.access import (
    ALL_ROLES,
    NOTHING,
    PERMISSIONS,
    Forbidden,
    OutOfScope,
    Scope,
    agency_allowed,
    kiosk_allowed,
    point_allowed,
    report_allowed,
    response_allowed,
    role_may,
    scope_for,
)
from survey.services.accounts import SessionTimes, find_user, session_has_expired
from survey.services.errors import NotFound

if TYPE_CHECKING:
    from survey.storage.models import User

log = logging.getLogger(__name__)

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "seen_at"
SESSION_EPOCH = "epoch"

V = TypeVar("V", bound=Callable[..., Any])
LARGEST_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL


class SignedInUser(UserMixin):
    """What Flask-Login keeps of an official: no database object outlives its request."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.role = user.role
        self.sector = user.sector
        self.scope_agency_id = user.scope_agency_id
        self.password_changed_at = user.password_changed_at
        self.session_epoch = user.session_epoch
        self.must_change_password = user.must_change_password


def load_user(user_id: str) -> SignedInUser | None:
    """Flask-Login's user loader: the session's user, if the account still exists and is active."""
    if not user_id.isdigit() or int(user_id) > LARGEST_ID:
        return None
    user = find_user(get_session(), int(user_id))
    return SignedInUser(user) if user is not None and user.active else None


def current_scope() -> Scope:
    """The scope of the signed-in user of this request (``NOTHING`` when nobody is signed in)."""
    if "survey_scope" not in g:
        user = current_user if current_user.is_authenticated else None
        g.survey_scope = scope_for(get_session(), user) if user is not None else NOTHING
    scope: Scope = g.survey_scope
    return scope


def can(permission: str) -> bool:
    """Whether the signed-in user's role has this permission (for templates: nav links)."""
    return bool(current_user.is_authenticated and role_may(current_user.role, permission))


# --- route policies ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutePolicy:
    """What a view requires. ``permission`` None: public (no sign-in)."""

    permission: str | None
    agency_arg: str | None = None  # URL argument holding an agency id
    point_arg: str | None = None  # URL argument holding a service point's public code or id
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


def _check_target(policy: RoutePolicy, arguments: dict[str, Any]) -> bool:
    """False when the URL names an agency, service point, kiosk, response or report scope
    outside the user's scope."""
    scope = current_scope()
    if scope.everything:
        return True
    db = get_session()
    agency_id = arguments.get(policy.agency_arg) if policy.agency_arg else None
    if agency_id is not None and not agency_allowed(db, scope, int(agency_id)):
        return False
    point = arguments.get(policy.point_arg) if policy.point_arg else None
    if isinstance(point, int | str) and not point_allowed(db, scope, point):
        return False
    kiosk_id = arguments[policy.kiosk_arg] if policy.kiosk_arg else None
    if kiosk_id is not None and not kiosk_allowed(db, scope, int(kiosk_id)):
        return False
    response_id = arguments[policy.response_arg] if policy.response_arg else None
    if response_id is not None and not response_allowed(db, scope, int(response_id)):
        return False
    if policy.report_args is not None:
        kind_arg, key_arg = policy.report_args
        return report_allowed(db, scope, str(arguments.get(kind_arg)), str(arguments.get(key_arg)))
    return True


def _names_an_impossible_id(arguments: dict[str, Any]) -> bool:
    """Any integer in the URL beyond what a primary key can hold (a 404, not a database error)."""
    return any(
        isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= LARGEST_ID
        for value in arguments.values()
    )


def requires(
    permission: str,
    *,
    agency_arg: str | None = None,
    point_arg: str | None = None,
    kiosk_arg: str | None = None,
    response_arg: str | None = None,
    report_args: tuple[str, str] | None = None,
) -> Callable[[V], V]:
    """Declare and enforce a view's policy: signed in, a role with ``permission``, and (with
    ``agency_arg``/``point_arg``/``kiosk_arg``/``response_arg``/``report_args``) the agency,
    service point, kiosk, response or report scope named in the URL inside the user's scope.

    Not signed in: a redirect to the sign-in page. Signed in without the right: the bilingual
    403 page. Put it under ``@bp.route``.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {sorted(PERMISSIONS)}")
    policy = RoutePolicy(permission, agency_arg, point_arg, kiosk_arg, response_arg, report_args)

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.role not in policy.roles:
                raise Forbidden()
            if _names_an_impossible_id(kwargs):
                raise NotFound()  # no row can have it (and the database would refuse it)
            if not _check_target(policy, kwargs):
                raise OutOfScope()
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
    cookie[SIGNED_IN_AT] = now
    cookie[LAST_SEEN_AT] = now
    cookie[SESSION_EPOCH] = session_epoch
    cookie.permanent = True


def _session_times() -> SessionTimes | None:
    started, seen = cookie.get(SIGNED_IN_AT), cookie.get(LAST_SEEN_AT)
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return None
    return SessionTimes(float(started), float(seen))


def _session_was_revoked() -> bool:
    """A session signed in before the user's sessions were revoked. A session without the
    number counts as 0, the number of a user whose sessions were never revoked."""
    return cookie.get(SESSION_EPOCH, 0) != getattr(current_user, "session_epoch", 0)


def _end_expired_sessions() -> None:
    if "_user_id" not in cookie or not current_user.is_authenticated:
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
        cookie.clear()
        g.pop("survey_scope", None)
        flash(str(_l("Your session has ended. Please sign in again.")))
        return
    if times is not None and now - times.last_seen_at > 30:
        cookie[LAST_SEEN_AT] = now


PASSWORD_CHANGE_ENDPOINTS = frozenset({"admin.change_password", "admin.sign_out", "static"})


def _require_a_new_password() -> Any:
    """After a password reset, the user's own password first: every other page sends them to
    the password change page."""
    if not current_user.is_authenticated or not getattr(
        current_user, "must_change_password", False
    ):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    policy = policy_of(view) if view is not None else None
    if request.endpoint in PASSWORD_CHANGE_ENDPOINTS or policy is None or policy.permission is None:
        return None  # public pages (the citizen's form, sign-in) stay as they are
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


def _refuse_undeclared_routes() -> None:
    """Defence in depth: a route without a declared policy answers 403 (and is logged)."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return
    view = current_app.view_functions.get(endpoint)
    if view is not None and policy_of(view) is None:
        log.error("route %s has no access policy: add @requires(...) or @public_route", endpoint)
        raise Forbidden()


def init_app(app: Flask) -> None:
    """Flask-Login (user loader, sign-in page, messages), session expiry, the route policies'
    default deny, and ``can()`` in templates."""
    login_manager.user_loader(load_user)
    login_manager.login_view = "admin.sign_in"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str
    app.before_request(_end_expired_sessions)
    app.before_request(_require_a_new_password)
    if app.config.get("ACCESS_DEFAULT_DENY", True):
        app.before_request(_refuse_undeclared_routes)

    @app.context_processor
    def access_helpers() -> dict[str, Any]:
        return {"can": can}
