"""Where reports are kept: the shared store every worker reads (survey/report_cache.py configures
it), keyed by :func:`report_version` — the scope, period, reader and a fingerprint of every table
the report reads — so a cached report is never stale."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from survey.services.caching import SharedCache, key_digest
from survey.services.exports import local_day_start
from survey.services.periods import Period, quarter_of, year_before
from survey.services.reporting.model import ReportFilters
from survey.storage import fingerprints

Cached = TypeVar("Cached")


class LruCache(Generic[Cached]):
    """The most recently used results by key, shared by the threads of one process.

    App servers stay stateless: keys include a fingerprint of the responses read from the
    database, so every process computes the same thing and never serves a stale result.
    """

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[Any, ...], Cached] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get_or_build(self, key: tuple[Any, ...], build: Callable[[], Cached]) -> Cached:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


# Reports and their charts, in the store every worker shares (configured when the app starts:
# survey/report_cache.py); keyed by what they depend on, so never stale.
ReportCache = SharedCache
REPORT_CACHE = ReportCache()


def report_version(
    session: Session,
    period: Period,
    scope_kind: str,
    scope_key: str,
    min_n: int,
    visible: frozenset[int] | None,
    filters: ReportFilters | None = None,
) -> tuple[str]:
    """The key of a report (and of its charts): a digest of the scope, period, minimum sample,
    the reader's visible agencies, the code version and a fingerprint of every table the report
    reads — the responses of this and the previous period (added, excluded, comments blanked),
    the service volumes and dossier counts of their quarters, targets, agencies, service points
    and questionnaires (``survey.storage.fingerprints``), and the page's filters. Any change of
    them gives a new key. Reports of a quarter or half also read the same period a year before."""
    filters = filters or ReportFilters()
    previous = period.previous()
    earliest = min(previous.first, year_before(period).first)
    first_month = quarter_of(earliest).first
    end_month = quarter_of(period.last).last + dt.timedelta(days=1)  # the next quarter's first day
    fingerprint = fingerprints.report_fingerprint(
        session,
        local_day_start(earliest),
        local_day_start(period.last + dt.timedelta(days=1)),
        first_month,
        end_month,
    )
    key = (scope_kind, scope_key, period.key, min_n, visible, filters.key, fingerprint)
    return (key_digest(key),)
