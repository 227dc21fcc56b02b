"""Rendered SQL with value markers -> one checked read-only statement plus bound parameters (SPEC §5).

The renderer prints a marker (see `sentinels`) wherever a caller's value goes. The text with markers in
place is the query's *shape*: it is tokenized, parsed and checked once, and the result (or the refusal) is
cached. Binding a request is then a lookup plus turning each value into a parameter, a quoted name or a sort
direction, so no value can change the statement.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from project.errors import ArgumentError, QueryError, SluiceError
from project.sql import sentinels
from project.sql.lists import Folded, Member, fold_lists
from project.sql.quoting import quote_identifier
from project.sql.shape_cache import ByteBoundedCache
from project.sql.sizes import check_sql_size
from project.sql.statements import (
    StatementError,
    check_leading_keyword,
    check_read_only,
    explicit_ascending,
    sort_direction_tokens,
)

logging.getLogger("sqlglot").setLevel(logging.ERROR)

SHAPE_CACHE_BYTES = 64 * 1024 * 1024  # checked shapes kept per process (see _footprint for the estimate)
ENTRY_BYTES = 600  # a cache entry's fixed cost: key tuple, compiled object, bookkeeping
SLOT_BYTES = 400  # one slot: its dataclass, its pieces tuple and the index ints
FILE_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_json_objects_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_text",
        "read_blob",
        "glob",
        "sniff_csv",
        "read_xlsx",
        "iceberg_scan",
        "iceberg_metadata",
        "iceberg_snapshots",
        "delta_scan",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "read_parquet_metadata",
        "st_read",
        "st_read_meta",
        "readcsv",
        "readparquet",
        "readjson",
        "query_table",
        "query",
        "json_execute_serialized_sql",
        "read_duckdb",
        # other engines' readers of files, URLs and other servers (ClickHouse table functions,
        # PostgreSQL and MySQL file functions): no caller value may choose what they read
        "file",
        "url",
        "remote",
        "remotesecure",
        "cluster",
        "mysql",
        "postgresql",
        "jdbc",
        "odbc",
        "hdfs",
        "s3",
        "input",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "lo_import",
        "dblink",
        "load_file",
    }
)
PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+)", re.ASCII)
FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+", re.ASCII)
SQL_STRING = re.compile(r"'((?:[^']|'')*)'", re.DOTALL)
PATH_CHARACTERS = re.compile(r"[./\\:]")
SORT_DIRECTIONS = {"asc": "ASC", "desc": "DESC", "": ""}


@dataclass(frozen=True)
class Slot:
    """Where caller values go: literals and values become parameters, names quoted, directions keywords.

    Kinds: `literal` (a whole string literal), `value` (a bare value), `identifier` (a bare name, must be
    plain), `quoted_identifier`, `table_name` (a quoted name that must not look like a file), `direction`.
    `wrap` puts the placeholder in parentheses where SQL needs an expression (`INTERVAL (?)`, `DATE (?)`).
    """

    kind: str
    pieces: tuple[str | int, ...]  # text around marker indexes (ints)
    wrap: bool = False

    @property
    def first(self) -> int:
        return next(piece for piece in self.pieces if isinstance(piece, int))

    def text(self, values: Sequence[str]) -> str:
        """The slot's text with the values filled in (most slots are one whole value)."""
        if len(self.pieces) == 1 and isinstance(self.pieces[0], int):
            return values[self.pieces[0]]
        return "".join(values[piece] if isinstance(piece, int) else piece for piece in self.pieces)


@dataclass(frozen=True)
class ParamStyle:
    """How one driver's bound statements are written: `?` (DuckDB), `%s` (psycopg, PyMySQL) or
    `%(p0)s` (clickhouse-driver, which takes a dict); `%` in the fixed text is doubled where the driver
    formats with `%`; names quoted as the engine quotes them."""

    placeholder: str = "?"
    named: bool = False  # parameters passed as {"p0": ...} and written `%(p0)s`
    percent: bool = False  # the driver reads `%` in the statement: fixed text doubles it
    quote_identifier: Callable[[str], str] = quote_identifier

    def write_placeholder(self, index: int) -> str:
        return f"%(p{index})s" if self.named else self.placeholder

    def params(self, values: list[Any]) -> list[Any] | dict[str, Any]:
        return {f"p{index}": value for index, value in enumerate(values)} if self.named else values


DUCKDB_STYLE = ParamStyle()


@dataclass(frozen=True)
class CompiledShape:
    """A checked statement split into SQL text and slots; bind() fills the slots for one request."""

    pieces: tuple[str | Slot, ...]

    def bind(
        self,
        values: Sequence[str],
        sources: Sequence[str],
        style: ParamStyle = DUCKDB_STYLE,
        groups: Sequence[tuple[Member, ...]] | None = None,
    ) -> tuple[str, Any]:
        """The SQL text and parameters (a list, or a dict for named styles) for these caller values.
        With `groups` (a folded shape), marker k stands for the values `groups[k]`, comma-separated."""
        parts: list[str] = []
        params: list[Any] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                parts.append(piece.replace("%", "%%") if style.percent else piece)
                continue
            slots = [piece] if groups is None else _unfolded(piece, groups)
            for position, slot in enumerate(slots):
                if position:
                    parts.append(", ")
                parts.append(_bind_slot(slot, values, sources, style, params))
        return "".join(parts), style.params(params)

    @cached_property
    def _whole_markers(self) -> dict[int, str]:
        """Markers that are a whole slot of their own, with the slot's kind."""
        return {
            piece.pieces[0]: piece.kind
            for piece in self.pieces
            if isinstance(piece, Slot) and len(piece.pieces) == 1 and isinstance(piece.pieces[0], int)
        }

    def holds(self, folded: Folded) -> bool:
        """Whether each folded marker is a whole value slot (or a name slot of bare items), so writing one
        placeholder or name per item means what the printed list meant."""
        for index, members in enumerate(folded.groups):
            if len(members) == 1:
                continue
            kind = self._whole_markers.get(index)
            if kind != "value" and not (kind == "identifier" and not any(m.quoted for m in members)):
                return False
        return True


def _unfolded(slot: Slot, groups: Sequence[tuple[Member, ...]]) -> list[Slot]:
    """The slots for the caller's values behind a folded slot: one per list item, or the slot renumbered."""
    first = slot.pieces[0]
    if len(slot.pieces) == 1 and isinstance(first, int) and len(groups[first]) > 1:
        return [
            Slot("literal" if member.quoted else slot.kind, (member.index,), slot.wrap)
            for member in groups[first]
        ]
    pieces = tuple(groups[piece][0].index if isinstance(piece, int) else piece for piece in slot.pieces)
    return [Slot(slot.kind, pieces, slot.wrap)]


def _bind_slot(
    slot: Slot, values: Sequence[str], sources: Sequence[str], style: ParamStyle, params: list
) -> str:
    """One slot's text; a value's parameter is appended to `params`."""
    if slot.kind in ("literal", "value"):
        placeholder = style.write_placeholder(len(params))
        params.append(_parameter(slot, values))
        return f"({placeholder})" if slot.wrap else placeholder
    if slot.kind == "direction":
        return _direction(slot, values, sources)
    return style.quote_identifier(_identifier(slot, values, sources))


@dataclass(frozen=True)
class Refusal:
    """A cached refusal: the error to raise again for every request with this shape."""

    error_class: type[SluiceError]
    message: str  # arguments named by position (see _positional_sources), filled in by error()
    line: int | None
    column: int | None

    def error(self, sources: Sequence[str]) -> SluiceError:
        return self.error_class(_with_names(self.message, sources), line=self.line, column=self.column)


def bind_sql(
    shape_sql: str,
    values: Sequence[str],
    sources: Sequence[str],
    dialect: str = "duckdb",
    style: ParamStyle = DUCKDB_STYLE,
    size_limit: tuple[int, str] | None = None,
) -> tuple[str, Any]:
    """Check the shape (cached) and bind the values: the one call the request path makes. Lists of
    caller values are folded first (see `lists`), so their length does not make a new shape. With
    `size_limit` (bytes, what the SQL is), a shape longer than that is a TooLargeError, before any parse."""
    folded = fold_lists(shape_sql, sources)
    if size_limit is not None:
        check_sql_size(shape_sql if folded is None else folded.sql, *size_limit)
    if folded is not None:
        compiled = _cached_shape(folded.sql, dialect, folded.sources)
        if isinstance(compiled, CompiledShape) and compiled.holds(folded):
            return compiled.bind(values, sources, style, folded.groups)
    if size_limit is not None and folded is not None:
        check_sql_size(shape_sql, *size_limit)  # the folded shape did not fit: the whole one is parsed
    compiled = compile_shape(shape_sql, dialect, tuple(sources))
    return compiled.bind(values, sources, style)


def compile_shape(shape_sql: str, dialect: str, sources: tuple[str, ...] = ()) -> CompiledShape:
    """The checked shape from the cache, or compiled now; raise QueryError or ArgumentError if it may not run."""
    compiled = _cached_shape(shape_sql, dialect, sources)
    if isinstance(compiled, Refusal):
        raise compiled.error(sources)
    return compiled


def _cached_shape(shape_sql: str, dialect: str, sources: Sequence[str]) -> CompiledShape | Refusal:
    """The shape is keyed on its text (markers only, no caller text) and its number of values: sources
    name arguments and may hold a caller's key text, so they are replaced by positions, and every caller's
    key gets the same entry (a flood of unique keys is a flood of hits, not of parses)."""
    count = len(sources)
    return _SHAPES.get_or_compute(
        (shape_sql, dialect, count),
        lambda: _compile_or_refuse(shape_sql, dialect, _positional_sources(count)),
    )


def _positional_sources(count: int) -> tuple[str, ...]:
    """Stand-ins for the sources while a shape compiles; messages name them, `_with_names` fills them in."""
    return tuple(f"{_POSITION_MARK}{index}{_POSITION_MARK}" for index in range(count))


_POSITION_MARK = "\ue000"  # a private-use character: no engine's error message or SQL keyword holds it
_POSITIONAL = re.compile(rf"(\.?){_POSITION_MARK}(\d+){_POSITION_MARK}")


def _with_names(message: str, sources: Sequence[str]) -> str:
    """A cached message with the request's argument names: `.#0#` (in `{{ .x }}`) is the source, a bare
    `#0#` (in `argument "x"`) its label."""

    def name(match: re.Match) -> str:
        index = int(match.group(2))
        source = sources[index] if index < len(sources) else "args"
        return "." + source if match.group(1) else argument_label(source)

    return _POSITIONAL.sub(name, message)


def _compile_or_refuse(shape_sql: str, dialect: str, sources: tuple[str, ...]) -> CompiledShape | Refusal:
    try:
        return _compile(shape_sql, dialect, sources)
    except (ArgumentError, QueryError) as error:  # refused shapes are cached too: a flood costs lookups
        return Refusal(type(error), error.message, error.line, error.column)


def _footprint(key: tuple[str, str, int], compiled: CompiledShape | Refusal) -> int:
    """About what one entry keeps alive: its key's text, its pieces and slots (or its message)."""
    shape_sql = key[0]
    size = 2 * len(shape_sql) + ENTRY_BYTES
    if isinstance(compiled, Refusal):
        size += 2 * len(compiled.message)
    else:
        size += sum(len(piece) + 64 if isinstance(piece, str) else SLOT_BYTES for piece in compiled.pieces)
    return size


_SHAPES = ByteBoundedCache(SHAPE_CACHE_BYTES, _footprint)
shape_cache_info = _SHAPES.info
clear_shape_cache = _SHAPES.clear


def _compile(shape_sql: str, dialect: str, sources: tuple[str, ...]) -> CompiledShape:
    """Tokenize, parse and check one shape, then cut its text into fixed SQL and slots."""
    tokens = _tokenize(shape_sql, dialect, sources)
    check_leading_keyword(tokens)
    directions = sort_direction_tokens(tokens)
    statement = _parse_one_query(_with_directions(shape_sql, tokens, directions), dialect, sources)
    check_read_only(statement)
    if directions and explicit_ascending(statement) != len(directions) + _count(tokens, TokenType.ASC):
        first = sentinels.marker_indexes(tokens[min(directions)].text)[0]
        raise ArgumentError(f"argument {_name(first, sources)} cannot be used there")
    roles = _marker_roles(statement, sources)
    pieces: list[str | Slot] = []
    cursor = 0
    for position, token in enumerate(tokens):
        if token.token_type == TokenType.SEMICOLON:  # only empty statements follow ours: drop the separators
            pieces.append(shape_sql[cursor : token.start] + " ")
            cursor = token.end + 1
            continue
        indexes = sentinels.marker_indexes(token.text)
        if not indexes:
            continue
        _check_known(indexes, sources)
        if position in directions:
            slot = Slot("direction", (indexes[0],))
        else:
            slot = _slot_for_token(token, indexes, roles, sources, _neighbours(tokens, position))
        pieces.append(shape_sql[cursor : token.start])
        pieces.append(slot)
        cursor = token.end + 1
    pieces.append(shape_sql[cursor:])
    return CompiledShape(tuple(piece for piece in pieces if piece != ""))


def _tokenize(shape_sql: str, dialect: str, sources: Sequence[str]) -> list[Token]:
    try:
        return sqlglot.Dialect.get_or_raise(dialect).tokenize(shape_sql)
    except TokenError as error:
        raise QueryError(f"SQL syntax error: {_readable(str(error), sources)}") from None


def _with_directions(shape_sql: str, tokens: Sequence[Token], directions: frozenset[int]) -> str:
    """The text to parse: each sort-direction marker stands as ASC, so the shape parses and stays one shape."""
    if not directions:
        return shape_sql
    parts, cursor = [], 0
    for position in sorted(directions):
        token = tokens[position]
        parts += [shape_sql[cursor : token.start], "ASC"]
        cursor = token.end + 1
    return "".join(parts) + shape_sql[cursor:]


def _count(tokens: Sequence[Token], token_type: TokenType) -> int:
    return sum(1 for token in tokens if token.token_type == token_type)


def _parse_one_query(shape_sql: str, dialect: str, sources: Sequence[str]) -> exp.Expr:
    try:
        statements = [
            tree
            for tree in sqlglot.parse(shape_sql, read=dialect)
            if tree is not None and not isinstance(tree, exp.Semicolon)
        ]
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        message = first.get("description") or str(error)
        if first.get("highlight"):
            message += f' near "{first["highlight"]}"'
        message = _readable(message, sources)
        raise QueryError(
            f"SQL syntax error: {message}", line=first.get("line"), column=first.get("col")
        ) from None
    except TokenError as error:
        raise QueryError(f"SQL syntax error: {_readable(str(error), sources)}") from None
    except RecursionError:  # the parser recurses once per nesting level
        raise QueryError("SQL syntax error: the statement is nested too deeply") from None
    if len(statements) != 1:
        raise StatementError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def _check_known(indexes: list[int], sources: Sequence[str]) -> None:
    """Marker text written in the project itself (not printed for a value) is refused, not guessed at."""
    for index in indexes:
        if index >= len(sources):
            raise QueryError(f"the SQL contains {sentinels.marker(index)}, text reserved for arguments")


def _marker_roles(statement: exp.Expr, sources: Sequence[str]) -> dict[int, tuple[str, exp.Expression]]:
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
                raise ArgumentError(
                    f"argument {_name(index, sources)} cannot be used there: "
                    "file and table functions take no caller values"
                )
            roles[index] = (role, node)
    return roles


def _reads_files(node: exp.Expression) -> bool:
    """True when the node sits inside a table function that reads files, or names a file in FROM."""
    for ancestor in _ancestors(node):
        if isinstance(ancestor, exp.Func) and _function_name(ancestor) in FILE_FUNCTIONS:
            return True
    return (
        isinstance(node, exp.Identifier)
        and node.quoted
        and isinstance(node.parent, exp.Table)
        and "." in node.this
    )


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower() if hasattr(node, "sql_name") else type(node).__name__.lower()


def _ancestors(node: exp.Expression):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _neighbours(tokens: Sequence[Token], position: int) -> tuple[Token | None, Token | None]:
    return (
        tokens[position - 1] if position else None,
        tokens[position + 1] if position + 1 < len(tokens) else None,
    )


def _slot_for_token(
    token: Token,
    indexes: list[int],
    roles: dict,
    sources: Sequence[str],
    neighbours: tuple[Token | None, Token | None],
) -> Slot:
    """Decide what one token holding markers becomes, from its token type and its place in the tree."""
    role, node = roles.get(indexes[0], (None, None))
    wrap = _needs_parentheses(*neighbours)
    if token.token_type == TokenType.STRING and role == "literal":
        return Slot("literal", _split(token.text), wrap)
    if token.token_type == TokenType.IDENTIFIER and role == "identifier":
        kind = "table_name" if isinstance(node.parent, exp.Table) else "quoted_identifier"
        return Slot(kind, _split(token.text))
    if token.token_type == TokenType.VAR and role == "identifier":
        if sentinels.is_marker(token.text):
            return Slot(_bare_marker_kind(node), (indexes[0],), wrap)
        if len(indexes) == 1:  # `total_{{ .args.metric }}`: one plain name made with one value
            return Slot("identifier", _split(token.text))
    raise ArgumentError(f"argument {_name(indexes[0], sources)} cannot be used there")


def _needs_parentheses(previous: Token | None, following: Token | None) -> bool:
    """`INTERVAL '…'` and `DATE '…'` take a literal, so DuckDB needs `(?)` there; sqlglot reads `(?)::DATE`."""
    if following is not None and following.token_type == TokenType.DCOLON:
        return True
    return previous is not None and (
        previous.token_type == TokenType.INTERVAL or previous.token_type in sqlglot.parser.Parser.TYPE_TOKENS
    )


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


def _parameter(slot: Slot, values: Sequence[str]) -> Any:
    if slot.kind == "literal":
        return slot.text(values)
    return typed_value(slot.text(values))


def typed_value(text: str) -> Any:
    """What the text would mean pasted bare into SQL: a number, a boolean, NULL, a quoted string, or else text."""
    stripped = text.strip()
    if INTEGER.fullmatch(stripped):  # beyond HUGEINT's 38 digits DuckDB makes it a DOUBLE, as a Decimal does
        return int(stripped) if len(stripped.lstrip("+-")) <= 38 else Decimal(stripped)
    if DECIMAL.fullmatch(stripped):
        return Decimal(stripped)
    if FLOAT.fullmatch(stripped):
        return float(stripped)
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    quoted = SQL_STRING.fullmatch(stripped)
    if quoted:  # `{{ .args.x | squote }}` pasted would be one string literal
        return quoted.group(1).replace("''", "'")
    return text


def _direction(slot: Slot, values: Sequence[str], sources: Sequence[str]) -> str:
    keyword = SORT_DIRECTIONS.get(slot.text(values).strip().lower())
    if keyword is None:
        raise ArgumentError(f"argument {_name(slot.first, sources)} must be asc or desc where it is used")
    return keyword


def _identifier(slot: Slot, values: Sequence[str], sources: Sequence[str]) -> str:
    """A bare name must be plain; inside quotes anything goes but NUL (and paths, for tables).
    Returns the name unquoted: the engine's style quotes it."""
    name = slot.text(values)
    if slot.kind == "identifier" and not PLAIN_IDENTIFIER.fullmatch(name):
        raise ArgumentError(
            f"argument {_name(slot.first, sources)} must be a plain name "
            "(letters, digits and underscores) where it is used"
        )
    if "\x00" in name:
        raise ArgumentError(
            f"argument {_name(slot.first, sources)} may not contain a NUL character in a name"
        )
    if slot.kind == "table_name" and PATH_CHARACTERS.search(name):
        raise ArgumentError(f"argument {_name(slot.first, sources)} must be a table name, not a file path")
    return name


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
