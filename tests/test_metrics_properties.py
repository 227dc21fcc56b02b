"""Rules of the metrics SQL compiler that hold for all inputs: names quoted exactly, markers only where values go."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from project.metrics.sql import compile_metrics_sql
from project.metrics.views import parse_metrics_view
from project.sql import sentinels
from project.sql.quoting import quote_identifier as quoted
from tests.conftest import caller_markers, compile_for, metrics_cases

NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda name: name.strip() == name and not sentinels.marker_indexes(name)
)
VALUE_PARENTS = (
    exp.EQ,
    exp.NEQ,
    exp.LT,
    exp.LTE,
    exp.GT,
    exp.GTE,
    exp.In,
    exp.Between,
    exp.Limit,
    exp.Offset,
    exp.And,
    exp.Or,
    exp.Not,
    exp.Paren,
)


@settings(max_examples=60, deadline=None)
@given(dimension=NAMES, measure=NAMES)
def test_any_field_name_comes_out_exactly(dimension, measure):
    assume(dimension.lower() != measure.lower())
    document = {
        "model": "t",
        "dimensions": [{"name": dimension, "column": "c"}],
        "measures": [{"name": measure, "expression": "count(*)"}],
    }
    views = {"v": parse_metrics_view("v", document, "metrics/v.yaml")}
    sql = compile_metrics_sql(
        f"SELECT {quoted(dimension)}, {quoted(measure)} FROM v WHERE {quoted(dimension)} = 'a' "
        f"HAVING {quoted(measure)} > 0 ORDER BY {quoted(measure)} DESC",
        views,
        None,
    )
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a'), ('a'), ('b')) AS v(c)")
        result = connection.execute(sql)
        assert [column[0] for column in result.description] == [dimension, measure]
        assert result.fetchall() == [("a", 2)]


def marker_places(sql: str) -> list[str]:
    """Where each marker sits in the SQL: 'literal' or 'value' (a bare marker under a value-taking node)."""
    places = []
    for node in sqlglot.parse_one(sql, dialect="duckdb").walk():
        if isinstance(node, exp.Literal) and node.is_string and sentinels.marker_indexes(node.this):
            places.append("literal")
        elif isinstance(node, exp.Identifier) and sentinels.marker_indexes(node.this):
            column = node.parent
            value = (
                isinstance(column, exp.Column)
                and not column.table
                and sentinels.is_marker(node.this)
                and isinstance(column.parent, VALUE_PARENTS)
            )
            places.append("value" if value else f"bad: {node.sql()}")
    return places


MARKER_CASES = [
    case
    for case in metrics_cases("queries.yaml")
    if (case.get("args") or case.get("user")) and "rows" in case
]


@pytest.mark.parametrize("case", MARKER_CASES, ids=[case["sql"][:60] for case in MARKER_CASES])
def test_markers_stay_in_value_positions(metrics_project, case):
    markers = caller_markers(case.get("args"))
    compiled = compile_for(metrics_project, case["sql"], markers, case.get("user"))
    places = marker_places(compiled)
    assert places and all(place in ("literal", "value") for place in places)
    assert set(sentinels.marker_indexes(compiled)) == set(range(len(markers.values)))
