"""The rating link of a dossier: ``/d/<token>``, single use, unguessable, printed as a QR on the
receipt or sent by SMS/Zalo through the province's gateway.

Token design:

* token = the first 22 characters of base64url(HMAC-SHA256(key, "dossier-rating-link" ‖ dossier id
  ‖ nonce)): 132 bits that cannot be guessed or made without the key (``DOSSIER_LINK_KEY``, by
  default ``SECRET_KEY``); the dossier code never appears in it;
* the database keeps only SHA-256(token) (a look-up key) and the random per-dossier ``nonce``, so a
  copy of the database alone gives no working link; the server re-derives the token when the slip
  is printed again or the link exported, so every channel carries the same link;
* the link works until ``DOSSIER_LINK_DAYS`` (30) days after the dossier is returned (after it is
  cancelled, for a cancelled one) and until it is used for the rating; after the rating it only
  serves the rating of a complaint's handling;
* if the key changes, re-deriving no longer matches the stored hash: the link is reissued (a new
  nonce, audited) and links given out before stop working.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.dossiers.settings import DossierSettings
from survey.services.errors import DomainError
from survey.services.exports import local_day_start
from survey.storage import queries
from survey.storage.models import Dossier, DossierInvitation, utc_now

TOKEN_LENGTH = 22
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")
_PURPOSE = b"dossier-rating-link"


class InvalidLink(DomainError):
    message_vi = (
        "Đường dẫn đánh giá này không hợp lệ. Hãy kiểm tra đã chép đủ đường dẫn, hoặc quét lại mã "
        "QR trên phiếu hẹn."
    )
    message_en = (
        "This rating link is not valid. Check that the whole link was copied, or scan the QR code "
        "on your receipt again."
    )


class LinkExpired(DomainError):
    message_vi = "Đường dẫn đánh giá hồ sơ này đã hết hạn. Cảm ơn Ông/Bà đã quan tâm."
    message_en = "The rating link of this dossier has expired. Thank you for your interest."


def derive_token(key: str, dossier_id: int, nonce: str) -> str:
    message = _PURPOSE + b"\0" + str(dossier_id).encode() + b"\0" + nonce.encode()
    digest = hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOKEN_LENGTH]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def rating_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/d/{token}"


def expires_at(dossier: Dossier, settings: DossierSettings) -> dt.datetime | None:
    """When the link stops working; None while the dossier is not yet returned or cancelled."""
    if dossier.returned_at is not None:
        return dossier.returned_at + dt.timedelta(days=settings.link_days)
    if dossier.status == "cancelled":
        return dossier.status_changed_at + dt.timedelta(days=settings.link_days)
    return None


def link_for(
    session: Session, dossier: Dossier, settings: DossierSettings, *, actor: Any = None
) -> tuple[DossierInvitation, str]:
    """The dossier's invitation and its token, made on first use."""
    invitation = queries.invitation_of_dossier(session, dossier.id)
    if invitation is None:
        nonce = secrets.token_hex(16)
        token = derive_token(settings.link_key, dossier.id, nonce)
        invitation = queries.add_invitation(
            session, dossier_id=dossier.id, nonce=nonce, token_hash=token_hash(token)
        )
        return invitation, token
    token = derive_token(settings.link_key, dossier.id, invitation.nonce)
    if token_hash(token) != invitation.token_hash:  # the key changed since it was issued
        invitation.nonce = secrets.token_hex(16)
        token = derive_token(settings.link_key, dossier.id, invitation.nonce)
        invitation.token_hash = token_hash(token)
        audit.record(session, actor, "dossier.link_reissued", f"dossier:{dossier.id}")
    return invitation, token


@dataclass(frozen=True, kw_only=True)
class OpenedLink:
    invitation: DossierInvitation
    dossier: Dossier
    expires_at: dt.datetime | None


def resolve(
    session: Session,
    token: str,
    settings: DossierSettings,
    *,
    now: dt.datetime | None = None,
    count_open: bool = False,
) -> OpenedLink:
    """The invitation behind a token, or ``InvalidLink`` (malformed, forged, unknown) or
    ``LinkExpired``. ``count_open`` counts a citizen's visit (first time and number)."""
    now = now or utc_now()
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise InvalidLink()
    invitation = queries.invitation_by_token_hash(session, token_hash(token))
    if invitation is None:
        raise InvalidLink()
    dossier = invitation.dossier
    ends = expires_at(dossier, settings)
    if ends is not None and now > ends:
        raise LinkExpired()
    if count_open:
        queries.count_invitation_open(session, invitation.id, now)
    return OpenedLink(invitation=invitation, dossier=dossier, expires_at=ends)


def mark_slip_printed(session: Session, invitation: DossierInvitation) -> None:
    if invitation.slip_printed_at is None:
        invitation.slip_printed_at = utc_now()


def invitation_counts(
    session: Session, first: dt.date, last: dt.date
) -> dict[str, tuple[int, int, int, int, int]]:
    """Per agency code, for dossiers received from ``first`` to ``last`` (Vietnam days): links
    made, slips printed, links sent, links opened, ratings."""
    rows = queries.invitation_counts(
        session, local_day_start(first), local_day_start(last + dt.timedelta(days=1))
    )
    return {
        code: (int(made), int(printed or 0), int(sent or 0), int(opened or 0), int(rated or 0))
        for code, made, printed, sent, opened, rated in rows
    }


@dataclass(frozen=True, kw_only=True)
class PendingInvitation:
    dossier_code: str
    service_point_code: str
    returned_at: dt.datetime | None
    link: str
    expires_at: dt.datetime | None


def pending_invitations(
    session: Session,
    settings: DossierSettings,
    public_base_url: str,
    *,
    channel: str,
    visible_agency_ids: frozenset[int] | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> Iterator[PendingInvitation]:
    """Links to send for returned dossiers not yet rated, sent or expired; each is marked as sent
    by ``channel`` (``sms`` or ``zalo``) as it is listed; the request or command that writes them
    out commits, once it has (one audit event for the export)."""
    now = now or utc_now()
    returned_since = now - dt.timedelta(days=settings.link_days)
    count = 0
    for dossier in queries.dossiers_to_invite(session, returned_since, visible_agency_ids):
        invitation, token = link_for(session, dossier, settings, actor=actor)
        invitation.sent_at = now
        invitation.channel = channel
        count += 1
        yield PendingInvitation(
            dossier_code=dossier.code,
            service_point_code=dossier.service_point.public_code,
            returned_at=dossier.returned_at,
            link=rating_url(public_base_url, token),
            expires_at=expires_at(dossier, settings),
        )
    audit.record(session, actor, "dossiers.invitations_exported", channel, {"count": count})
