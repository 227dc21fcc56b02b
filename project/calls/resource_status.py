"""Rill's `resource_status` resolver: the project's resources with their state and error, one row each
(runtime/resolvers/resource_status.go). `resource_status: {where_error: true}` keeps only the failing ones.

Rows are sorted by type, then name, and answered through the engine like any query (a VALUES list with
bound values), so every format, the row cap and the timeout apply. Errors quote files and data, so with
auth on only admins may see them.
"""

from __future__ import annotations

from typing import Any

from project.definitions import Api, BrokenApi, Project
from project.errors import AccessDeniedError

COLUMNS = ("type", "name", "status", "error")
PARSE_ERRORS = "encountered parse errors"
NOT_ADMIN = "must be an admin to see the status of resources"


def check_caller(authenticated: bool, user: dict[str, Any] | Any) -> None:
    if authenticated and user.get("admin") is not True:
        raise AccessDeniedError(NOT_ADMIN)


def resource_rows(project: Project, where_error: bool) -> list[tuple[str, str, str, str]]:
    """(type, name, status, error) of every resource. The project parser carries the errors of files that
    did not become an API or a model (Rill reports a metrics view that fails to load under its own name)."""
    rows = [("API", name, "Idle", _api_error(api)) for name, api in project.apis.items()]
    rows += [("MetricsView", name, "Idle", "") for name in project.metrics_views]
    rows += [("Model", name, "Idle", project.failed_models.get(name, "")) for name in project.model_names]
    api_errors = sum(isinstance(api, BrokenApi) for api in project.apis.values())
    other_errors = len(project.errors) - api_errors - len(project.failed_models)
    rows.append(("ProjectParser", "parser", "Idle", PARSE_ERRORS if other_errors > 0 else ""))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row for row in rows if row[3]] if where_error else rows


def _api_error(api: Api | BrokenApi) -> str:
    return str(api.error.message) if isinstance(api, BrokenApi) else ""


def rows_sql(rows: list[tuple[str, str, str, str]]) -> tuple[str, list[str]]:
    """A query answering these rows, with every value a bound parameter."""
    if not rows:
        return "SELECT " + ", ".join(f"NULL::VARCHAR AS {column}" for column in COLUMNS) + " WHERE false", []
    placeholders = ", ".join("(?, ?, ?, ?)" for _ in rows)
    columns = ", ".join(f'"{column}"' for column in COLUMNS)
    sql = f"SELECT * FROM (VALUES {placeholders}) AS resources({columns})"
    return sql, [value for row in rows for value in row]
