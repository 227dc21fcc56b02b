"""The generated conformance set: templates written per feature, and grammar-based random ones (fixed seed)."""

from __future__ import annotations

from typing import Any

DATA: dict[str, Any] = {}


def cases() -> list[dict[str, Any]]:
    return []
