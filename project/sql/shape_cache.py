"""A least-recently-used cache bounded by the memory its entries take, not by their count.

Shapes differ in size by orders of magnitude (a one-line lookup, a statement with thousands of markers), so
a count bound either wastes room or lets a caller pin hundreds of megabytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    entries: int
    size_bytes: int
    max_bytes: int


class ByteBoundedCache:
    """`get_or_compute(key, compute)`; the least recently used entries go when the sizes pass `max_bytes`.
    An entry larger than a quarter of the budget is computed and returned but not kept."""

    def __init__(self, max_bytes: int, size_of: Callable[[Any, Any], int]) -> None:
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._size = self._hits = self._misses = 0
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._hits += 1
                self._entries.move_to_end(key)
                return entry[0]
            self._misses += 1
        value = compute()  # outside the lock: a cold shape must not hold up warm lookups
        self._keep(key, value, self._size_of(key, value))
        return value

    def _keep(self, key: Hashable, value: Any, size: int) -> None:
        if size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self._size += size
            while self._size > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= dropped

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._entries), self._size, self.max_bytes)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = self._hits = self._misses = 0
