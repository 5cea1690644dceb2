"""Who may see and do what: roles, their permissions and their scopes over the agency hierarchy.

Roles (``User.role``) and their scope:

* ``province_admin`` — everything, may manage.
* ``sector_admin`` — every agency whose ``Agency.sector`` is the user's ``sector`` (the Department
  of Health sees every hospital, not the communes' desks), may manage.
* ``agency_manager`` — ``User.scope_agency`` and its sub-units (descendants through
  ``Agency.parent``, any depth), may manage. The subtree also takes in retired agencies whose
  ``successor`` is inside it, with their own sub-units: the manager of a merged commune sees the
  history of the communes it replaced.
* ``viewer`` — read-only reports for a sector (``sector``) or an agency subtree (``scope_agency``).

Every check here takes the scope explicitly; the web layer (``survey/auth.py``) finds the
signed-in user's scope and enforces each route's policy (``@requires``/``@public_route``) with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from survey.services.errors import DomainError
from survey.services.hierarchy import agency_subtree
from survey.storage import queries
from survey.storage.models import ROLES, Agency, ServicePoint

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


def role_may(role: str | None, permission: str) -> bool:
    """Whether a role has a permission (``PERMISSIONS``)."""
    return role in PERMISSIONS[permission]


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


def report_allowed(session: Session, scope: Scope, kind: str, key: str) -> bool:
    """Whether a report scope (``province``/``all``, ``sector``/<sector>, ``agency``/<code>) is
    within ``scope``; an unknown agency code is left to the caller (404)."""
    if scope.everything:
        return True
    if kind == "sector":
        return scope.sector is not None and key == scope.sector
    if kind == "agency":
        agency = queries.agency_by_code(session, key)
        return agency is None or scope.allows(agency)
    return False  # the whole province, or an unknown kind


# What a URL names, checked against a scope. Something that does not exist is allowed here and
# left to the view, which answers 404.


def agency_allowed(session: Session, scope: Scope, agency_id: int) -> bool:
    agency = None if scope.everything else queries.agency_by_id(session, agency_id)
    return agency is None or scope.allows(agency)


def point_allowed(session: Session, scope: Scope, point_id_or_code: int | str) -> bool:
    """A service point named by its id or its public code."""
    if scope.everything:
        return True
    if isinstance(point_id_or_code, int):
        point = queries.service_point_by_id(session, point_id_or_code)
    else:
        point = queries.service_point_by_code(session, point_id_or_code)
    return point is None or scope.allows_point(point)


def kiosk_allowed(session: Session, scope: Scope, kiosk_id: int) -> bool:
    kiosk = None if scope.everything else queries.kiosk_by_id(session, kiosk_id)
    return kiosk is None or scope.allows_point(kiosk.service_point)


def response_allowed(session: Session, scope: Scope, response_id: int) -> bool:
    response = None if scope.everything else queries.response_by_id(session, response_id)
    return response is None or scope.allows_point(response.service_point)
