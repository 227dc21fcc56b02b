"""Watching the project folder from a background thread, so a change is noticed without waiting for a request
and rebuilt beside the project that keeps serving."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence

from project.loading.files import file_stamps

log = logging.getLogger("sluice.reload")


class Watcher:
    """Calls `on_change` from its own thread when a file under `directory` (or one of `extra_files`, such
    as the refresh request in the state folder) changes (polling size and time), and `on_tick` after
    every look."""

    def __init__(
        self,
        directory: str,
        interval: float,
        on_change: Callable[[], None],
        on_tick: Callable[[], None] | None = None,
        extra_files: Sequence[str] = (),
    ) -> None:
        self.directory = directory
        self.interval = interval
        self.on_change = on_change
        self.on_tick = on_tick
        self.extra_files = tuple(extra_files)
        self._stamp = self._stamps()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._checking = threading.Lock()  # the thread and a caller of check() never rebuild at once

    def start(self) -> None:
        """Start the thread in this process (again after a fork: a forked worker inherits no threads)."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="sluice-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def check(self) -> bool:
        """Whether the files changed since the last check; calls `on_change` (in this thread) if so."""
        with self._checking:
            stamp = self._stamps()
            if stamp == self._stamp:
                return False
            self._stamp = stamp  # taken before the rebuild: an edit made while it runs is noticed next time
            self.on_change()
            return True

    def _stamps(self) -> tuple:
        return (file_stamps(self.directory), tuple(_stat(path) for path in self.extra_files))

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.check()
                if self.on_tick is not None:
                    self.on_tick()
            except Exception:  # a reload must never end the watching
                log.exception("checking the project for changes failed")


def _stat(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_size, status.st_mtime_ns)
