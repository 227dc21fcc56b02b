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


def steadily(read: Callable[[], T], done: Callable[[T], bool], times: int = 10, seconds: float = 60.0) -> T:
    """`read()` once `done` holds for `times` reads in a row (or its last value after `seconds`). With
    several workers each reloads on its own, and one answer can come from a worker that already has while
    the next meets one that has not: only a run of answers says every worker has."""

    def run() -> list[T]:
        values = [read()]
        while done(values[-1]) and len(values) < times:
            values.append(read())
        return values

    return eventually(run, lambda values: len(values) == times and done(values[-1]), seconds)[-1]
