"""Lone surrogates: `"\\ud800"` in JSON decodes, in Python, to half a character that no engine can store
and no UTF-8 stream can carry. Go's decoder (Rill's, for bodies and JWT claims alike) makes each one U+FFFD;
so does Sluice, wherever a caller's JSON comes in."""

from __future__ import annotations

import re
from typing import Any

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(value: Any) -> Any:
    """The value with every lone surrogate in its strings (keys included) replaced by U+FFFD."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value) if LONE_SURROGATE.search(value) else value
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_lone_surrogates(key): without_lone_surrogates(item) for key, item in value.items()}
    return value
