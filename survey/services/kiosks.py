"""Kiosk tablets: registration, pairing, revocation, device tokens and kiosk submissions.

Life of a kiosk
    1. ``register_kiosk``: an administrator names a kiosk for a service point and gets a one-time
       pairing code (shown once; only its SHA-256 is stored; valid ``PAIRING_LIFETIME``).
    2. ``pair_kiosk``: the tablet opens ``/kiosk/pair/<code>`` and exchanges the code for a random
       device token (256 bits, kept in the tablet's localStorage; only its SHA-256 is stored).
       The code is then spent. ``new_pairing_code`` issues another one for a reset tablet; pairing
       with it replaces the old token. Registration, each pairing, each new code and revocation
       are in the audit log (``kiosk.registered``, ``kiosk.paired``,
       ``kiosk.pairing_code_issued``, ``kiosk.revoked``); codes and tokens never are.
    3. ``authenticate_kiosk``: every API call carries ``Authorization: Bearer <token>``.
    4. ``revoke_kiosk``: the token stops working at once (401 on the next call).

Minimum interval (``KIOSK_MIN_INTERVAL_SECONDS``, default 5)
    The tablet itself refuses a new submission sooner than this after the previous one (its
    thank-you screen lasts at least that long). On the server a submission that comes sooner — by
    the *device* times of the two, so that a queue replayed after an outage is judged by when the
    citizens pressed Send, not when the answers arrived — is **stored and flagged** ``too_fast``
    on arrival, never refused: a refusal would silently lose an answer the citizen gave, while a
    flag leaves the choice to an administrator (``survey.services.integrity``).

Device times (``KIOSK_MAX_OFFLINE_DAYS``, default 7)
    A queued answer keeps the time the citizen pressed Send, but only if the tablet can have
    queued it: not before the kiosk was first paired (``Kiosk.first_paired_at``, of the kiosk the
    answer was given on), not older than the offline window, not ahead of the server's clock by
    more than ``CLOCK_SKEW``. Otherwise it is **stored with the server's arrival time and flagged**
    ``implausible_time`` on arrival (the flag keeps how far off the device was) — again not
    refused, so that a tablet whose clock was reset loses no answers, while a back-dated batch can
    neither land in a closed period nor slip past the checks: its answers are judged by their
    arrival times, so 200 sent within seconds are ``too_fast`` too. An answer without a device
    time is judged by its arrival. The daily ``scan-anomalies`` covers the offline window.

Rate limit (``RATELIMIT_KIOSK_PER_TOKEN``, survey/ratelimit.py)
    Submissions per device token; a flushed offline queue that meets it gets 429 with
    ``Retry-After`` and the tablet sends the rest then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.access import Scope
from survey.services.errors import DomainError, InvalidAnswers, InvalidInput, NotFound
from survey.services.integrity import IntegritySettings, check_response, implausible_time_detail
from survey.services.questionnaires import open_service_point
from survey.services.responses import SubmissionResult, submit_response
from survey.storage import queries
from survey.storage.models import Kiosk, Questionnaire, ServicePoint, utc_now

PAIRING_LIFETIME = dt.timedelta(hours=24)
PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed
PAIRING_LENGTH = 10  # 50 bits, single use, expires: enough against guessing
LABEL_MAX_LENGTH = 120
# How far a tablet's clock may be from the server's (either way) before its time is not trusted.
CLOCK_SKEW = dt.timedelta(minutes=5)
DEFAULT_MAX_OFFLINE = dt.timedelta(days=7)  # KIOSK_MAX_OFFLINE_DAYS
TIMEOUT_POLICIES = ("discard", "keep_complete")
MIN_COUNTDOWN_SECONDS = 20  # WCAG 2.2 SC 2.2.1: at least 20 s to ask for more time


class KioskNotAuthorised(DomainError):
    message_vi = (
        "Máy tính bảng này chưa được ghép nối hoặc đã bị thu hồi. Vui lòng báo quản trị viên."
    )
    message_en = (
        "This tablet is not paired or its access was revoked. Please tell an administrator."
    )


class InvalidPairingCode(DomainError):
    message_vi = "Mã ghép nối không đúng, đã dùng hoặc đã hết hạn. Vui lòng xin mã mới."
    message_en = "This pairing code is wrong, used or expired. Please ask for a new one."


class AnsweredAtAnotherPoint(DomainError):
    message_vi = (
        "Phiếu này được trả lời khi máy được ghép nối với một điểm phục vụ khác; không thể tính "
        "cho điểm hiện tại."
    )
    message_en = (
        "This answer was given while the tablet was paired with another service point; it cannot "
        "count for the current one."
    )


@dataclass(frozen=True)
class KioskSettings:
    """How the tablets behave, from the app's settings (see survey/kiosk/__init__.py)."""

    min_interval_seconds: float = 5.0
    idle_seconds: int = 60
    countdown_seconds: int = 30
    thanks_seconds: int = 8
    timeout_policy: str = "discard"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KioskSettings:
        min_interval = float(config.get("KIOSK_MIN_INTERVAL_SECONDS", 5))
        policy = str(config.get("KIOSK_TIMEOUT_POLICY", "discard"))
        if policy not in TIMEOUT_POLICIES:
            raise ValueError(f"KIOSK_TIMEOUT_POLICY must be one of {TIMEOUT_POLICIES}: {policy!r}")
        return cls(
            min_interval_seconds=min_interval,
            idle_seconds=max(5, int(config.get("KIOSK_IDLE_SECONDS", 60))),
            countdown_seconds=max(
                MIN_COUNTDOWN_SECONDS, int(config.get("KIOSK_COUNTDOWN_SECONDS", 30))
            ),
            thanks_seconds=max(
                int(min_interval + 0.999), int(config.get("KIOSK_THANKS_SECONDS", 8))
            ),
            timeout_policy=policy,
        )


@dataclass(frozen=True)
class PairingCode:
    kiosk_id: int
    code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Pairing:
    kiosk_id: int
    token: str


@dataclass(frozen=True)
class KioskSetup:
    kiosk: Kiosk
    point: ServicePoint
    questionnaire: Questionnaire


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_pairing_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_pairing_code(code: str) -> str:
    """``ABCDE-FGHJK``: easier to read out and type."""
    return f"{code[:5]}-{code[5:]}"


def _new_pairing(kiosk: Kiosk, now: dt.datetime) -> str:
    code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_LENGTH))
    kiosk.pairing_code_hash = digest(code)
    kiosk.pairing_expires_at = now + PAIRING_LIFETIME
    return code


def register_kiosk(
    session: Session,
    *,
    service_point_id: int,
    label: str,
    user_id: int | None,
    now: dt.datetime | None = None,
) -> PairingCode:
    """Register a kiosk for an open service point; return its pairing code (shown once)."""
    now = now or utc_now()
    label = (label or "").strip()
    if not 1 <= len(label) <= LABEL_MAX_LENGTH:
        raise InvalidInput(
            f"Vui lòng đặt tên cho máy (tối đa {LABEL_MAX_LENGTH} ký tự).",
            f"Please name the kiosk (at most {LABEL_MAX_LENGTH} characters).",
        )
    point = queries.service_point_by_id(session, service_point_id)
    if point is None:
        raise NotFound()
    open_service_point(session, point.public_code)  # refuses a closed desk or retired agency
    kiosk = Kiosk(service_point_id=point.id, label=label, created_by_id=user_id, created_at=now)
    code = _new_pairing(kiosk, now)
    session.add(kiosk)
    session.flush()
    audit.record_by_user_id(
        session,
        user_id,
        "kiosk.registered",
        f"kiosk:{kiosk.id}",
        {"service_point": point.public_code, "label": label},
    )
    session.flush()
    return PairingCode(kiosk.id, format_pairing_code(code), kiosk.pairing_expires_at or now)


def new_pairing_code(
    session: Session,
    kiosk_id: int,
    now: dt.datetime | None = None,
    *,
    user_id: int | None = None,
) -> PairingCode:
    """A fresh pairing code for a registered, unrevoked kiosk (e.g. its tablet was reset);
    audited as ``kiosk.pairing_code_issued`` by ``user_id`` (the code itself is never logged)."""
    now = now or utc_now()
    kiosk = queries.kiosk_by_id(session, kiosk_id)
    if kiosk is None or kiosk.revoked_at is not None:
        raise NotFound()
    code = _new_pairing(kiosk, now)
    audit.record_by_user_id(
        session,
        user_id,
        "kiosk.pairing_code_issued",
        f"kiosk:{kiosk.id}",
        {"label": kiosk.label, "expires_at": kiosk.pairing_expires_at},
    )
    session.flush()
    return PairingCode(kiosk.id, format_pairing_code(code), kiosk.pairing_expires_at or now)


def pair_kiosk(session: Session, code: str, now: dt.datetime | None = None) -> Pairing:
    """Spend a pairing code and return the device token (which replaces any earlier one);
    audited as ``kiosk.paired`` (by the system: the tablet has no account)."""
    now = now or utc_now()
    normalised = normalise_pairing_code(code)
    kiosk = queries.kiosk_by_pairing_hash(session, digest(normalised)) if normalised else None
    if (
        kiosk is None
        or kiosk.revoked_at is not None
        or kiosk.pairing_expires_at is None
        or kiosk.pairing_expires_at < now
    ):
        raise InvalidPairingCode()
    token = secrets.token_urlsafe(32)
    replaced = kiosk.token_hash is not None
    kiosk.token_hash = digest(token)
    kiosk.pairing_code_hash = None
    kiosk.pairing_expires_at = None
    kiosk.paired_at = now
    kiosk.first_paired_at = kiosk.first_paired_at or now
    audit.record(
        session,
        None,
        "kiosk.paired",
        f"kiosk:{kiosk.id}",
        {
            "label": kiosk.label,
            "service_point": kiosk.service_point.public_code,
            "replaced_token": replaced,
        },
    )
    session.flush()
    return Pairing(kiosk.id, token)


def revoke_kiosk(
    session: Session, kiosk_id: int, user_id: int | None, now: dt.datetime | None = None
) -> None:
    """Stop a kiosk at once: its token and any pending pairing code no longer work."""
    kiosk = queries.kiosk_by_id(session, kiosk_id)
    if kiosk is None:
        raise NotFound()
    if kiosk.revoked_at is None:
        kiosk.revoked_at = now or utc_now()
        kiosk.revoked_by_id = user_id
        kiosk.pairing_code_hash = None
        kiosk.pairing_expires_at = None
        audit.record_by_user_id(
            session, user_id, "kiosk.revoked", f"kiosk:{kiosk.id}", {"label": kiosk.label}
        )
        session.flush()


def authenticate_kiosk(session: Session, token: str | None) -> Kiosk:
    """The unrevoked kiosk holding this device token, or KioskNotAuthorised."""
    kiosk = queries.kiosk_by_token_hash(session, digest(token)) if token else None
    if kiosk is None or kiosk.revoked_at is not None:
        raise KioskNotAuthorised()
    return kiosk


def kiosk_setup(session: Session, kiosk: Kiosk) -> KioskSetup:
    """What the tablet shows: its point and the questionnaire citizens there answer."""
    point, questionnaire = open_service_point(session, kiosk.service_point.public_code)
    return KioskSetup(kiosk=kiosk, point=point, questionnaire=questionnaire)


def kiosks_in_scope(session: Session, scope: Scope) -> list[Kiosk]:
    """Every kiosk of the service points ``scope`` allows, revoked ones included."""
    return [
        kiosk for kiosk in queries.all_kiosks(session) if scope.allows_point(kiosk.service_point)
    ]


def find_kiosk(session: Session, kiosk_id: int) -> Kiosk:
    kiosk = queries.kiosk_by_id(session, kiosk_id)
    if kiosk is None:
        raise NotFound()
    return kiosk


def points_for_new_kiosks(session: Session, scope: Scope) -> list[ServicePoint]:
    """The open service points of agencies in force that ``scope`` allows: where a kiosk may be
    registered."""
    return [
        point
        for point in queries.all_service_points(session)
        if point.active and point.agency.valid_to is None and scope.allows_point(point)
    ]


def plausible_device_time(
    device_time: dt.datetime | None,
    now: dt.datetime,
    earliest: dt.datetime | None = None,
    max_offline: dt.timedelta = DEFAULT_MAX_OFFLINE,
) -> bool:
    """Whether a tablet can have queued an answer at ``device_time`` that arrives ``now``: not
    before ``earliest`` (the kiosk's first pairing), nor older than ``max_offline``, nor ahead of
    the server; each bound with ``CLOCK_SKEW`` of tolerance."""
    if device_time is None:
        return False
    oldest = now - max_offline if earliest is None else max(now - max_offline, earliest)
    return oldest - CLOCK_SKEW <= device_time <= now + CLOCK_SKEW


def submission_time(
    device_time: dt.datetime | None,
    now: dt.datetime,
    earliest: dt.datetime | None = None,
    max_offline: dt.timedelta = DEFAULT_MAX_OFFLINE,
) -> dt.datetime:
    """When the citizen answered: the device's time if plausible, else the arrival time."""
    if device_time is not None and plausible_device_time(device_time, now, earliest, max_offline):
        return device_time
    return now


def submit_from_kiosk(
    session: Session,
    kiosk: Kiosk,
    *,
    client_id: str,
    answers: dict[str, int | None],
    comment: str | None,
    language: str,
    device_time: dt.datetime | None,
    questionnaire_id: int | None,
    settings: IntegritySettings,
    now: dt.datetime | None = None,
    answered_on_kiosk_id: int | None = None,
) -> SubmissionResult:
    """Store one kiosk answer exactly once per ``client_id`` (the tablet's UUID) and flag it.

    The answers are checked against the questionnaire version the citizen saw (an answer queued
    offline before a new version was published stays valid); ``submit_response`` validates and
    stores them with channel ``kiosk``, the kiosk and the time the citizen answered — the device
    time when plausible, else the arrival time with an ``implausible_time`` flag (see the module
    docstring). A replayed ``client_id`` returns the stored response unchanged to this tablet and
    is refused (409) to any other. Flags are added on arrival, before this returns.

    All of it is the caller's one transaction (the request commits it once): the response is one
    INSERT that carries its kiosk and device time (with its answers, on PostgreSQL), and the
    kiosk's last-seen time and the arrival flags are written with it or not at all.
    """
    now = now or utc_now()
    point = kiosk.service_point
    answered_on = kiosk
    if answered_on_kiosk_id is not None and answered_on_kiosk_id != kiosk.id:
        # Queued under an earlier pairing (the tablet was re-registered meanwhile): it still
        # counts if that registration was for the same service point.
        earlier = queries.kiosk_by_id(session, answered_on_kiosk_id)
        if earlier is None or earlier.service_point_id != kiosk.service_point_id:
            raise AnsweredAtAnotherPoint()
        answered_on = earlier
    questionnaire = _questionnaire_for(session, point, questionnaire_id)
    earliest = answered_on.first_paired_at or answered_on.paired_at
    answered_at = submission_time(device_time, now, earliest, settings.max_offline)
    result = submit_response(
        session,
        point=point,
        questionnaire=questionnaire,
        answers=answers,
        idempotency_key=client_id,
        channel="kiosk",
        language=language,
        comment=comment,
        submitted_at=answered_at,
        kiosk_id=kiosk.id,
        device_time=answered_at,
        own_kiosk_ids={kiosk.id, answered_on.id},
    )
    kiosk.last_seen_at = now
    if result.created:
        implausible = device_time is not None and answered_at != device_time
        check_response(
            session,
            result.response_id,
            settings,
            [("implausible_time", implausible_time_detail(device_time, now))]
            if implausible and device_time is not None
            else [],
        )
    session.flush()
    return result


def _questionnaire_for(
    session: Session, point: ServicePoint, questionnaire_id: int | None
) -> Questionnaire:
    if questionnaire_id is None:
        return open_service_point(session, point.public_code)[1]
    questionnaire = queries.questionnaire_with_items(session, questionnaire_id)
    if questionnaire is None or questionnaire.sector != point.agency.sector:
        raise InvalidAnswers(
            "Phiếu khảo sát không thuộc điểm phục vụ này.",
            "This questionnaire does not belong to this service point.",
        )
    return questionnaire


def touch_kiosk(session: Session, kiosk: Kiosk, now: dt.datetime | None = None) -> None:
    kiosk.last_seen_at = now or utc_now()
    session.flush()
