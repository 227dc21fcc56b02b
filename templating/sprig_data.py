"""Sprig's UUIDs."""

from __future__ import annotations

import uuid
from collections.abc import Callable


def uuidv4() -> str:
    return str(uuid.uuid4())


DATA: dict[str, Callable] = {"uuidv4": uuidv4}
