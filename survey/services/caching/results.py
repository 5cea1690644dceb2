"""A cache of computed results in a :class:`ReportStore`, sealed against tampering.

Values are pickled. The store is trusted infrastructure (Redis on loopback or a private network,
like the database), but an entry is still sealed with an HMAC-SHA256 under a key derived from the
app's ``SECRET_KEY``, computed over the entry's key and its bytes: an entry written by anyone
without the secret, or moved from one key to another (say, a province report copied under the key
of a commune viewer's report), fails the check, is never unpickled, and the result is computed
again.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import pickle
import secrets
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

from survey.services.caching.stores import MemoryStore, ReportStore

Result = TypeVar("Result")
log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 3600
SEAL_BYTES = 32  # HMAC-SHA256
_SOURCE_ROOT = Path(__file__).resolve().parents[3]
_SOURCE_PACKAGES = ("survey", "analysis")


@functools.cache
def code_version() -> str:
    """A digest of the application's Python sources (``survey/`` and ``analysis/``).

    Part of every key: a deployment that changes how anything is computed or what a result class
    holds never reads an entry written by the previous code (workers of two releases can share one
    Redis during a rolling restart).
    """
    digest = hashlib.sha256()
    for package in _SOURCE_PACKAGES:
        for path in sorted((_SOURCE_ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(_SOURCE_ROOT).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def _canonical(value: Any) -> Any:
    """The same text for the same key parts in every process (sets sorted, dates as ISO)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dt.date):  # dates and datetimes
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return ["set", *sorted((_canonical(v) for v in value), key=repr)]
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    raise TypeError(f"cannot be part of a cache key: {type(value).__name__}")


def key_digest(parts: Iterable[Any]) -> str:
    """A digest of key parts (strings, numbers, None, dates, tuples, sets) and the code version."""
    text = repr([code_version(), _canonical(tuple(parts))])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SharedCache:
    """Results built once and then read from the store by every worker that uses the same one.

    ``get_or_build(parts, build)``: the value stored under ``parts`` (see :func:`key_digest`) if
    the store has it and its seal holds, else ``build()``, stored for ``ttl_seconds``.

    The services use one instance (``reports.REPORT_CACHE``); the app, when it starts, makes its
    own cache with its store, secret and lifetime (``survey/report_cache.py``) and has that
    instance :meth:`delegate_to` it, so each app instance uses its own store. Without an app, a
    process-private :class:`MemoryStore` and a random secret.

    Two workers asking for the same missing result at the same moment both compute it (no lock
    across processes); the later write wins with an equal value.
    """

    def __init__(
        self,
        store: ReportStore | None = None,
        *,
        secret: str | bytes | None = None,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        namespace: str = "survey",
    ) -> None:
        self.store: ReportStore = store if store is not None else MemoryStore()
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        # A key of its own for the seal, derived from the secret (never the secret itself).
        self._seal_key = hmac.new(
            raw or secrets.token_bytes(32), b"survey report cache seal", hashlib.sha256
        ).digest()
        self.ttl_seconds = ttl_seconds
        self.namespace = namespace
        self._locate: Callable[[], SharedCache | None] | None = None

    def delegate_to(self, locate: Callable[[], SharedCache | None] | None) -> None:
        """From now on, work with the cache ``locate()`` returns (the current app's, found by the
        web layer), or with this one's own store when it returns None (no app: a script)."""
        self._locate = locate

    def _active(self) -> SharedCache:
        located = self._locate() if self._locate is not None else None
        return located if located is not None else self

    def key(self, parts: Iterable[Any]) -> str:
        return f"{self._active().namespace}:results:{key_digest(parts)}"

    def get_or_build(self, parts: Iterable[Any], build: Callable[[], Result]) -> Result:
        cache = self._active()
        key = cache.key(parts)
        found = cache._read(key)
        if found is not None:
            return cast(Result, found[0])
        value = build()
        cache.store.set(key, cache._seal(key, value), cache.ttl_seconds)
        return value

    def clear(self) -> None:
        self._active().store.clear()

    def _seal(self, key: str, value: Any) -> bytes:
        body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return self._mac(key, body) + body

    def _read(self, key: str) -> tuple[Any] | None:
        sealed = self.store.get(key)
        if sealed is None:
            return None
        mac, body = sealed[:SEAL_BYTES], sealed[SEAL_BYTES:]
        if not hmac.compare_digest(mac, self._mac(key, body)):
            log.warning("Cache entry %s failed its integrity check; computing it again.", key)
            return None
        try:
            return (pickle.loads(body),)  # noqa: S301 — sealed with this deployment's secret
        except Exception:  # e.g. a server on another Python whose pickles this one cannot read
            log.warning("Cache entry %s could not be read; computing it again.", key)
            return None

    def _mac(self, key: str, body: bytes) -> bytes:
        mac = hmac.new(self._seal_key, key.encode("utf-8"), hashlib.sha256)
        mac.update(b"\0")
        mac.update(body)
        return mac.digest()
