"""The shared store of reports and charts, chosen when the app starts.

With ``RATELIMIT_STORAGE_URI=redis://…`` (the Redis the rate limits already share), computed
reports and their charts live in that Redis, so every gunicorn worker and app server reads what
any one of them computed: the PDF's progress steps (compute the report, draw the charts) and the
PDF request may each land on a different worker without anything being computed twice. Otherwise
(``memory://``, the SQLite quick start) each process keeps its own, at most
``REPORT_CACHE_MEMORY_MB`` of them.

Entries live ``REPORT_CACHE_TTL_SECONDS`` (default an hour; their keys change with the data, so
the lifetime only bounds memory) under ``<RATELIMIT_KEY_PREFIX>:report-cache:``, sealed with a key
derived from ``SECRET_KEY`` (survey/services/caching/results.py). Give Redis a memory limit with
an eviction policy (``maxmemory 512mb``, ``maxmemory-policy volatile-lru``: every entry has a
lifetime, the rate-limit counters too). A Redis that stops answering makes reports slower, never
unavailable: each request then computes its report as if nothing were cached.
"""

from __future__ import annotations

import logging
import time

import redis
from flask import Flask, current_app, has_app_context

from survey.services.caching import MemoryStore, ReportStore, SharedCache
from survey.services.reporting import REPORT_CACHE

log = logging.getLogger(__name__)
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")
TIMEOUT_SECONDS = 1.0
WARN_EVERY_SECONDS = 60.0


class RedisStore:
    """A :class:`~survey.services.caching.ReportStore` in Redis (values with ``SET … EX``)."""

    def __init__(self, url: str, namespace: str) -> None:
        if url.startswith("redis+unix://"):
            url = "unix://" + url.removeprefix("redis+unix://")
        self._client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        self._namespace = namespace
        self._warned_at = float("-inf")

    def get(self, key: str) -> bytes | None:
        try:
            value = self._client.get(key)
        except redis.RedisError as error:
            self._warn(error)
            return None
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        try:
            self._client.set(key, value, ex=ttl_seconds)
        except redis.RedisError as error:
            self._warn(error)

    def clear(self) -> None:
        try:
            keys = list(self._client.scan_iter(match=f"{self._namespace}:*", count=500))
            if keys:
                self._client.delete(*keys)
        except redis.RedisError as error:
            self._warn(error)

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("Report cache: Redis did not answer (%s); computing without it.", error)


def store_for(app: Flask, namespace: str) -> ReportStore:
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "")
    if uri.startswith(REDIS_SCHEMES):
        return RedisStore(uri, namespace)
    return MemoryStore(int(app.config["REPORT_CACHE_MEMORY_MB"]) * 2**20)


def init_app(app: Flask) -> None:
    """Give this app its cache (store, secret, lifetime); the services' ``REPORT_CACHE`` works
    with the cache of the app whose request or command is running."""
    namespace = f"{app.config.get('RATELIMIT_KEY_PREFIX') or 'survey'}:report-cache"
    app.extensions["survey.report_cache"] = SharedCache(
        store_for(app, namespace),
        secret=app.config["SECRET_KEY"],
        ttl_seconds=int(app.config["REPORT_CACHE_TTL_SECONDS"]),
        namespace=namespace,
    )
    REPORT_CACHE.delegate_to(current_cache)


def current_cache() -> SharedCache | None:
    """The cache of the current app; None outside an app context (a script, a benchmark)."""
    if not has_app_context():
        return None
    cache = current_app.extensions.get("survey.report_cache")
    return cache if isinstance(cache, SharedCache) else None
