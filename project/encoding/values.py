"""Rows from any driver -> the JSON DuckDB's answers use (SPEC §3.4), chosen by each value's Python type.

PostgreSQL, MySQL and ClickHouse drivers hand back Python values; encoding them by type gives every engine
one encoding: exact integers and decimals, RFC 3339 UTC timestamps with `Z`, null for NULL and NaN, base64
for bytes, milliseconds for intervals, times of day on 0001-01-01. Naive datetimes are taken as UTC (sessions run in UTC).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any


def encode_value(value: Any) -> str:
    """One value's JSON text."""
    if value is None:
        return "null"
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    for kind, encoder in _ENCODERS.items():
        if isinstance(value, kind):
            return encoder(value)
    return encode_basestring(str(value))  # UUID, IP addresses, enums: their text


def json_row_encoder(names: Sequence[str]) -> Callable[[tuple], str]:
    """A function from a row tuple to its JSON object text, keys in column order."""
    keys = [encode_basestring(name) + ":" for name in names]

    def encode(row: tuple) -> str:
        return "{" + ",".join(key + encode_value(value) for key, value in zip(keys, row)) + "}"

    return encode


def _float(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else "null"


def _decimal(value: Decimal) -> str:
    return format(value, "f") if value.is_finite() else "null"


def _datetime(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return '"' + _trim_fraction(value.isoformat()) + 'Z"'


def _time(value: time) -> str:
    """As Rill writes a time of day: a timestamp on 0001-01-01 in UTC."""
    return '"0001-01-01T' + _trim_fraction(value.replace(tzinfo=None).isoformat()) + 'Z"'


def _trim_fraction(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _interval(value: timedelta) -> str:
    """As Rill writes an interval: whole milliseconds, truncated toward zero."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    return str(micros // 1000 if micros >= 0 else -(-micros // 1000))


def _bytes(value: bytes) -> str:
    return '"' + base64.b64encode(bytes(value)).decode("ascii") + '"'


def _list(value: Sequence[Any]) -> str:
    return "[" + ",".join(encode_value(item) for item in value) + "]"


def _dict(value: dict) -> str:
    return (
        "{"
        + ",".join(encode_basestring(str(key)) + ":" + encode_value(item) for key, item in value.items())
        + "}"
    )


_ENCODERS: dict[type, Callable[[Any], str]] = {
    bool: lambda value: "true" if value else "false",
    int: lambda value: str(int(value)),
    float: _float,
    Decimal: _decimal,
    str: encode_basestring,
    datetime: _datetime,
    date: lambda value: '"' + value.isoformat() + '"',
    time: _time,
    timedelta: _interval,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _bytes,
    list: _list,
    tuple: _list,
    dict: _dict,
}
