"""Where cached results live: the port, and the in-process store of a single worker."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

DEFAULT_MEMORY_BYTES = 64 * 2**20


class ReportStore(Protocol):
    """Bytes under string keys, each with a lifetime. A store that cannot answer (a Redis that went
    away) behaves as empty: ``get`` returns None and ``set`` keeps nothing; it never raises."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None: ...

    def clear(self) -> None:
        """Forget every entry of this store's namespace (tests and benchmarks)."""
        ...


class MemoryStore:
    """The least recently used entries of one process, at most ``max_bytes`` of values in all.

    Values are the sealed, serialised results (see ``results.py``), so their size is known
    exactly; an entry larger than the whole budget is not kept. Thread-safe.
    """

    def __init__(
        self,
        max_bytes: int = DEFAULT_MEMORY_BYTES,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if self._clock() >= expires:
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        with self._lock:
            if key in self._items:
                self._drop(key)
            if len(value) > self.max_bytes or ttl_seconds <= 0:
                return
            self._items[key] = (self._clock() + ttl_seconds, value)
            self._bytes += len(value)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        _expires, value = self._items.pop(key)
        self._bytes -= len(value)
