"""One dossier as officials look it up: by id or by its code, within their scope, and what its
page shows (the link, the rating, the latest complaint)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.services.access import Scope
from survey.services.dossiers.codes import parse_dossier_code
from survey.services.dossiers.links import expires_at
from survey.services.dossiers.settings import DossierSettings
from survey.services.errors import NotFound
from survey.storage import queries
from survey.storage.models import Complaint, Dossier, DossierInvitation, DossierRating


def dossier_in_scope(session: Session, dossier_id: int, scope: Scope) -> Dossier:
    """The dossier; NotFound when it does not exist or its service point is outside ``scope``
    (the same answer either way, so other scopes' dossiers cannot be probed)."""
    dossier = queries.dossier_by_id(session, dossier_id)
    if dossier is None or not scope.allows_point(dossier.service_point):
        raise NotFound()
    return dossier


def find_dossier(session: Session, text: str, scope: Scope) -> Dossier | None:
    """The dossier whose code is ``text`` (checked and normalised first: InvalidDossierCode
    says what is wrong with it), or None when there is none within ``scope``."""
    dossier = queries.dossier_by_code(session, parse_dossier_code(text).code)
    if dossier is None or not scope.allows_point(dossier.service_point):
        return None
    return dossier


@dataclass(frozen=True, kw_only=True)
class DossierPage:
    dossier: Dossier
    invitation: DossierInvitation | None
    rating: DossierRating | None
    complaint: Complaint | None  # the latest
    link_expires_at: dt.datetime | None


def dossier_page(
    session: Session, dossier_id: int, scope: Scope, settings: DossierSettings
) -> DossierPage:
    dossier = dossier_in_scope(session, dossier_id, scope)
    return DossierPage(
        dossier=dossier,
        invitation=queries.invitation_of_dossier(session, dossier.id),
        rating=queries.dossier_rating(session, dossier.id),
        complaint=queries.latest_complaint_of_dossier(session, dossier.id),
        link_expires_at=expires_at(dossier, settings),
    )
