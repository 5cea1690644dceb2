"""What this browser sent lately, kept in the session cookie, sealed (no personal data).

A citizen who goes Back from the thank-you page sees the browser restore their answers; the form
must then carry the same submission id, so that pressing Send again stores nothing new.

Flask's session cookie is signed, not encrypted: anyone holding it can read it. The submission id
is the stored response's idempotency key, so the cookie keeps it sealed: a random 16-byte nonce
and the id XORed with ``HMAC-SHA512(key, nonce)`` (a one-time pad drawn from a pseudo-random
function; the session's signature already protects its integrity). The key is derived from
``SECRET_KEY``; after a key change, entries no longer open and the form simply offers a new id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

from flask import current_app
from flask import session as cookie

from survey.services.responses import IDEMPOTENCY_KEY_PATTERN

RECENT_SECONDS = 30 * 60
KEEP = 5  # points remembered per browser
SESSION_KEY = "recent"  # {code: [sealed submission id, unix time]}
NONCE_BYTES = 16
PAD = hashlib.sha512  # 64 bytes of pad: submission ids are at most 64 characters


def remember_submission(code: str, submission_id: str) -> None:
    recent = {k: v for k, v in cookie.get(SESSION_KEY, {}).items() if _fresh(v)}
    recent[code] = [_seal(submission_id), int(time.time())]
    cookie[SESSION_KEY] = dict(sorted(recent.items(), key=lambda kv: kv[1][1])[-KEEP:])
    cookie.pop("sent", None)  # the readable entries of earlier versions


def recent_submission(code: str) -> str | None:
    """The submission id sent from this browser for this point in the last half hour, if any."""
    entry = cookie.get(SESSION_KEY, {}).get(code)
    return _unseal(entry[0]) if entry and _fresh(entry) else None


def _fresh(entry: list) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], int)
        and time.time() - entry[1] < RECENT_SECONDS
    )


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(secret, b"survey.public.recent-submissions", hashlib.sha256).digest()


def _pad(nonce: bytes, length: int) -> bytes:
    return hmac.new(_key(), nonce, PAD).digest()[:length]


def _seal(submission_id: str) -> str:
    plain = submission_id.encode()
    if len(plain) > PAD().digest_size:
        raise ValueError("submission ids are at most 64 characters")
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = bytes(a ^ b for a, b in zip(plain, _pad(nonce, len(plain)), strict=True))
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def _unseal(sealed: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
    except (binascii.Error, ValueError):
        return None
    nonce, body = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    if len(nonce) != NONCE_BYTES or not 0 < len(body) <= PAD().digest_size:
        return None
    plain = bytes(a ^ b for a, b in zip(body, _pad(nonce, len(body)), strict=True))
    try:
        submission_id = plain.decode("ascii")
    except UnicodeDecodeError:
        return None
    return submission_id if IDEMPOTENCY_KEY_PATTERN.fullmatch(submission_id) else None
