"""Relative file paths in SQL made absolute under the project folder.

DuckDB resolves a relative path against the process's working directory, both when it checks the path
against its allowed directories and when it opens the file. So `read_csv('data/x.csv')` would mean a
different file (and a different permission) depending on where the server was started. Writing the
project folder in front of every relative path a query reads makes the path mean one file everywhere.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from project.sql.binding import FILE_FUNCTIONS

NOT_PATH_FUNCTIONS = frozenset({"query", "query_table", "json_execute_serialized_sql"})
PATH_FUNCTIONS = FILE_FUNCTIONS - NOT_PATH_FUNCTIONS
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
FILE_EXTENSION = re.compile(r"\.(csv|tsv|txt|parquet|json|jsonl|ndjson|xlsx|gz|zst)$", re.IGNORECASE)
# Words that every path function's name contains: a cheap test before any parsing.
PATH_FUNCTION_WORDS = ("read", "glob", "parquet", "sniff", "iceberg", "delta")


def absolute_file_paths(sql: str, base_dir: str) -> str:
    """The SQL with each relative path it reads (a file function's path argument, a file name in FROM)
    written as `base_dir/path`; SQL that does not parse is returned as it is (the engine will refuse it)."""
    if not may_read_files(sql):
        return sql
    try:
        statements = sqlglot.parse(sql, read="duckdb")
    except (ParseError, TokenError):
        return sql
    spans = sorted(
        {span for statement in statements if statement is not None for span in _relative_paths(statement)},
        reverse=True,
    )
    for start, end, path in spans:
        quote = sql[start] if sql[start] in "'\"" else "'"
        absolute = os.path.join(base_dir, path)
        sql = sql[:start] + quote + absolute.replace(quote, quote * 2) + quote + sql[end + 1 :]
    return sql


def may_read_files(sql: str) -> bool:
    """A cheap test (no parsing) that the SQL may read a file: it quotes something, and it calls a file
    function or has a quoted name after FROM or JOIN. A read it misses keeps its relative path, which the
    sandbox then resolves against the working directory: refused unless that is the project folder."""
    if "'" not in sql and '"' not in sql:
        return False
    lowered = sql.lower()
    return any(word in lowered for word in PATH_FUNCTION_WORDS) or _quoted_after(lowered, ("from", "join"))


def _quoted_after(lowered: str, keywords: tuple[str, ...]) -> bool:
    for keyword in keywords:
        at = lowered.find(keyword)
        while at != -1:
            if lowered[at + len(keyword) : at + len(keyword) + 64].lstrip()[:1] in ("'", '"'):
                return True
            at = lowered.find(keyword, at + len(keyword))
    return False


def _relative_paths(statement: exp.Expr) -> Iterator[tuple[int, int, str]]:
    """(start, end, path) of each relative path the statement reads, as offsets into its text."""
    for node in statement.walk():
        if isinstance(node, exp.Func) and _function_name(node) in PATH_FUNCTIONS:
            yield from _literal_spans(_first_argument(node))
        elif isinstance(node, exp.Table) and _names_file(node.this):
            yield from _span(node.this, node.this.this)


def _first_argument(function: exp.Func) -> exp.Expression | None:
    if isinstance(function.this, exp.Expression):
        return function.this
    return function.expressions[0] if function.expressions else None


def _literal_spans(argument: exp.Expression | None) -> Iterator[tuple[int, int, str]]:
    literals = argument.expressions if isinstance(argument, exp.Array) else [argument]
    for literal in literals:
        if isinstance(literal, exp.Literal) and literal.is_string:
            yield from _span(literal, literal.this)


def _span(node: exp.Expression, path: str) -> Iterator[tuple[int, int, str]]:
    start, end = node.meta.get("start"), node.meta.get("end")
    if start is not None and end is not None and _is_relative(path):
        yield start, end, path


def _is_relative(path: str) -> bool:
    return bool(path) and not path.startswith(("/", "~")) and not URL_SCHEME.match(path)


def _names_file(name: exp.Expression) -> bool:
    """`FROM 'data/x.csv'`: a quoted table name that looks like a file (DuckDB reads it as one)."""
    if not isinstance(name, exp.Identifier) or not name.quoted:
        return False
    return "/" in name.this or bool(FILE_EXTENSION.search(name.this))


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()
