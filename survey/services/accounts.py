"""Officials' accounts: argon2 password hashes (argon2-cffi), never plain text.

Also: roles with their scope (a sector, or an agency and its sub-units), lockout after repeated
failed sign-ins, password change, and the rule that decides when a signed-in session has expired.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.errors import InvalidInput
from survey.storage import queries
from survey.storage.models import ROLES, SECTORS, Agency, User, utc_now

__all__ = [
    "MAX_FAILED_SIGN_INS",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "SessionTimes",
    "agencies_for_scopes",
    "all_users",
    "authenticate",
    "change_password",
    "create_user",
    "is_locked",
    "reset_development_admin",
    "session_has_expired",
]

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
MAX_FAILED_SIGN_INS = 5
LOCKOUT = dt.timedelta(minutes=15)
SECTOR_ROLES = ("sector_admin",)  # need a sector
AGENCY_ROLES = ("agency_manager",)  # need an agency
# A viewer needs exactly one of them: read-only reports for a sector or for an agency subtree.


class Actor(Protocol):
    id: int
    username: str


def _check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Mật khẩu dài tối đa {MAX_PASSWORD_LENGTH} ký tự.",
            f"The password may have at most {MAX_PASSWORD_LENGTH} characters.",
        )
    if password.strip().casefold() == username.strip().casefold():
        raise InvalidInput(
            "Mật khẩu không được trùng tên đăng nhập.",
            "The password must not be the username.",
        )


def _check_scope(
    session: Session, role: str, sector: str | None, scope_agency_id: int | None
) -> None:
    if role not in ROLES:
        raise InvalidInput(f"Vai trò không hợp lệ: {role}", f"Unknown role: {role}")
    if sector is not None and sector not in SECTORS:
        raise InvalidInput(f"Lĩnh vực không hợp lệ: {sector}", f"Unknown sector: {sector}")
    if scope_agency_id is not None and queries.agency_by_id(session, scope_agency_id) is None:
        raise InvalidInput("Không tìm thấy cơ quan.", "No such agency.")
    has_sector, has_agency = sector is not None, scope_agency_id is not None
    if role == "province_admin" and (has_sector or has_agency):
        raise InvalidInput(
            "Quản trị cấp tỉnh không gắn với lĩnh vực hay cơ quan.",
            "A province administrator has no sector or agency.",
        )
    if role in SECTOR_ROLES and (not has_sector or has_agency):
        raise InvalidInput(
            "Quản trị lĩnh vực cần đúng một lĩnh vực.",
            "A sector administrator needs a sector (and no agency).",
        )
    if role in AGENCY_ROLES and (not has_agency or has_sector):
        raise InvalidInput(
            "Quản lý cơ quan cần đúng một cơ quan.",
            "An agency manager needs an agency (and no sector).",
        )
    if role == "viewer" and has_sector == has_agency:
        raise InvalidInput(
            "Người xem cần một lĩnh vực hoặc một cơ quan (không cả hai).",
            "A viewer needs either a sector or an agency (not both).",
        )


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str = "province_admin",
    *,
    sector: str | None = None,
    scope_agency_id: int | None = None,
    actor: Actor | None = None,
) -> User:
    """Create an official's account with its role and scope; audited as ``user.created``."""
    username = username.strip()
    if not username:
        raise InvalidInput("Tên đăng nhập không được để trống.", "The username must not be empty.")
    if len(username) > 80:
        raise InvalidInput("Tên đăng nhập quá dài.", "The username is too long.")
    _check_scope(session, role, sector, scope_agency_id)
    _check_password(password, username)
    if queries.user_by_username(session, username) is not None:
        raise InvalidInput(
            f"Tên đăng nhập đã tồn tại: {username}", f"The username already exists: {username}"
        )
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        active=True,
        sector=sector,
        scope_agency_id=scope_agency_id,
        failed_sign_ins=0,
        password_changed_at=utc_now(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.created",
        f"user:{username}",
        {"role": role, "sector": sector, "scope_agency_id": scope_agency_id},
    )
    session.commit()
    return user


def all_users(session: Session) -> Sequence[User]:
    return queries.all_users(session)


def agencies_for_scopes(session: Session) -> Sequence[Agency]:
    """Every agency, by code: the choices for an agency manager's or viewer's scope."""
    return queries.agencies_by_code(session)


def reset_development_admin(session: Session, username: str = "admin") -> str:
    """Give the development administrator a fresh random password and return it."""
    password = secrets.token_urlsafe(12)
    user = queries.user_by_username(session, username)
    if user is None:
        create_user(session, username, password)
    else:
        user.password_hash = _hasher.hash(password)
        user.active = True
        user.failed_sign_ins = 0
        user.locked_until = None
        user.password_changed_at = utc_now()
        session.commit()
    return password


def is_locked(user: User, now: dt.datetime | None = None) -> bool:
    now = now or utc_now()
    return user.locked_until is not None and user.locked_until > now


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    now: dt.datetime | None = None,
    max_failures: int = MAX_FAILED_SIGN_INS,
    lockout: dt.timedelta = LOCKOUT,
) -> User | None:
    """The active user with these credentials, or None (same answer for every kind of failure).

    The ``max_failures``-th consecutive wrong password locks the account for ``lockout``; while it
    is locked even the right password is refused. The lock is audited as ``account.locked``.
    Unknown usernames have no counter: the per-address rate limit on sign-in covers them.
    """
    now = now or utc_now()
    user = queries.user_by_username(session, username.strip())
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    if is_locked(user, now):
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        failures = queries.count_failed_sign_in(session, user.id)
        if failures >= max_failures:
            user.locked_until = now + lockout
            user.failed_sign_ins = 0
            audit.record(
                session,
                None,
                "account.locked",
                f"user:{user.username}",
                {"failures": failures, "locked_until": user.locked_until.isoformat()},
            )
        session.commit()
        return None
    user.failed_sign_ins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.commit()
    return user


def change_password(
    session: Session, user_id: int, current_password: str, new_password: str
) -> User:
    """Change one's own password after checking the current one; audited as ``password.changed``.

    ``password_changed_at`` moves on, which ends the user's other signed-in sessions.
    """
    user = queries.user_by_id(session, user_id)
    if user is None or not user.active:
        raise InvalidInput("Tài khoản không còn hoạt động.", "The account is not active.")
    try:
        _hasher.verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError):
        raise InvalidInput(
            "Mật khẩu hiện tại không đúng.", "The current password is not right."
        ) from None
    if new_password == current_password:
        raise InvalidInput(
            "Mật khẩu mới phải khác mật khẩu cũ.", "The new password must differ from the old one."
        )
    _check_password(new_password, user.username)
    user.password_hash = _hasher.hash(new_password)
    user.password_changed_at = utc_now()
    audit.record(session, user, "password.changed", f"user:{user.username}", {})
    session.commit()
    return user


@dataclass(frozen=True)
class SessionTimes:
    """When a browser session was signed in and last seen (UTC epoch seconds)."""

    signed_in_at: float
    last_seen_at: float


def session_has_expired(
    times: SessionTimes | None,
    now: float,
    *,
    idle: dt.timedelta,
    absolute: dt.timedelta,
    password_changed_at: dt.datetime | None = None,
) -> bool:
    """True when a signed-in session must end: idle too long, open too long, missing its times,
    or older than the last password change (which signs out every other session)."""
    if times is None:
        return True
    if now - times.last_seen_at > idle.total_seconds():
        return True
    if now - times.signed_in_at > absolute.total_seconds():
        return True
    return (
        password_changed_at is not None
        and password_changed_at.timestamp() > times.signed_in_at + 1e-3
    )
