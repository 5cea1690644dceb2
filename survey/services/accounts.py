"""Officials' accounts: argon2 password hashes (argon2-cffi), never plain text.

Also: usernames, the password policy, roles with their scope (a sector, or an agency and its
sub-units), sign-in with its back-off, sign-out, password change, the province administrator's
tools (disable, enable, lift sign-in delays, reset a password, change a role), and the rule that
decides when a signed-in session has expired.

Usernames: 3–40 characters among ``a-z 0-9 . _ -``, kept in lower case, so ``Hoa`` and ``hoa``
are one account (typed in any case at sign-in). The database refuses any other case.

Passwords: at least 12 characters, not containing the username, and not easy to guess as
estimated by zxcvbn (score 3 of 4 or more: its offline lists of common passwords, words and
names, plus repetitions, sequences, keyboard patterns and dates), with a few local words added.

Sessions: every session carries the user's ``session_epoch`` from sign-in; sign-out, a password
change or reset, disabling and a role change move it on, which ends every other session of that
user on its next request (survey/auth.py).

Sign-in back-off (``SignInBackOff``), instead of locking the account, which let anyone lock anyone
out: failures are counted per (username, client address). From the ``free_failures``-th on, that
address waits 1, 2, 4 … minutes (at most an hour) before its next attempt for that username, and
the other addresses are not affected: the real user signs in from their own. Above a generous
account-wide ceiling (failures from all addresses within an hour) attempts on the username from
addresses that never signed in to it are spaced, so a distributed guess is slowed to a few hundred
an hour, while addresses it signed in from before go on as usual. Unknown usernames are counted
like real ones, so delays do not tell which accounts exist.

The counters are in the database (``sign_in_throttle``), not in the rate-limit storage: they must
be shared by every worker and server, survive restarts, and count atomically with the audit
event of the same attempt. The rate-limit storage is per process by default (``memory://``, a
restart forgets it) and Redis is optional; the database is always shared, and a failed sign-in
already wrote to it. Stale rows are dropped as new failures come in (after a day, or thirty days
for addresses that signed in). A failure's counter and audit event are written in a short
transaction of their own (``separate_transaction``): the request that reports the failure answers
401 or 429, and is rolled back like every failed request.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from survey.services import audit
from survey.services.errors import DomainError, InvalidInput, NotFound
from survey.services.local_time import VIETNAM_TIME
from survey.storage import queries
from survey.storage.database import separate_transaction
from survey.storage.models import ROLES, SECTORS, Agency, SignInThrottle, User, utc_now

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "LastProvinceAdministrator",
    "SessionTimes",
    "SignInBackOff",
    "SignInDelayed",
    "agencies_for_scopes",
    "all_users",
    "authenticate",
    "change_password",
    "change_role",
    "check_password",
    "create_user",
    "delayed_usernames",
    "find_user",
    "lift_sign_in_delays",
    "normalise_username",
    "reset_development_admin",
    "reset_password",
    "session_has_expired",
    "set_active",
    "sign_out",
]

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 = "safely unguessable", about 10⁸ guesses or more
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; a strong start is a strong password
# Words zxcvbn's English lists lack: the place, the system, and favourite Vietnamese passwords.
LOCAL_WORDS = (
    "dienbien",
    "điện biên",
    "khaosat",
    "hailong",
    "danhgia",
    "matkhau",
    "quantri",
    "admin",
    "survey",
    "vietnam",
    "hanoi",
    "saigon",
    "anhyeuem",
    "emyeuanh",
    "yeuem",
    "iloveyou",
)
USERNAME = re.compile(r"[a-z0-9._-]{3,40}")
SECTOR_ROLES = ("sector_admin",)  # need a sector
AGENCY_ROLES = ("agency_manager",)  # need an agency
# A viewer needs exactly one of them: read-only reports for a sector or for an agency subtree.
ACCOUNT_WIDE = "*"  # the address of the row that counts a username's failures from everywhere


class Actor(Protocol):
    id: int
    username: str


class LastProvinceAdministrator(InvalidInput):
    message_vi = (
        "Không thể thực hiện: đây là quản trị cấp tỉnh cuối cùng còn hoạt động. "
        "Hãy tạo hoặc bật một quản trị cấp tỉnh khác trước."
    )
    message_en = (
        "Refused: this is the last province administrator still active. "
        "Create or enable another province administrator first."
    )


class UnknownAccount(NotFound):
    message_vi = "Không tìm thấy tài khoản này."
    message_en = "There is no such account."


class SignInDelayed(DomainError):
    """Too many failed sign-ins for this username from this address (or, under a distributed
    attack, from addresses it never signed in from): the next attempt must wait."""

    def __init__(self, until: dt.datetime, now: dt.datetime) -> None:
        self.until = until
        self.retry_after = max(1, math.ceil((until - now).total_seconds()))
        clock = until.astimezone(VIETNAM_TIME).strftime("%H:%M")
        if self.retry_after < 60:
            wait_vi, wait_en = f"{self.retry_after} giây", f"{self.retry_after} seconds"
        else:
            minutes = math.ceil(self.retry_after / 60)
            wait_vi = f"{minutes} phút"
            wait_en = f"{minutes} minute" + ("s" if minutes > 1 else "")
        super().__init__(
            "Đăng nhập sai quá nhiều lần từ nơi này. "
            f"Vui lòng thử lại sau {clock} (khoảng {wait_vi} nữa).",
            "Too many failed sign-ins from here. "
            f"Please try again after {clock} (in about {wait_en}).",
        )


# --- usernames and passwords ------------------------------------------------------------------


def normalise_username(username: str) -> str:
    """The stored form of a username: trimmed and in lower case."""
    return username.strip().lower()


def _valid_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise InvalidInput(
            "Tên đăng nhập gồm 3 đến 40 ký tự: chữ cái không dấu, chữ số, dấu chấm (.), "
            "gạch dưới (_) và gạch ngang (-).",
            "A username has 3 to 40 characters: letters, digits, '.', '_' and '-' "
            "(letters without accents).",
        )
    return name


def check_password(password: str, username: str) -> None:
    """Refuse a password that is short, contains the username, or is easy to guess."""
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
    name = normalise_username(username)
    if name and name in password.casefold():
        raise InvalidInput(
            "Mật khẩu không được chứa tên đăng nhập.",
            "The password must not contain the username.",
        )
    estimate = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[name, *LOCAL_WORDS])
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return
    patterns = {match.get("pattern") for match in estimate["sequence"]}
    if "repeat" in patterns:
        why_vi, why_en = "lặp lại ký tự", "it repeats characters"
    elif patterns & {"sequence", "spatial"}:
        why_vi, why_en = (
            "là một dãy liên tiếp hay các phím cạnh nhau",
            "it is a simple sequence or a row of keys",
        )
    elif "dictionary" in patterns:
        why_vi, why_en = (
            "là mật khẩu phổ biến hay từ thông dụng",
            "it is a common password or word",
        )
    else:
        why_vi, why_en = "quá ngắn gọn, dễ thử ra", "it is short and simple"
    raise InvalidInput(
        f"Mật khẩu quá dễ đoán ({why_vi}). Hãy dùng vài từ không liên quan đến nhau, "
        "ví dụ «ngựa vằn uống cà phê sáng».",
        f"The password is too easy to guess ({why_en}). Use a few unrelated words, "
        "e.g. “zebra drinks morning coffee”.",
    )


def _temporary_password() -> str:
    while True:
        password = secrets.token_urlsafe(12)  # 16 characters, about 96 bits
        try:
            check_password(password, "")
        except InvalidInput:
            continue
        return password


# --- roles and scopes ---------------------------------------------------------------------------


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
    username = _valid_username(username)
    _check_scope(session, role, sector, scope_agency_id)
    check_password(password, username)
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
        password_changed_at=utc_now(),
        session_epoch=0,
        must_change_password=False,
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
    session.flush()
    return user


def all_users(session: Session) -> Sequence[User]:
    return queries.all_users(session)


def find_user(session: Session, user_id: int) -> User | None:
    return queries.user_by_id(session, user_id)


def agencies_for_scopes(session: Session) -> Sequence[Agency]:
    """Every agency, by code: the choices for an agency manager's or viewer's scope."""
    return queries.agencies_by_code(session)


def agency_id_by_code(session: Session, code: str) -> int:
    agency = queries.agency_by_code(session, code)
    if agency is None:
        raise InvalidInput(
            f"Không có cơ quan nào mang mã «{code}».", f"No agency has the code '{code}'."
        )
    return agency.id


def reset_development_admin(session: Session, username: str = "admin") -> str:
    """Give the development administrator a fresh random password and return it."""
    password = _temporary_password()
    user = queries.user_by_username(session, username)
    if user is None:
        create_user(session, username, password)
    else:
        user.password_hash = _hasher.hash(password)
        user.active = True
        user.must_change_password = False
        user.password_changed_at = utc_now()
        _revoke_sessions(user)
        queries.clear_sign_in_failures(session, username)
        session.flush()
    return password


# --- sign-in, sign-out, own password ----------------------------------------------------------


@dataclass(frozen=True)
class SignInBackOff:
    """How failed sign-ins slow the next ones (see the module's docstring)."""

    free_failures: int = 5  # per (username, address) before the address must wait
    first_delay: dt.timedelta = dt.timedelta(minutes=1)  # then 2, 4, 8 … minutes
    longest_delay: dt.timedelta = dt.timedelta(hours=1)
    forget_after: dt.timedelta = dt.timedelta(days=1)  # without a failure, the count starts over
    remember_success: dt.timedelta = dt.timedelta(days=30)  # an address the user signed in from
    account_ceiling: int = 100  # failures from all addresses within account_window …
    account_window: dt.timedelta = dt.timedelta(hours=1)
    account_spacing: dt.timedelta = dt.timedelta(seconds=10)  # … then one try per spacing

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SignInBackOff:
        return cls(
            free_failures=config.get("SIGN_IN_FREE_FAILURES", cls.free_failures),
            first_delay=config.get("SIGN_IN_FIRST_DELAY", cls.first_delay),
            longest_delay=config.get("SIGN_IN_LONGEST_DELAY", cls.longest_delay),
            account_ceiling=config.get("SIGN_IN_ACCOUNT_CEILING", cls.account_ceiling),
            account_spacing=config.get("SIGN_IN_ACCOUNT_SPACING", cls.account_spacing),
        )

    def delay_after(self, failures: int) -> dt.timedelta | None:
        """How long an address waits after its ``failures``-th failure in a row (None: no wait)."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 30)
        delay: dt.timedelta = min(self.first_delay * 2**doublings, self.longest_delay)
        return delay

    def delayed_until(
        self,
        pair: SignInThrottle | None,
        account: SignInThrottle | None,
        now: dt.datetime,
    ) -> dt.datetime | None:
        """Until when the next attempt from this address is refused, or None."""
        if pair is not None and pair.last_failed_at is not None:
            delay = self.delay_after(pair.failures)
            if delay is not None and now < pair.last_failed_at + delay:
                return pair.last_failed_at + delay
        known_address = (
            pair is not None
            and pair.succeeded_at is not None
            and now - pair.succeeded_at < self.remember_success
        )
        if (
            account is not None
            and not known_address
            and account.window_started_at is not None
            and account.last_failed_at is not None
            and now - account.window_started_at < self.account_window
            and account.failures >= self.account_ceiling
            and now < account.last_failed_at + self.account_spacing
        ):
            return account.last_failed_at + self.account_spacing
        return None


def address_key(address: str | None) -> str:
    """The client address as counted: an IPv6 address by its /64 (one subscriber's network)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return _printable(address or "unknown", 64) or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _printable(text: str, limit: int) -> str:
    """``text`` without control or format characters (NUL, bidi overrides), at most ``limit``."""
    return "".join(
        "?" if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") else char
        for char in text[:limit]
    )


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    address: str = "unknown",
    now: dt.datetime | None = None,
    back_off: SignInBackOff | None = None,
) -> User | None:
    """The active user with these credentials, or None (same answer for every kind of failure).

    Raises ``SignInDelayed`` while this address must wait for this username (the password is not
    even checked). Every attempt is audited: ``sign_in.succeeded`` or ``sign_in.failed`` with the
    username as typed (normalised), the address and the reason, never the password. A failure is
    committed at once, in a transaction of its own; a success is flushed into the caller's.
    """
    now = now or utc_now()
    back_off = back_off or SignInBackOff()
    name = normalise_username(username)
    counted = _printable(name, 80)
    where = address_key(address)
    pair = queries.sign_in_throttle(session, counted, where)
    account = queries.sign_in_throttle(session, counted, ACCOUNT_WIDE)
    until = back_off.delayed_until(pair, account, now)
    if until is not None:
        # A separate transaction: the request answers 429 and rolls back, the event stays.
        with separate_transaction(session) as own:
            _audit_failure(own, counted, where, "delayed", {"until": until.isoformat()})
        raise SignInDelayed(until, now)

    user = queries.user_by_username(session, name) if counted == name else None
    reason = None
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time as a real check
        reason = "unknown_user" if user is None else "inactive"
    else:
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            reason = "wrong_password"
    if reason is not None:
        # A separate transaction: the request answers 401 and rolls back, while the back-off
        # must count this failure and the audit log must keep it.
        with separate_transaction(session) as own:
            failures, delayed = _count_failure(own, counted, where, now, back_off)
            details: dict[str, Any] = {"failures": failures}
            if delayed is not None:
                details["until"] = delayed.isoformat()
            _audit_failure(own, counted, where, reason, details)
        return None
    if user is None:  # no reason for a failure means an active user was found
        raise RuntimeError("a sign-in without a failure has a user")

    pair = queries.sign_in_throttle_for_update(session, counted, where, now)
    pair.failures, pair.last_failed_at, pair.succeeded_at, pair.updated_at = 0, None, now, now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    audit.record(session, user, "sign_in.succeeded", f"user:{user.username}", {"address": where})
    session.flush()
    return user


def _count_failure(
    session: Session, username: str, address: str, now: dt.datetime, back_off: SignInBackOff
) -> tuple[int, dt.datetime | None]:
    """Count one failure for (username, address) and for the username; the pair's count in a
    row and until when that address now waits."""
    pair = queries.sign_in_throttle_for_update(session, username, address, now)
    if pair.last_failed_at is None or now - pair.last_failed_at >= back_off.forget_after:
        pair.failures = 0
    pair.failures += 1
    pair.last_failed_at = pair.updated_at = now
    account = queries.sign_in_throttle_for_update(session, username, ACCOUNT_WIDE, now)
    if account.window_started_at is None or now - account.window_started_at >= (
        back_off.account_window
    ):
        account.window_started_at, account.failures = now, 0
    account.failures += 1
    account.last_failed_at = account.updated_at = now
    queries.forget_sign_in_throttles(
        session, now - back_off.forget_after, now - back_off.remember_success
    )
    delay = back_off.delay_after(pair.failures)
    return pair.failures, (now + delay if delay is not None else None)


def _audit_failure(
    session: Session, username: str, address: str, reason: str, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        audit.ANONYMOUS,
        "sign_in.failed",
        f"user:{username}",
        {"address": address, "reason": reason, **details},
    )


def sign_out(session: Session, user_id: int) -> None:
    """End every session of this user, here and on other devices; audited as ``user.signed_out``."""
    user = queries.user_by_id(session, user_id)
    if user is None:
        return
    _revoke_sessions(user)
    audit.record(session, user, "user.signed_out", f"user:{user.username}", {})
    session.flush()


def change_password(
    session: Session, user_id: int, current_password: str, new_password: str
) -> User:
    """Change one's own password after checking the current one; audited as ``password.changed``.

    Every other session of the user ends (``session_epoch`` moves on: the caller stores the new
    one in the session that made the change).
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
    check_password(new_password, user.username)
    user.password_hash = _hasher.hash(new_password)
    user.password_changed_at = utc_now()
    user.must_change_password = False
    _revoke_sessions(user)
    audit.record(session, user, "password.changed", f"user:{user.username}", {})
    session.flush()
    return user


def _revoke_sessions(user: User) -> None:
    """Every session started before this ends on its next request (counted in the database, so
    two changes at once both count)."""
    user.session_epoch = User.session_epoch + 1


# --- the province administrator's tools ---------------------------------------------------------


def _account(session: Session, user_id: int) -> User:
    user = queries.user_by_id_for_update(session, user_id)
    if user is None:
        raise UnknownAccount()
    return user


def _keep_a_province_administrator(user: User, session: Session) -> None:
    """Refuse to disable or demote the last active province administrator."""
    if user.role != "province_admin" or not user.active:
        return
    others = [i for i in queries.active_province_admin_ids(session) if i != user.id]
    if not others:
        raise LastProvinceAdministrator()


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Disable (every session ends) or enable an account; ``user.disabled`` / ``user.enabled``."""
    user = _account(session, user_id)
    if user.active == active:
        return user
    if not active:
        _keep_a_province_administrator(user, session)
        _revoke_sessions(user)
    user.active = active
    action = "user.enabled" if active else "user.disabled"
    audit.record(session, actor, action, f"user:{user.username}", {})
    session.flush()
    return user


def lift_sign_in_delays(session: Session, actor: Actor, user_id: int) -> User:
    """Forget the failed sign-ins counted against this account; audited as ``user.unlocked``."""
    user = _account(session, user_id)
    cleared = queries.clear_sign_in_failures(session, user.username)
    audit.record(session, actor, "user.unlocked", f"user:{user.username}", {"rows": cleared})
    session.flush()
    return user


def reset_password(
    session: Session, actor: Actor, user_id: int, new_password: str | None = None
) -> str:
    """Give the account a temporary password (typed by the administrator or made here) and
    return it; the user must pick their own at the next sign-in, and every session ends.
    Audited as ``password.reset`` (without the password)."""
    user = _account(session, user_id)
    typed = bool(new_password)
    if new_password:
        check_password(new_password, user.username)
    password = new_password or _temporary_password()
    user.password_hash = _hasher.hash(password)
    user.password_changed_at = utc_now()
    user.must_change_password = True
    _revoke_sessions(user)
    queries.clear_sign_in_failures(session, user.username)
    audit.record(
        session, actor, "password.reset", f"user:{user.username}", {"typed_by_admin": typed}
    )
    session.flush()
    return password


def change_role(
    session: Session,
    actor: Actor,
    user_id: int,
    role: str,
    *,
    sector: str | None = None,
    scope_agency_id: int | None = None,
) -> User:
    """Give an account another role or scope; its sessions end (the user signs in again under
    the new role). Audited as ``user.role_changed`` with the role and scope before and after."""
    user = _account(session, user_id)
    _check_scope(session, role, sector, scope_agency_id)
    before = {"role": user.role, "sector": user.sector, "scope_agency_id": user.scope_agency_id}
    after = {"role": role, "sector": sector, "scope_agency_id": scope_agency_id}
    if before == after:
        return user
    if role != "province_admin":
        _keep_a_province_administrator(user, session)
    user.role, user.sector, user.scope_agency_id = role, sector, scope_agency_id
    _revoke_sessions(user)
    audit.record(
        session,
        actor,
        "user.role_changed",
        f"user:{user.username}",
        {"before": before, "after": after},
    )
    session.flush()
    return user


def delayed_usernames(
    session: Session, back_off: SignInBackOff, now: dt.datetime | None = None
) -> frozenset[str]:
    """Usernames that some address must now wait for (for the users page)."""
    now = now or utc_now()
    rows = queries.sign_in_throttles_failing_since(session, now - back_off.forget_after)
    accounts = {row.username: row for row in rows if row.address == ACCOUNT_WIDE}
    return frozenset(
        row.username
        for row in rows
        if back_off.delayed_until(
            None if row.address == ACCOUNT_WIDE else row, accounts.get(row.username), now
        )
        is not None
    )


# --- session expiry ----------------------------------------------------------------------------


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
