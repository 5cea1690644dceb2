"""Results cached in a store that every worker and app server shares.

A cached result (a report, its charts in one language) is kept under a key made of everything it
depends on: the scope, period and reader's visible agencies, a fingerprint of the data read from
the database (``survey.storage.queries.report_fingerprint``) and the code that computed it
(:func:`code_version`). A change of the data gives a new key, so nothing is ever invalidated by
hand and no worker serves a stale result; old entries simply age out (a bounded lifetime).

The store is a port (:class:`ReportStore`): :class:`MemoryStore` keeps entries in the process
(the SQLite quick start, one worker), ``survey/report_cache.py`` puts them in Redis when
``RATELIMIT_STORAGE_URI`` names one, configured once when the app starts. This package imports
neither Flask nor Redis.
"""

from __future__ import annotations

from survey.services.caching.results import SharedCache, code_version, key_digest
from survey.services.caching.stores import MemoryStore, ReportStore

__all__ = ["MemoryStore", "ReportStore", "SharedCache", "code_version", "key_digest"]
