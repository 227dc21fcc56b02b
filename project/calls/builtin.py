"""Rill's built-in APIs `sql` and `metrics-sql`: arbitrary read-only SQL (or metrics SQL) from the request,
for admins only, as Rill serves them (runtime/resolvers/builtin_sql.go, builtin_metrics_sql.go).

The SQL comes from the caller, so it is never templated; it gets every rule an API's SQL gets: one
read-only statement, the sandboxed read-only connection, the timeout and the row cap. Who may call:
with auth on, a caller whose `admin` attribute is true; with auth off, only a local caller of a server
listening on a loopback address (Rill's local mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from project.auth.policy import CallerPolicy
from project.definitions import Project
from project.encoding.formats import JSON, Format
from project.engines.batches import stream_batches
from project.engines.execution import AnswerStream, Limits, stream_query
from project.errors import AccessDeniedError, ArgumentError, QueryError
from project.metrics.sql import compile_metrics_sql
from project.sql.binding import bind_sql
from project.sql.rendering import Markers
from project.sql.sizes import check_sql_size

BUILTIN_APIS = frozenset({"sql", "metrics-sql"})
NOT_ADMIN = "must be an admin to run arbitrary SQL queries"


def check_builtin_caller(authenticated: bool, user: Mapping[str, Any], local: bool) -> None:
    """Admins with auth on; with auth off, only a local caller (Rill's local mode skips checks)."""
    if authenticated and user.get("admin") is True:
        return
    if not authenticated and local:
        return
    raise AccessDeniedError(NOT_ADMIN)


def run_builtin(
    project: Project,
    name: str,
    args: Mapping[str, Any],
    policy_data: Mapping[str, Any] | None,
    limits: Limits,
    format_: Format = JSON,
) -> AnswerStream:
    """Run the SQL in `args["sql"]`; `policy_data` is the caller's template data when metrics views'
    security applies to them (auth on), else None."""
    sql = args.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise ArgumentError('missing required argument "sql" (a string)')
    check_sql_size(sql, project.max_sql_bytes, f"the {name} API's SQL")
    if project.database is None:
        raise QueryError("the project has no database")
    if name == "metrics-sql":
        markers = Markers()
        policy = CallerPolicy(project.database, policy_data, markers) if policy_data is not None else None
        try:
            sql = compile_metrics_sql(sql, project.metrics_views, policy)
        except RecursionError:  # the parser recurses once per nesting level of the caller's SQL
            raise QueryError("metrics sql: the statement is nested too deeply") from None
        bound_sql, params = bind_sql(sql, markers.values, markers.sources)
    else:
        bound_sql, params = bind_sql(sql.strip().removesuffix(";"), (), ())
    if format_.arrow:
        return stream_batches(project.database, bound_sql, params, limits, format_.name)
    return stream_query(project.database, bound_sql, params, limits, lines=format_.name == "ndjson")
