"""Rendered SQL with value markers -> one checked read-only statement plus bound parameters (SPEC §5).

The renderer prints a marker (see `sentinels`) wherever a caller's value goes. The text with markers in
place is the query's *shape*: it is tokenized, parsed and checked once, and the result is cached. Binding a
request is then a lookup plus turning each value into a parameter, so no value can change the statement.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from project import sentinels
from project.errors import ArgumentError, QueryError

logging.getLogger("sqlglot").setLevel(logging.ERROR)

QUERY_STATEMENTS: tuple[type, ...] = tuple(
    getattr(exp, name) for name in ("Select", "Union", "Intersect", "Except", "Values", "Describe",
                                    "Summarize", "Subquery") if hasattr(exp, name))
WRITE_NODES: tuple[type, ...] = tuple(
    getattr(exp, name) for name in ("Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command",
                                    "Copy", "Attach", "Detach", "Install", "Set", "Pragma", "Use", "Transaction",
                                    "Commit", "Rollback", "LoadData", "Export", "Import") if hasattr(exp, name))
FILE_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
    "read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects",
    "read_text", "read_blob", "glob", "sniff_csv", "read_xlsx", "iceberg_scan", "delta_scan", "parquet_metadata",
    "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata", "read_parquet_metadata", "st_read",
    "readcsv", "readparquet", "readjson", "query_table", "query",
})
PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INTEGER = re.compile(r"[+-]?\d+")
DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+)")
FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")


@dataclass(frozen=True)
class Slot:
    """Where caller values go: `literal` and `value` become parameters, `identifier` a quoted name."""

    kind: str
    pieces: tuple[str | int, ...]  # text around marker indexes (ints), for literal and identifier slots


@dataclass(frozen=True)
class CompiledShape:
    """A checked statement split into SQL text and slots; bind() fills the slots for one request."""

    pieces: tuple[str | Slot, ...]

    def bind(self, values: Sequence[str], sources: Sequence[str], placeholder: str = "?") -> tuple[str, list]:
        """The SQL text and parameter list for these caller values (the printed text of each)."""
        parts: list[str] = []
        params: list[Any] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                parts.append(piece)
            elif piece.kind in ("identifier", "quoted_identifier"):
                parts.append(_identifier(piece, values, sources))
            else:
                parts.append(placeholder)
                params.append(_literal_value(piece, values))
        return "".join(parts), params


def bind_sql(shape_sql: str, values: Sequence[str], sources: Sequence[str],
             dialect: str = "duckdb") -> tuple[str, list]:
    """Check the shape (cached) and bind the values: the one call the request path makes."""
    compiled = compile_shape(shape_sql, dialect, tuple(sources))
    return compiled.bind(values, sources)


@lru_cache(maxsize=2048)
def compile_shape(shape_sql: str, dialect: str, sources: tuple[str, ...] = ()) -> CompiledShape:
    """Tokenize, parse and check one shape; raise QueryError or ArgumentError if it may not run."""
    tokens = _tokenize(shape_sql, dialect, sources)
    statement = _parse_one_query(shape_sql, dialect, sources)
    roles = _marker_roles(statement, sources)
    pieces: list[str | Slot] = []
    cursor = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:  # only empty statements follow ours: drop the separators
            pieces.append(shape_sql[cursor:token.start] + " ")
            cursor = token.end + 1
            continue
        indexes = sentinels.marker_indexes(token.text)
        if not indexes:
            continue
        slot = _slot_for_token(token, indexes, roles, sources)
        pieces.append(shape_sql[cursor:token.start])
        pieces.append(slot)
        cursor = token.end + 1
    pieces.append(shape_sql[cursor:])
    return CompiledShape(tuple(piece for piece in pieces if piece != ""))


def _tokenize(shape_sql: str, dialect: str, sources: Sequence[str]) -> list:
    try:
        return sqlglot.Dialect.get_or_raise(dialect).tokenize(shape_sql)
    except TokenError as error:
        raise QueryError(f"SQL syntax error: {_readable(str(error), sources)}") from None


def _parse_one_query(shape_sql: str, dialect: str, sources: Sequence[str]) -> exp.Expression:
    try:
        statements = [tree for tree in sqlglot.parse(shape_sql, read=dialect)
                      if tree is not None and not isinstance(tree, exp.Semicolon)]
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        message = first.get("description") or str(error)
        if first.get("highlight"):
            message += f' near "{first["highlight"]}"'
        message = _readable(message, sources)
        raise QueryError(f"SQL syntax error: {message}", line=first.get("line"), column=first.get("col")) from None
    except TokenError as error:
        raise QueryError(f"SQL syntax error: {_readable(str(error), sources)}") from None
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    check_read_only(statements[0])
    return statements[0]


def check_read_only(statement: exp.Expression) -> None:
    """Only queries run: the root must be a query and nothing inside it may write or change settings."""
    if not isinstance(statement, QUERY_STATEMENTS):
        raise QueryError(f"only read-only queries are allowed, not {_statement_kind(statement)}")
    for node in statement.walk():
        if isinstance(node, WRITE_NODES):
            raise QueryError(f"only read-only queries are allowed, not {_statement_kind(node)}")


def _statement_kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def _marker_roles(statement: exp.Expression, sources: Sequence[str]) -> dict[int, tuple[str, exp.Expression]]:
    """For each marker index, the kind of node that holds it: a string literal or an identifier."""
    roles: dict[int, tuple[str, exp.Expression]] = {}
    for node in statement.walk():
        if isinstance(node, exp.Literal) and node.is_string:
            role = "literal"
        elif isinstance(node, exp.Identifier):
            role = "identifier"
        else:
            continue
        for index in sentinels.marker_indexes(str(node.this)):
            if _reads_files(node):
                raise ArgumentError(f"argument {_name(index, sources)} cannot be used there: "
                                    "file and table functions take no caller values")
            roles[index] = (role, node)
    return roles


def _reads_files(node: exp.Expression) -> bool:
    """True when the node sits inside a table function that reads files, or names a file in FROM."""
    for ancestor in _ancestors(node):
        if isinstance(ancestor, exp.Func) and _function_name(ancestor) in FILE_FUNCTIONS:
            return True
    return isinstance(node, exp.Identifier) and node.quoted and isinstance(node.parent, exp.Table) and \
        "." in node.this


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower() if hasattr(node, "sql_name") else type(node).__name__.lower()


def _ancestors(node: exp.Expression):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _slot_for_token(token, indexes: list[int], roles: dict, sources: Sequence[str]) -> Slot:
    """Decide what one token holding markers becomes, from its token type and its place in the tree."""
    first = indexes[0]
    role, node = roles.get(first, (None, None))
    if token.token_type == TokenType.STRING and role == "literal":
        return Slot("literal", _split(token.text))
    if token.token_type == TokenType.IDENTIFIER and role == "identifier":
        return Slot("quoted_identifier", _split(token.text))
    if token.token_type == TokenType.VAR and role == "identifier" and sentinels.is_marker(token.text):
        return Slot(_bare_marker_kind(node), (first,))
    raise ArgumentError(f"argument {_name(first, sources)} cannot be used there")


def _bare_marker_kind(identifier: exp.Expression) -> str:
    """A bare marker is a name where SQL expects a name, else a value (comparison, LIMIT, argument...)."""
    parent = identifier.parent
    if not isinstance(parent, exp.Column):
        return "identifier"  # table name, alias, ...
    holder = parent.parent
    if isinstance(holder, (exp.Ordered, exp.Group)):
        return "identifier"
    if isinstance(holder, exp.Select) and parent in holder.expressions:
        return "identifier"
    if isinstance(holder, exp.Alias) and isinstance(holder.parent, exp.Select):
        return "identifier"
    return "value"


def _split(text: str) -> tuple[str | int, ...]:
    parts = sentinels.PATTERN.split(text)
    return tuple(int(part) if position % 2 else part for position, part in enumerate(parts) if part != "")


def _fill(pieces: tuple[str | int, ...], values: Sequence[str]) -> str:
    return "".join(values[piece] if isinstance(piece, int) else piece for piece in pieces)


def _literal_value(slot: Slot, values: Sequence[str]) -> Any:
    if slot.kind == "literal":
        return _fill(slot.pieces, values)
    return typed_value(values[slot.pieces[0]])  # type: ignore[index]


def typed_value(text: str) -> Any:
    """What the text would mean pasted bare into SQL: a number, a boolean, NULL, or else a string."""
    stripped = text.strip()
    if INTEGER.fullmatch(stripped):
        return int(stripped)
    if DECIMAL.fullmatch(stripped):
        return Decimal(stripped)
    if FLOAT.fullmatch(stripped):
        return float(stripped)
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    return text


def _identifier(slot: Slot, values: Sequence[str], sources: Sequence[str]) -> str:
    """A bare name must be plain; inside quotes anything goes but NUL. Either way it is quoted."""
    name = _fill(slot.pieces, values)
    if slot.kind == "identifier" and not PLAIN_IDENTIFIER.fullmatch(name):
        raise ArgumentError(f"argument {_name(slot.pieces[0], sources)} must be a plain name "  # type: ignore[arg-type]
                            "(letters, digits and underscores) where it is used")
    if "\x00" in name:
        raise ArgumentError("a name may not contain a NUL character")
    return '"' + name.replace('"', '""') + '"'


def _name(index: int, sources: Sequence[str]) -> str:
    source = sources[index] if index < len(sources) else f"#{index}"
    return f'"{argument_label(source)}"'


def argument_label(source: str) -> str:
    """`args.limit` -> `limit`; `user.email` stays `user.email`."""
    return source.removeprefix("args.")


def _readable(message: str, sources: Sequence[str]) -> str:
    """Show `{{ .args.x }}` in messages where the SQL held a marker."""
    def replace(match: re.Match) -> str:
        index = int(match.group(1))
        source = sources[index] if index < len(sources) else "args"
        return "{{ ." + source + " }}"
    return sentinels.PATTERN.sub(replace, message)
