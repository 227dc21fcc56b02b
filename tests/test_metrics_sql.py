"""Metrics SQL compiled and run on DuckDB over the fixture project tests/projects/metrics.

The cases are data: tests/metrics_cases/queries.yaml (metrics SQL -> rows or error) and
tests/metrics_cases/compiled.yaml (metrics SQL -> the DuckDB SQL we generate, for reviewers).
"""

from __future__ import annotations

import datetime
import decimal
import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
import yaml
from sqlglot import exp

from project.errors import AccessDeniedError, QueryError
from project.metrics.sql import compile_metrics_sql
from project.metrics.views import parse_metrics_view
from project.sql import sentinels

PROJECT = Path(__file__).parent / "projects" / "metrics"
CASES = Path(__file__).parent / "metrics_cases"
USERS = {
    "admin": {"admin": True, "domain": "example.com", "publisher": ""},
    "yahoo": {"admin": False, "domain": "yahoo.com", "publisher": "yahoo"},
    "google": {"admin": False, "domain": "google.com", "publisher": "Google"},
    "stranger": {"admin": False, "domain": "example.org", "publisher": "Yahoo"},
}
_USER_FIELD = re.compile(r"\{\{\s*\.user\.(\w+)\s*\}\}")


def load_view(name: str = "ad_bids_metrics"):
    path = PROJECT / "metrics" / f"{name}.yaml"
    return parse_metrics_view(name, yaml.safe_load(path.read_text()), str(path))


VIEWS = {"ad_bids_metrics": load_view()}


class UserPolicy:
    """A small Policy: `{{ .user.x }}` templates only, conditions evaluated by DuckDB.

    `render` prints caller values as markers, numbered after the query's own, and keeps their values, as the
    server's template engine does; `bind_markers` puts them back in.
    """

    def __init__(self, user: dict, values: list) -> None:
        self.user = user
        self.values = values

    def check(self, condition: str) -> bool:
        text = _USER_FIELD.sub(lambda match: _go_print(self.user.get(match[1])), condition)
        with duckdb.connect() as connection:
            return connection.execute(f"SELECT CAST(({text}) AS BOOLEAN)").fetchall() == [(True,)]

    def render(self, template: str) -> str:
        def marker(match: re.Match) -> str:
            self.values.append(self.user.get(match[1]))
            return sentinels.marker(len(self.values) - 1)

        return _USER_FIELD.sub(marker, template)


def _go_print(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "<no value>" if value is None else str(value)


def bind_markers(sql: str, values: list) -> str:
    """Put caller values back in place of markers, as literals, so DuckDB can run the SQL in this test.

    The server binds them as parameters instead (the SQL checker's job); literals are enough here.
    """

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and sentinels.is_marker(node.name):
            return _literal(values[sentinels.marker_indexes(node.name)[0]])
        if isinstance(node, exp.Literal) and node.is_string and sentinels.marker_indexes(node.this):
            text = sentinels.PATTERN.sub(lambda match: str(values[int(match[1])]), node.this)
            return exp.Literal.string(text)
        return node

    return sqlglot.parse_one(sql, dialect="duckdb").transform(replace).sql(dialect="duckdb")


def _literal(value) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


@pytest.fixture(scope="module")
def database():
    connection = duckdb.connect()
    connection.execute(f"SET file_search_path = '{PROJECT}'")
    model = (PROJECT / "models" / "ad_bids.sql").read_text()
    connection.execute(f'CREATE VIEW "ad_bids" AS {model}')
    yield connection
    connection.close()


def run(database, sql: str, args: list | None = None, user: str | None = None) -> list[dict]:
    values = list(args or [])
    policy = UserPolicy(USERS[user], values) if user else None
    compiled = compile_metrics_sql(sql, VIEWS, policy)
    result = database.execute(bind_markers(compiled, values))
    names = [column[0] for column in result.description]
    return [dict(zip(names, map(_plain, row), strict=True)) for row in result.fetchall()]


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _cases(name: str) -> list:
    return yaml.safe_load((CASES / name).read_text())


QUERY_CASES = _cases("queries.yaml")


@pytest.mark.parametrize("case", QUERY_CASES, ids=[case["sql"][:60] for case in QUERY_CASES])
def test_query(database, case):
    if "error" in case:
        with pytest.raises((QueryError, AccessDeniedError)) as raised:
            run(database, case["sql"], case.get("args"), case.get("user"))
        assert raised.value.message == case["error"]
    else:
        rows = run(database, case["sql"], case.get("args"), case.get("user"))
        assert rows == case["rows"]
        assert [list(row) for row in rows] == [list(row) for row in case["rows"]]  # column order too


COMPILED_CASES = _cases("compiled.yaml")


@pytest.mark.parametrize("case", COMPILED_CASES, ids=[case["sql"][:60] for case in COMPILED_CASES])
def test_compiled_sql(case):
    policy = UserPolicy(USERS[case["user"]], list(case.get("args", []))) if case.get("user") else None
    assert compile_metrics_sql(case["sql"], VIEWS, policy) == case["compiled"]


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


def test_include_rules_show_only_included_fields(database):
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
    yahoo, admin = UserPolicy(USERS["yahoo"], []), UserPolicy(USERS["admin"], [])
    sql = "SELECT pub, records FROM ad_bids_metrics WHERE pub = 'Google'"
    assert database.execute(compile_metrics_sql(sql, views, yahoo)).fetchall() == [("Google", 1)]
    with pytest.raises(QueryError, match='invalid measure "impressions": action not allowed'):
        compile_metrics_sql("SELECT pub, impressions FROM ad_bids_metrics", views, yahoo)
    admin_sql = compile_metrics_sql(
        "SELECT dom, clicks FROM ad_bids_metrics WHERE dom = 'msn.com'", views, admin
    )
    assert database.execute(admin_sql).fetchall() == [("msn.com", 9)]
    with pytest.raises(QueryError, match='invalid dimension "pub": action not allowed'):
        compile_metrics_sql(sql, views, UserPolicy(USERS["google"], []))
