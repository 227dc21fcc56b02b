"""Small answers encoded in Python: the same JSON as `encoding`, without the cost of planning its projection.

DuckDB plans the JSON projection of `encoding.json_rows_sql` on every request, which costs more than a whole
point lookup. For a handful of rows, encoding the fetched tuples here is cheaper. Only the types whose Python
values carry everything the JSON needs are handled; any other column keeps the query on the DuckDB path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from json.encoder import encode_basestring
from typing import Any

from project.encoding.bulk import INTEGERS

Encoder = Callable[[Any], str]


def _integer(value: int) -> str:
    return str(value)


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def _text(value: Any) -> str:
    return encode_basestring(str(value))  # json's C string encoder, without building an encoder per call


def _double(value: float) -> str:
    return repr(value) if math.isfinite(value) else "null"


def _decimal(value: Any) -> str:
    return format(value, "f")


def _date(value: Any) -> str:
    return '"' + value.isoformat() + '"'


def _timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return '"' + _trim_fraction(value.isoformat()) + 'Z"'


def _time(value: time) -> str:
    """As Rill writes a time of day: a timestamp on 0001-01-01 in UTC."""
    return '"0001-01-01T' + _trim_fraction(value.isoformat()) + 'Z"'


def _trim_fraction(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


ENCODERS: dict[str, Encoder] = {
    **dict.fromkeys(INTEGERS, _integer),
    "boolean": _boolean,
    "varchar": _text,
    "enum": _text,
    "uuid": _text,
    "double": _double,
    "float": _double,
    "decimal": _decimal,
    "date": _date,
    "timestamp": _timestamp,
    "timestamp_s": _timestamp,
    "timestamp_ms": _timestamp,
    "time": _time,
}


def row_encoder(names: Sequence[str], types: Sequence[Any]) -> Callable[[tuple], str] | None:
    """A function from a fetched row to its JSON object text, or None when a column's type is not handled."""
    found = [ENCODERS.get(column_type.id) for column_type in types]
    encoders = [encoder for encoder in found if encoder is not None]
    if len(encoders) < len(found):
        return None
    keys = [encode_basestring(name) + ":" for name in names]
    fields = list(zip(keys, encoders))

    def encode(row: tuple) -> str:
        return (
            "{"
            + ",".join(
                key + ("null" if value is None else encoder(value))
                for (key, encoder), value in zip(fields, row)
            )
            + "}"
        )

    return encode
