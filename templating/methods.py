"""Methods of Go values that templates can call: `(semver "1.2.3").IncMinor`, `(toDate ...).Format "2006"`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .calls import FunctionSpec
from .sprig_semver import Version, version_methods
from .sprig_time import Duration, time_methods
from .values import marked

TABLES: dict[type, dict[str, FunctionSpec]] = {}


def method_table(kind: type) -> dict[str, FunctionSpec]:
    """The methods of one Go type as FunctionSpecs (the receiver is passed in the state slot), built once."""
    table = TABLES.get(kind)
    if table is None:
        table = TABLES[kind] = build_table(kind)
    return table


def build_table(kind: type) -> dict[str, FunctionSpec]:
    if kind is Version:
        functions = version_methods()
    elif kind is Duration:
        functions = {
            "String": lambda d: d.go_string(),
            "Hours": lambda d: d / 3.6e12,
            "Minutes": lambda d: d / 6e10,
            "Seconds": lambda d: d / 1e9,
            "Nanoseconds": lambda d: int(d),
        }
    elif issubclass(kind, datetime):
        functions = time_methods()
    else:
        functions = {}
    specs = {}
    for name, function in functions.items():
        specs[name] = FunctionSpec(name, marked(function, template_receiver=True))
    return specs


def find_method(value: Any, name: str) -> FunctionSpec | None:
    """The Go method `name` of a value, or None (maps, lists and plain values have none)."""
    kind = type(value)
    if kind in (dict, list, str, int, float, bool) or value is None:
        return None
    return method_table(kind).get(name)
