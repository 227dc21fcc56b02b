"""Properties of safe parameters (SPEC §5), for arbitrary values in every place an argument can go.

1. The executed statement's parse tree equals the tree for a neutral value, up to literal values (bound
   parameters, quoted names, sort directions).
2. Honest values (words, numbers, dates, column names, asc/desc) give exactly the rows that Rill's plain
   substitution gives: we paste the value into the SQL ourselves and run both on DuckDB.
"""

from __future__ import annotations

import string
from pathlib import Path

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from project.errors import ArgumentError, QueryError
from project.sql.binding import bind_sql
from project.sql.rendering import Markers, compile_template, render_sql, template_data

ITEMS_MODEL = Path(__file__).resolve().parent / "projects" / "injection" / "models" / "items.sql"
COLUMNS = ("id", "name", "category", "price", "created", "owner")

# (place, template, neutral value, whether every value must bind: a string literal takes any text)
PLACES = [
    ("literal", "SELECT id FROM items WHERE name = '{{ .args.v }}' ORDER BY id", "x", True),
    ("like", "SELECT id FROM items WHERE name LIKE '%{{ .args.v }}%' ORDER BY id", "x", True),
    ("user", "SELECT id FROM items WHERE owner = '{{ .user.v }}' ORDER BY id", "x", True),
    (
        "case",
        "SELECT CASE WHEN name = '{{ .args.v }}' THEN 1 ELSE 0 END AS hit FROM items ORDER BY id",
        "x",
        True,
    ),
    ("function", "SELECT id FROM items WHERE lower(name) = lower('{{ .args.v }}') ORDER BY id", "x", True),
    ("in_list", "SELECT id FROM items WHERE name IN {{ as_sql_list .args.v }} ORDER BY id", "x", True),
    ("interval", "SELECT CAST(DATE '2024-01-01' + INTERVAL '{{ .args.v }} days' AS DATE) AS d", "1", True),
    ("date", "SELECT id FROM items WHERE created = '{{ .args.v }}'::DATE ORDER BY id", "2024-01-01", True),
    ("value", "SELECT id FROM items WHERE id = {{ .args.v }} ORDER BY id", "1", True),
    (
        "case_value",
        "SELECT id, CASE WHEN id = {{ .args.v }} THEN 1 END AS hit FROM items ORDER BY id",
        "1",
        True,
    ),
    ("argument", "SELECT id FROM items WHERE id = abs({{ .args.v }}) ORDER BY id", "1", True),
    ("between", "SELECT id FROM items WHERE id BETWEEN {{ .args.v }} AND 100 ORDER BY id", "1", True),
    ("limit", "SELECT id FROM items ORDER BY id LIMIT {{ .args.v }}", "1", True),
    ("offset", "SELECT id FROM items ORDER BY id LIMIT 100 OFFSET {{ .args.v }}", "1", True),
    ("order_by", "SELECT id FROM items ORDER BY {{ .args.v }}, id", "name", False),
    ("direction", "SELECT id FROM items ORDER BY id {{ .args.v }}", "asc", False),
    ("quoted_name", 'SELECT "{{ .args.v }}" AS c FROM items ORDER BY id', "name", False),
    ("table", 'SELECT count(*) AS n FROM "{{ .args.v }}"', "items", False),
]
PLACE_IDS = [place for place, *_ in PLACES]

SQL_ALPHABET = (
    "'\"`;-/*()[]{}\\%_ .,:$?#=<>|\n\t\r\0\u2019\uff07\u02bc0123456789abcdeflnorstuvxyzASCDEFLNORSTU"
)
ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=SQL_ALPHABET),
    st.sampled_from(
        [
            "x' OR '1'='1",
            "1 OR 1=1",
            "1; DROP TABLE items",
            "asc; DROP TABLE items",
            "id, (SELECT 1)",
            "*/ --",
        ]
    ),
)


def shape_of(template_text: str, value) -> tuple[str, Markers]:
    markers = Markers()
    data = template_data({}, "dev", args={"v": value}, user={"v": value})
    return render_sql(compile_template(template_text, "t"), data, markers), markers


def pasted(template_text: str, value) -> str:
    """Rill's SQL: the same template with the value printed straight into the text."""
    return compile_template(template_text, "t").render(
        template_data({}, "dev", args={"v": value}, user={"v": value})
    )


def bound(template_text: str, value) -> tuple[str, list]:
    shape, markers = shape_of(template_text, value)
    return bind_sql(shape, markers.values, markers.sources)


def normalized(sql: str) -> exp.Expr:
    """The parse tree with what a value may choose blanked out: quoted names and sort directions."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for node in tree.walk():
        if isinstance(node, exp.Identifier) and node.quoted:
            node.set("this", "_")
        elif isinstance(node, exp.Ordered):
            node.set("desc", None)
    return tree


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(ANY_TEXT, st.lists(ANY_TEXT, min_size=1, max_size=4)))
@pytest.mark.parametrize("place, template_text, neutral, always_binds", PLACES, ids=PLACE_IDS)
def test_the_statement_tree_never_depends_on_a_value(place, template_text, neutral, always_binds, value):
    if isinstance(value, list) and place != "in_list":
        value = value[0]
    if place == "in_list" and not isinstance(value, list):
        value = [value]
    neutral_value = ["x"] * len(value) if place == "in_list" else neutral  # a list: its length is what varies
    try:
        sql, params = bound(template_text, value)
    except ArgumentError:  # a refusal is an answer too, where the place may refuse (a name, a direction)
        assert not always_binds, f"{place} refused {value!r}"
    else:
        tree = normalized(sql)
        assert tree == normalized(bound(template_text, neutral_value)[0])
        assert len(list(tree.find_all(exp.Placeholder))) == len(params)


@pytest.fixture(scope="module")
def items():
    connection = duckdb.connect()
    connection.execute(f"CREATE TABLE items AS {ITEMS_MODEL.read_text(encoding='utf-8')}")
    yield connection
    connection.close()


WORDS = st.text(alphabet=string.ascii_letters + string.digits + " -_.:%", max_size=12) | st.sampled_from(
    ["Widget", "Gadget", "Zebra", "apple", "50% off", "under_score", "widget"]
)
DATES = st.dates().map(lambda day: day.isoformat()) | st.sampled_from(["2024-01-03", "2024-01-10"])
INTEGERS = st.integers(min_value=-20, max_value=20).map(str)
DECIMALS = st.decimals(min_value=-20, max_value=20, places=2).map(str)
HONEST = {
    "literal": WORDS | DATES,
    "like": WORDS,
    "case": WORDS,
    "function": WORDS,
    "user": WORDS,
    "in_list": st.lists(WORDS, min_size=1, max_size=4),
    "interval": st.integers(min_value=-5000, max_value=5000).map(str),
    "date": DATES,
    "value": INTEGERS | DECIMALS,
    "case_value": INTEGERS | DECIMALS,
    "argument": INTEGERS,
    "between": INTEGERS,
    "limit": st.integers(min_value=0, max_value=12).map(str),
    "offset": st.integers(min_value=0, max_value=12).map(str),
    "order_by": st.sampled_from(COLUMNS).map(lambda column: column.upper() if len(column) % 2 else column),
    "direction": st.sampled_from(["asc", "desc", "ASC", "Desc", " desc "]),
    "quoted_name": st.sampled_from(COLUMNS),
    "table": st.just("items"),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("place, template_text, neutral, always_binds", PLACES, ids=PLACE_IDS)
def test_honest_values_give_rills_rows(items, place, template_text, neutral, always_binds, data):
    value = data.draw(HONEST[place], label="value")
    sql, params = bound(template_text, value)
    assert run(items, sql, params) == run(items, pasted(template_text, value), [])


def run(connection, sql: str, params: list):
    try:
        return connection.execute(sql, params).fetchall()
    except duckdb.Error as error:  # both sides must fail alike, e.g. a date that does not exist
        return type(error).__name__


@pytest.mark.parametrize(
    "attributes",
    [
        {"v": "o'brien@example.com"},
        {"v": "x' OR '1'='1"},
        {"v": "'; DROP TABLE items; --"},
        {"v": "\u2019 OR 1=1"},
    ],
)
def test_user_attributes_with_quotes_stay_one_value(items, attributes):
    markers = Markers()
    data = template_data({}, "dev", user=attributes)
    shape = render_sql(
        compile_template("SELECT id FROM items WHERE owner = '{{ .user.v }}'", "t"), data, markers
    )
    sql, params = bind_sql(shape, markers.values, markers.sources)
    assert (sql, params, markers.sources) == (
        "SELECT id FROM items WHERE owner = ?",
        [attributes["v"]],
        ["user.v"],
    )
    expected = [(3,)] if attributes["v"] == "o'brien@example.com" else []
    assert items.execute(sql, params).fetchall() == expected


def test_a_refused_statement_stays_refused_for_every_value():
    with pytest.raises(QueryError, match="only read-only"):
        bound("DELETE FROM items WHERE name = '{{ .args.v }}'", "x")
