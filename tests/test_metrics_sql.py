"""Metrics SQL compiled and run on DuckDB over the fixture project tests/projects/metrics.

The cases are data: tests/metrics_cases/queries.yaml (metrics SQL -> rows or error) and
tests/metrics_cases/compiled.yaml (metrics SQL -> the DuckDB SQL we generate, for reviewers).
"""

from __future__ import annotations

import datetime
import decimal

import pytest
import yaml

from project.errors import AccessDeniedError, QueryError
from project.metrics.sql import compile_metrics_sql
from project.metrics.views import parse_metrics_view
from project.sql.binding import bind_sql
from project.sql.rendering import Markers
from tests.conftest import METRICS_CASES, METRICS_PROJECT, VIEWS, caller_markers, compile_for, metrics_cases

PROJECT = METRICS_PROJECT
CASES = METRICS_CASES


def execute(project, sql: str, markers: Markers) -> list[dict]:
    """Bind the markers as the server does (parameters, never text) and run on the project's database."""
    bound, params = bind_sql(sql, markers.values, markers.sources)
    cursor = project.database.cursor()
    try:
        result = cursor.execute(bound, params)
        names = [column[0] for column in result.description]
        return [dict(zip(names, map(_plain, row), strict=True)) for row in result.fetchall()]
    finally:
        project.database.close_cursor(cursor)


def run(project, sql: str, args: list | None = None, user: str | None = None) -> list[dict]:
    markers = caller_markers(args)
    return execute(project, compile_for(project, sql, markers, user), markers)


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


QUERY_CASES = metrics_cases("queries.yaml")


@pytest.mark.parametrize("case", QUERY_CASES, ids=[case["sql"][:60] for case in QUERY_CASES])
def test_query(metrics_project, case):
    project = metrics_project
    if "error" in case:
        with pytest.raises((QueryError, AccessDeniedError)) as raised:
            run(project, case["sql"], case.get("args"), case.get("user"))
        assert raised.value.message == case["error"]
    else:
        rows = run(project, case["sql"], case.get("args"), case.get("user"))
        assert rows == case["rows"]
        assert [list(row) for row in rows] == [list(row) for row in case["rows"]]  # column order too


COMPILED_CASES = metrics_cases("compiled.yaml")


@pytest.mark.parametrize("case", COMPILED_CASES, ids=[case["sql"][:60] for case in COMPILED_CASES])
def test_compiled_sql(metrics_project, case):
    project = metrics_project
    compiled = compile_for(project, case["sql"], caller_markers(case.get("args")), case.get("user"))
    assert compiled == case["compiled"]


def test_syntax_error_has_line_and_column():
    with pytest.raises(QueryError) as raised:
        compile_metrics_sql("SELECT pub\nFROM ad_bids_metrics\nWHERE pub = = 'x'", VIEWS, None)
    assert (raised.value.line, raised.value.column) == (3, 13)


def test_sqlglot_command_fallback_is_refused_quietly(caplog):
    with pytest.raises(QueryError) as raised:
        compile_metrics_sql("CALL do_something()", VIEWS, None)
    assert raised.value.message == "metrics sql: expected a SELECT statement"
    assert "Command" not in caplog.text


def test_row_filter_with_bad_sql_is_a_query_error():
    class BrokenPolicy:
        def check(self, condition: str) -> bool:
            return True

        def render(self, template: str) -> str:
            return "publisher = 'x'; DROP TABLE ad_bids"

    with pytest.raises(QueryError, match="row_filter"):
        compile_metrics_sql("SELECT pub FROM ad_bids_metrics", VIEWS, BrokenPolicy())


def test_include_rules_show_only_included_fields(metrics_project):
    project = metrics_project
    document = yaml.safe_load((PROJECT / "metrics" / "ad_bids_metrics.yaml").read_text())
    document["security"] = {
        "include": [
            {"if": "'{{ .user.domain }}' = 'yahoo.com'", "names": ["pub", "records"]},
            {"if": "{{ .user.admin }}", "names": "*"},
        ]
    }
    views = {
        "ad_bids_metrics": parse_metrics_view("ad_bids_metrics", document, "metrics/ad_bids_metrics.yaml")
    }
    sql = "SELECT pub, records FROM ad_bids_metrics WHERE pub = 'Google'"
    markers = Markers()
    yahoo_sql = compile_for(project, sql, markers, "yahoo", views)
    assert execute(project, yahoo_sql, markers) == [{"pub": "Google", "records": 1}]
    with pytest.raises(QueryError, match='invalid measure "impressions": action not allowed'):
        compile_for(project, "SELECT pub, impressions FROM ad_bids_metrics", Markers(), "yahoo", views)
    markers = Markers()
    admin_sql = compile_for(
        project, "SELECT dom, clicks FROM ad_bids_metrics WHERE dom = 'msn.com'", markers, "admin", views
    )
    assert execute(project, admin_sql, markers) == [{"dom": "msn.com", "clicks": 9}]
    with pytest.raises(QueryError, match='invalid dimension "pub": action not allowed'):
        compile_for(project, sql, Markers(), "google", views)
