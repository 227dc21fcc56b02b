"""Waiting for what a real server does after it answers (a log line, a reload): polls, never measures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(read: Callable[[], T], done: Callable[[T], bool], seconds: float = 60.0) -> T:
    """`read()` once `done` holds for it, or its last value after `seconds` (the test's assertion then
    says what was missing)."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
