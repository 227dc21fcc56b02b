"""A result cache: whole answers kept by key, bounded in bytes, least recently used first out (SPEC §3.5).

Each process keeps its own; with a shared directory, workers also find each other's answers there (one
file per answer, written whole then renamed into place, the directory pruned to the same byte bound).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

ENTRY_SHARE = 8  # one answer may take at most this fraction of the cache
PRUNE_EVERY = 64  # directory writes between two prunings


@dataclass(frozen=True)
class CachedAnswer:
    """One answer as it was sent: its body, content type, ETag and when it stops being fresh (None: never)."""

    body: bytes
    content_type: str
    etag: str
    expires: float | None = None

    def fresh(self, now: float) -> bool:
        return self.expires is None or now < self.expires


class ResultCache:
    """Answers by key, in memory and (optionally) in a directory shared by the workers."""

    def __init__(self, max_bytes: int, directory: str | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // ENTRY_SHARE
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._directory = directory
        self._writes = 0
        if directory:
            os.makedirs(directory, exist_ok=True)

    def get(self, key: str) -> CachedAnswer | None:
        """The fresh answer for the key, or None."""
        now = time.time()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                if entry.fresh(now):
                    self._entries.move_to_end(key)
                    return entry
                self._remove(key)
        entry = self._read(key) if self._directory else None
        if entry is None or not entry.fresh(now):
            return None
        self._keep(key, entry)
        return entry

    def put(self, key: str, entry: CachedAnswer) -> None:
        if len(entry.body) > self.max_entry_bytes:
            return
        self._keep(key, entry)
        if self._directory:
            self._write(key, entry)

    def _keep(self, key: str, entry: CachedAnswer) -> None:
        with self._lock:
            if key in self._entries:
                self._remove(key)
            self._entries[key] = entry
            self._size += len(entry.body)
            while self._size > self.max_bytes and self._entries:
                self._remove(next(iter(self._entries)))

    def _remove(self, key: str) -> None:
        self._size -= len(self._entries.pop(key).body)

    def _path(self, key: str) -> str:
        return os.path.join(self._directory or "", key + ".answer")

    def _read(self, key: str) -> CachedAnswer | None:
        try:
            with open(self._path(key), "rb") as handle:
                header = json.loads(handle.readline())
                body = handle.read()
        except (OSError, ValueError):
            return None
        return CachedAnswer(body, header["content_type"], header["etag"], header["expires"])

    def _write(self, key: str, entry: CachedAnswer) -> None:
        header = {"content_type": entry.content_type, "etag": entry.etag, "expires": entry.expires}
        try:
            handle, temporary = tempfile.mkstemp(dir=self._directory, suffix=".partial")
            with os.fdopen(handle, "wb") as output:
                output.write(json.dumps(header).encode() + b"\n")
                output.write(entry.body)
            os.replace(temporary, self._path(key))
        except OSError:
            return  # a full or read-only disk costs the shared copy, never the answer
        self._writes += 1
        if self._writes % PRUNE_EVERY == 0:
            prune_directory(self._directory or "", self.max_bytes)


def prune_directory(directory: str, max_bytes: int) -> None:
    """Remove the least recently written answers until the directory holds at most `max_bytes`."""
    files = []
    for name in os.listdir(directory):
        try:
            stat = os.stat(os.path.join(directory, name))
        except OSError:
            continue
        files.append((stat.st_mtime, stat.st_size, name))
    total = sum(size for _, size, _ in files)
    for _, size, name in sorted(files):
        if total <= max_bytes:
            return
        try:
            os.remove(os.path.join(directory, name))
        except OSError:
            pass
        total -= size
