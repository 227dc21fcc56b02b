"""Markers that stand in rendered SQL for values that came from the caller (`.args`, `.user`).

The renderer prints a marker instead of a caller's value; the SQL checker finds markers in the parsed
statement and turns each into a bound parameter (or a checked identifier). Other packages that rewrite SQL
(metrics SQL) must keep markers where they are: a marker inside a string literal, or a bare marker where a
value goes.
"""

from __future__ import annotations

import re

PATTERN = re.compile(r"__sluice_arg_(\d+)__")


def marker(index: int) -> str:
    """The marker text for the index-th caller value printed by one render."""
    return f"__sluice_arg_{index}__"


def is_marker(text: str) -> bool:
    """True when the whole text is one marker (a bare marker identifier)."""
    return PATTERN.fullmatch(text) is not None


def marker_indexes(text: str) -> list[int]:
    """Indexes of all markers inside a text, in order."""
    return [int(index) for index in PATTERN.findall(text)]
