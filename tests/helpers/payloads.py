"""The injection corpus (tests/injection/payloads.yaml) as parameter rows, each under its corpus id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

CORPUS = Path(__file__).resolve().parent.parent / "injection" / "payloads.yaml"
URL_PAYLOAD_MAX = 4096  # a URL carries a few KB: the longer payloads travel in bodies


def load_payloads() -> list[tuple[str, str]]:
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return [
        (category, item["repeat"] * item["times"] if isinstance(item, dict) else item)
        for category, items in corpus.items()
        for item in items
    ]


PAYLOADS = load_payloads()
PAYLOAD_IDS = [f"{category}-{index}" for index, (category, _) in enumerate(PAYLOADS)]


def payload_rows(keep: Callable[[str], bool] = lambda payload: True) -> list:
    """(category, payload) parameter rows with only the payloads `keep` holds for, under their corpus ids."""
    return [
        pytest.param(category, payload, id=payload_id)
        for payload_id, (category, payload) in zip(PAYLOAD_IDS, PAYLOADS)
        if keep(payload)
    ]


URL_PAYLOADS = payload_rows(lambda payload: len(payload) <= URL_PAYLOAD_MAX)
