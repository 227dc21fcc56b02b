"""SQL quoting, written once: identifiers in double quotes, string literals in single quotes (SQL standard)."""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """`a"b` -> `"a""b"`: a name that can never end its quotes early."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """`it's` -> `'it''s'`: a string constant (backslashes escape nothing in standard SQL and DuckDB)."""
    return "'" + text.replace("'", "''") + "'"
