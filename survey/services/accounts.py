"""Officials' accounts: argon2 password hashes (argon2-cffi), never plain text."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from survey.services.errors import InvalidInput
from survey.storage import queries
from survey.storage.models import User

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
ROLES = ("province_admin", "sector_admin", "agency_manager", "viewer")


def create_user(
    session: Session, username: str, password: str, role: str = "province_admin"
) -> User:
    username = username.strip()
    if not username:
        raise InvalidInput("Tên đăng nhập không được để trống.", "The username must not be empty.")
    if role not in ROLES:
        raise InvalidInput(f"Vai trò không hợp lệ: {role}", f"Unknown role: {role}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
        )
    if queries.user_by_username(session, username) is not None:
        raise InvalidInput(
            f"Tên đăng nhập đã tồn tại: {username}", f"The username already exists: {username}"
        )
    user = User(username=username, password_hash=_hasher.hash(password), role=role, active=True)
    session.add(user)
    session.commit()
    return user


def reset_development_admin(session: Session, username: str = "admin") -> str:
    """Give the development administrator a fresh random password and return it."""
    password = secrets.token_urlsafe(12)
    user = queries.user_by_username(session, username)
    if user is None:
        create_user(session, username, password)
    else:
        user.password_hash = _hasher.hash(password)
        user.active = True
        session.commit()
    return password


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every kind of failure)."""
    user = queries.user_by_username(session, username.strip())
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.commit()
    return user
