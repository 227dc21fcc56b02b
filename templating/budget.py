"""What one render may cost, so a caller's sizes cannot make a template hang or exhaust memory.

Go's text/template has no such limits: `repeat .args.n "x"`, `until`, nested ranges over a caller's lists or
`shuffle` of a huge string would allocate or loop without bound. Two limits, each named in its error:
- a value a function makes holds at most MAX_VALUE_BYTES (a string's characters, a list's items); functions
  whose result grows with an argument (`repeat`, `until`, `randAlpha`, `indent`, `replace`, `join`, ...)
  check the size before they allocate;
- a render does at most MAX_RENDER_WORK units of work: STEP_UNITS per loop iteration, template call and
  function call, plus the characters and items each function reads and writes and the text each action prints.
Normal templates stay far below both (a 10,000-item list through a few functions per item: ~1M units; at most a few seconds of CPU).
"""

from __future__ import annotations

from typing import Any

from .values import Tainted

MAX_VALUE_BYTES = 2 * 1024 * 1024
MAX_RENDER_WORK = 4 * 1024 * 1024
MAX_REGEX_MATCHES = 50_000  # matches one regex function walks through (each costs Python ~20 us)
ITEM_UNITS = 4  # a container's item costs functions (Python loops) more than a character
STEP_UNITS = 16  # a loop iteration or a call costs Python about what handling 16 bytes in C does
EXPENSIVE = {  # CPU-heavy functions cost as much as handling this many bytes: 8 hashes or 4 keys a render
    "bcrypt": 512 * 1024,
    "htpasswd": 512 * 1024,
    "derivePassword": 512 * 1024,
    "genPrivateKey": 1024 * 1024,
    "genCA": 1024 * 1024,
    "genCAWithKey": 512 * 1024,
    "genSelfSignedCert": 1024 * 1024,
    "genSelfSignedCertWithKey": 512 * 1024,
    "genSignedCert": 1024 * 1024,
    "genSignedCertWithKey": 512 * 1024,
}


class LimitError(Exception):
    """A value or a render over its limit; the message names the limit."""


def check_size(size: int) -> None:
    """Refuses, before allocating it, a value larger than MAX_VALUE_BYTES."""
    if size > MAX_VALUE_BYTES:
        raise LimitError(
            f"the result would hold {size} bytes or items, over the limit of {MAX_VALUE_BYTES} per template value"
        )


def size_of(value: Any) -> int:
    """A cheap measure of a value: a string's characters, a container's items (not deep), else 1. Results
    are checked against MAX_VALUE_BYTES by this measure too."""
    kind = type(value)
    if kind is Tainted:
        return size_of(value.value)
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, (list, tuple, dict)):
        return ITEM_UNITS * len(value)
    return 1


def over_budget() -> LimitError:
    return LimitError(
        f"the template went over its render budget of {MAX_RENDER_WORK} units of work "
        "(loop iterations, calls and bytes handled)"
    )
