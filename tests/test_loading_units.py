"""Unit tables for the loader's small parts: `.env` parsing, model dependency order, referenced model names."""

from __future__ import annotations

import pytest

from project.loading.files import parse_dotenv
from project.loading.models import dependency_order, referenced_names

DOTENV = [
    # (text, variables)
    ("", {}),
    ("A=1", {"A": "1"}),
    ("A=1\nB=two words", {"A": "1", "B": "two words"}),
    ("# comment\nA=1\n\n  # indented comment", {"A": "1"}),
    ("export A=1", {"A": "1"}),
    ("A = 1 ", {"A": "1"}),
    ('A="quoted value"', {"A": "quoted value"}),
    ("A='single'", {"A": "single"}),
    ("A=\"mismatched'", {"A": "\"mismatched'"}),
    ('A="', {"A": '"'}),
    ("A=x=y", {"A": "x=y"}),
    ("A=", {"A": ""}),
    ("no equals sign", {}),
    ("A=1\nA=2", {"A": "2"}),
    ("A=1 # not a comment", {"A": "1 # not a comment"}),
    ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
]


@pytest.mark.parametrize("text, variables", DOTENV)
def test_dotenv(text, variables):
    assert parse_dotenv(text) == variables


ORDERS = [
    # (dependencies, build order, models caught in a cycle)
    ({}, [], set()),
    ({"a": set()}, ["a"], set()),
    ({"a": {"b"}, "b": set()}, ["b", "a"], set()),
    ({"c": {"b"}, "b": {"a"}, "a": set()}, ["a", "b", "c"], set()),
    ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, ["c", "b", "a"], set()),
    ({"a": {"a"}}, [], {"a"}),
    ({"a": {"b"}, "b": {"a"}}, [], {"a", "b"}),
    ({"a": {"b"}, "b": {"a"}, "c": set()}, ["c"], {"a", "b"}),
    ({"a": {"outside"}}, ["outside", "a"], set()),  # a name that is not a model still comes first
]


@pytest.mark.parametrize("dependencies, order, cyclic", ORDERS)
def test_dependency_order(dependencies, order, cyclic):
    built, cycles = dependency_order(dependencies)
    assert built == order
    assert set(cycles) == cyclic
    for member in cyclic:
        assert cycles[member].startswith("model dependency cycle: ") and member in cycles[member]


NAMES = [
    # (sql, candidate model names, names the SQL reads)
    ("SELECT * FROM a", {"a", "b"}, {"a"}),
    ("SELECT * FROM a JOIN b USING (id)", {"a", "b", "c"}, {"a", "b"}),
    ('SELECT * FROM "A"', {"a"}, {"a"}),
    ("SELECT * FROM A", {"a"}, {"a"}),
    ("SELECT * FROM a", {"A"}, {"A"}),
    ("SELECT b FROM a", {"b"}, set()),  # a column, not a table
    ("SELECT * FROM (SELECT * FROM b) AS a", {"a", "b"}, {"b"}),
    ("WITH x AS (SELECT * FROM a) SELECT * FROM x", {"a"}, {"a"}),
    ("SELECT * FROM a WHERE id IN (SELECT id FROM b)", {"a", "b"}, {"a", "b"}),
    ("SELECT * FROM read_parquet('b.parquet')", {"b"}, set()),
    ("SELECT 'a' AS text", {"a"}, set()),
    ("SELECT * FROM a ((", {"a"}, {"a"}),  # unparsable: tokens as a fallback
    ("", {"a"}, set()),
]


@pytest.mark.parametrize("sql, candidates, names", NAMES)
def test_referenced_names(sql, candidates, names):
    assert referenced_names(sql, candidates) == names
