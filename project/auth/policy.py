"""Security rules evaluated for one caller: API `security.access` and metrics views' policies (SPEC §6, §9).

A rule is a template rendered with the caller's `.user` (attributes stay bound values, never SQL text) and
then evaluated by DuckDB as a SQL boolean. A rule that fails or is not a boolean denies an API call and fails
a metrics query (it never counts as false, which would un-hide `exclude`d fields).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import duckdb

from project.engines.duckdb import Database
from project.errors import QueryError, SluiceError
from project.sql.binding import bind_sql
from project.sql.rendering import Markers, compile_template, render_sql
from templating import Template

log = logging.getLogger("sluice.security")


class RuleError(QueryError):
    """A security rule failed or did not give a boolean: API access is denied, a metrics query fails."""


@lru_cache(maxsize=512)
def rule_template(text: str) -> Template:
    """Rules written in metrics views are parsed once per distinct text."""
    return compile_template(text, "security rule")


def rule_allows(database: Database, rule: Any, data: Mapping[str, Any]) -> bool:
    """An API's `security.access` for the caller: a rule that fails or is not a boolean denies."""
    try:
        return rule_holds(database, rule, data)
    except RuleError as error:
        log.warning("%s; access denied", error.message)
        return False


def rule_holds(database: Database, rule: Any, data: Mapping[str, Any]) -> bool:
    """True/False/None (true) as written, or a template evaluated as a SQL boolean for the caller.

    RuleError when the rule fails or its value is not a boolean: `CAST` would make any non-zero number true.
    """
    if rule is None or isinstance(rule, bool):
        return rule is not False
    template = rule if isinstance(rule, Template) else rule_template(str(rule))
    markers = Markers()
    try:
        condition = render_sql(template, data, markers).strip()
        sql, params = bind_sql(f"SELECT ({condition or 'false'})", markers.values, markers.sources)
        cursor = database.cursor()
        try:
            row = cursor.execute(sql, params).fetchone()
        finally:
            database.close_cursor(cursor)
    except (SluiceError, duckdb.Error) as error:
        log.debug("security rule failed: %s", getattr(error, "message", error))
        raise RuleError("a security rule could not be evaluated for the caller") from None
    value = row[0] if row else None
    if not isinstance(value, bool):
        raise RuleError(f"a security rule evaluated to {type(value).__name__}, not a boolean")
    return value


class CallerPolicy:
    """The metrics SQL compiler's view of the caller: conditions and row filters share the request's markers."""

    def __init__(self, database: Database, data: Mapping[str, Any], markers: Markers) -> None:
        self._database = database
        self._data = data
        self._markers = markers

    def check(self, condition: str) -> bool:
        """A rule that cannot be decided fails the query: treating it as false would un-hide `exclude`d fields."""
        return rule_holds(self._database, condition, self._data)

    def render(self, template: str) -> str:
        return render_sql(rule_template(template), self._data, self._markers)
