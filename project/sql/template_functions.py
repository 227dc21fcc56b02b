"""Rill's own template functions (`ref`, `as_sql_list`, `dev`, `prod`, `lookup`), which know about SQL."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from project.sql.quoting import quote_identifier, quote_literal
from templating import SafeText, Tainted, TemplateError, template_function
from templating.printing import format_value
from templating.values import find_taint, unwrap_deep


@template_function(raw_args=True)
def ref(name: Any) -> SafeText:
    """`{{ ref "model" }}` -> the quoted identifier `"model"`; never a caller's value."""
    if isinstance(name, Tainted):
        raise TemplateError("ref takes a model name written in the project, not a caller's value")
    text = str(name)
    return SafeText(quote_identifier(text))


@template_function(raw_args=True, wants_state=True)
def as_sql_list(state: Any, value: Any) -> SafeText:
    """A value or list as `(1, 'a', NULL)`: caller values become markers, constants escaped literals."""
    source = value.source if isinstance(value, Tainted) else None
    items = value.value if isinstance(value, Tainted) else value
    if not isinstance(items, (list, tuple)):
        items = [items]
    return SafeText("(" + ", ".join(_sql_item(state, item, source) for item in items) + ")")


def _sql_item(state: Any, item: Any, source: str | None) -> str:
    found = find_taint(item)
    if found is not None:  # a caller's value, or project data holding one: the whole item is caller data
        source, item = found.source, unwrap_deep(item)
    if item is None:
        return "NULL"
    if isinstance(item, bool):
        return "TRUE" if item else "FALSE"
    if isinstance(item, (int, Decimal)) or (isinstance(item, float) and math.isfinite(item)):
        text = str(int(item)) if isinstance(item, float) and item.is_integer() else str(item)
        return state.emit(text, source) if source and state.emit else text
    text = item if isinstance(item, str) else format_value(item)
    if source and state.emit:
        return "'" + state.emit(text, source) + "'"
    return quote_literal(text)


@template_function(wants_state=True)
def dev(state: Any) -> bool:
    return state.data.get("environment") == "dev"


@template_function(wants_state=True)
def prod(state: Any) -> bool:
    return state.data.get("environment") == "prod"


@template_function()
def lookup(*_: Any) -> Any:
    raise TemplateError('function "lookup" is not supported in this context')


RILL_FUNCTIONS = {"ref": ref, "as_sql_list": as_sql_list, "dev": dev, "prod": prod, "lookup": lookup}
