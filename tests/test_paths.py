"""Relative file paths in SQL made absolute under the project folder, and nothing else touched."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from project.sql.paths import absolute_file_paths, may_read_files

BASE = "/srv/my project"

CASES = [
    ("SELECT * FROM read_csv('data/x.csv')", "SELECT * FROM read_csv('/srv/my project/data/x.csv')"),
    (
        "SELECT * FROM read_csv('x.csv', delim = ',', header = true)",
        "SELECT * FROM read_csv('/srv/my project/x.csv', delim = ',', header = true)",
    ),
    (
        "SELECT * FROM read_parquet(['a.parquet', '/abs/b.parquet', 's3://bucket/c.parquet'])",
        "SELECT * FROM read_parquet(['/srv/my project/a.parquet', '/abs/b.parquet', 's3://bucket/c.parquet'])",
    ),
    ("SELECT * FROM 'data/x.csv' AS t", "SELECT * FROM '/srv/my project/data/x.csv' AS t"),
    (
        'SELECT * FROM a JOIN "data/y.parquet" USING (id)',
        'SELECT * FROM a JOIN "/srv/my project/data/y.parquet" USING (id)',
    ),
    ("SELECT * FROM glob('data/*')", "SELECT * FROM glob('/srv/my project/data/*')"),
    (
        "SELECT content FROM read_text('it''s.txt')",
        "SELECT content FROM read_text('/srv/my project/it''s.txt')",
    ),
    (
        "SELECT 1\nFROM\n  read_json_auto(\n    'x.json', format = 'array')\nWHERE name = 'x.json'",
        "SELECT 1\nFROM\n  read_json_auto(\n    '/srv/my project/x.json', format = 'array')\nWHERE name = 'x.json'",
    ),
    (
        "WITH f AS (SELECT * FROM read_csv_auto('a.csv')) SELECT * FROM f, read_text('b.txt')",
        (
            "WITH f AS (SELECT * FROM read_csv_auto('/srv/my project/a.csv')) "
            "SELECT * FROM f, read_text('/srv/my project/b.txt')"
        ),
    ),
    # not paths, or not relative: left as written
    ("SELECT * FROM read_csv('/etc/x.csv')", None),
    ("SELECT * FROM read_text('~/x.txt')", None),
    ("SELECT * FROM read_text('https://example.com/x.txt')", None),
    ("SELECT * FROM query_table('data/x.csv')", None),
    ('SELECT * FROM "my_table"', None),
    ("SELECT 'data/x.csv' AS name FROM t", None),
    ("SELECT * FROM read_csv('data/x.csv'", None),  # does not parse: the engine reports it
    ("SELECT 1", None),
]


@pytest.mark.parametrize("sql, expected", CASES)
def test_relative_paths_become_absolute_and_nothing_else_changes(sql, expected):
    assert absolute_file_paths(sql, BASE) == (sql if expected is None else expected)


@pytest.mark.parametrize("sql, expected", CASES)
def test_the_cheap_test_lets_every_rewritten_statement_through(sql, expected):
    if expected is not None:
        assert may_read_files(sql)


PATHS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda path: not path.startswith(("/", "~")) and "://" not in path
)


@given(PATHS)
def test_any_relative_path_reads_the_same_name_under_the_project(path):
    literal = "'" + path.replace("'", "''") + "'"
    rewritten = absolute_file_paths(f"SELECT * FROM read_text({literal}) WHERE x = {literal}", BASE)
    tree = sqlglot.parse_one(rewritten, read="duckdb")
    strings = [node.this for node in tree.find_all(exp.Literal) if node.is_string]
    assert sorted(strings) == sorted([f"{BASE}/{path}", path])


def test_duckdb_reads_the_rewritten_path(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("id\n7\n")
    sql = absolute_file_paths("SELECT id FROM 'data/x.csv'", str(tmp_path))
    assert duckdb.connect().execute(sql).fetchall() == [(7,)]
