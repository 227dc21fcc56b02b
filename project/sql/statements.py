"""Which statements may run (SPEC §5): exactly one read-only query; and where a sort direction may stand.

Pure checks over sqlglot tokens and trees, used by `binding` when it compiles a shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from project.errors import QueryError
from project.sql import sentinels

QUERY_STATEMENTS: tuple[type, ...] = tuple(
    getattr(exp, name)
    for name in (
        "Select",
        "Union",
        "Intersect",
        "Except",
        "Values",
        "Describe",
        "Summarize",
        "Subquery",
        "Pivot",
    )
    if hasattr(exp, name)
)
WRITE_NODES: tuple[type, ...] = tuple(
    getattr(exp, name)
    for name in (
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "Command",
        "Copy",
        "Attach",
        "Detach",
        "Install",
        "Set",
        "Pragma",
        "Use",
        "Transaction",
        "Commit",
        "Rollback",
        "LoadData",
        "Export",
        "Import",
        "TruncateTable",
        "Comment",
        "Analyze",
        "Grant",
        "Revoke",
        "Refresh",
        "Cache",
        "Uncache",
        "Kill",
        "Show",
    )
    if hasattr(exp, name)
)
# Statements refused by their first word, so the message is clear even where sqlglot cannot parse them.
REFUSED_FIRST_WORDS = frozenset(
    {
        "ABORT",
        "ALTER",
        "ANALYZE",
        "ATTACH",
        "BEGIN",
        "CALL",
        "CHECKPOINT",
        "COMMENT",
        "COMMIT",
        "COPY",
        "CREATE",
        "DEALLOCATE",
        "DELETE",
        "DETACH",
        "DROP",
        "END",
        "EXECUTE",
        "EXPLAIN",
        "EXPORT",
        "FORCE",
        "GRANT",
        "IMPORT",
        "INSERT",
        "INSTALL",
        "LOAD",
        "MERGE",
        "PRAGMA",
        "PREPARE",
        "REPLACE",
        "RESET",
        "REVOKE",
        "ROLLBACK",
        "SET",
        "SHOW",
        "START",
        "TRUNCATE",
        "UPDATE",
        "UPSERT",
        "USE",
        "VACUUM",
    }
)
CLAUSE_TOKENS = frozenset(
    {
        TokenType.SELECT,
        TokenType.FROM,
        TokenType.WHERE,
        TokenType.GROUP_BY,
        TokenType.HAVING,
        TokenType.QUALIFY,
        TokenType.WINDOW,
        TokenType.LIMIT,
        TokenType.OFFSET,
        TokenType.FETCH,
        TokenType.UNION,
        TokenType.EXCEPT,
        TokenType.INTERSECT,
        TokenType.ORDER_BY,
        TokenType.PARTITION_BY,
        TokenType.JOIN,
        TokenType.ON,
        TokenType.ROWS,
        TokenType.RANGE,
    }
)
OPERAND_ENDS = frozenset(
    {
        TokenType.VAR,
        TokenType.IDENTIFIER,
        TokenType.NUMBER,
        TokenType.STRING,
        TokenType.R_PAREN,
        TokenType.R_BRACKET,
        TokenType.NULL,
        TokenType.TRUE,
        TokenType.FALSE,
    }
)
NOT_OPERANDS = frozenset({TokenType.ASC, TokenType.DESC, TokenType.COLLATE})
DIRECTION_FOLLOWERS = frozenset(
    {
        ",",
        ")",
        ";",
        "NULLS",
        "LIMIT",
        "OFFSET",
        "FETCH",
        "ROWS",
        "RANGE",
        "GROUPS",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "WINDOW",
        "QUALIFY",
    }
)


class StatementError(QueryError):
    """A statement Sluice never runs whatever the arguments: not read-only, or not exactly one statement."""


def check_leading_keyword(tokens: Sequence[Token]) -> None:
    """Refuse a statement whose first word starts a command or a write (`COPY`, `EXPORT`, `CHECKPOINT`...)."""
    if tokens and tokens[0].token_type not in (TokenType.STRING, TokenType.IDENTIFIER):
        word = tokens[0].text.upper()
        if word in REFUSED_FIRST_WORDS:
            raise StatementError(f"only read-only queries are allowed, not {word}")


def check_read_only(statement: exp.Expr) -> None:
    """Only queries run: the root must be a query and nothing inside it may write or change settings."""
    if not isinstance(statement, QUERY_STATEMENTS):
        raise StatementError(f"only read-only queries are allowed, not {statement_kind(statement)}")
    for node in statement.walk():
        if isinstance(node, WRITE_NODES):
            raise StatementError(f"only read-only queries are allowed, not {statement_kind(node)}")


def statement_kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def sort_direction_tokens(tokens: Sequence[Token]) -> frozenset[int]:
    """Positions of bare markers that stand where ORDER BY takes ASC or DESC: right after a sort key."""
    found: list[int] = []
    clause: dict[int, TokenType | None] = {0: None}
    depth = 0
    for position, token in enumerate(tokens):
        kind = token.token_type
        if kind == TokenType.L_PAREN:
            depth += 1
            clause[depth] = None
        elif kind == TokenType.R_PAREN:
            depth = max(depth - 1, 0)
        elif kind in CLAUSE_TOKENS:
            clause[depth] = kind
        elif clause.get(depth) == TokenType.ORDER_BY and _is_direction(tokens, position):
            found.append(position)
    return frozenset(found)


def _is_direction(tokens: Sequence[Token], position: int) -> bool:
    token = tokens[position]
    if token.token_type != TokenType.VAR or not sentinels.is_marker(token.text) or position == 0:
        return False
    previous = tokens[position - 1]
    if previous.token_type in NOT_OPERANDS or not (
        previous.token_type in OPERAND_ENDS or previous.token_type in sqlglot.parser.Parser.ID_VAR_TOKENS
    ):
        return False
    if position + 1 == len(tokens):
        return True
    following = tokens[position + 1]
    return (
        following.token_type not in (TokenType.STRING, TokenType.IDENTIFIER)
        and following.text.upper() in DIRECTION_FOLLOWERS
    )


def explicit_ascending(statement: exp.Expr) -> int:
    """How many sort keys carry an explicit ASC: a direction marker parsed as ASC must be one of them."""
    return sum(1 for node in statement.find_all(exp.Ordered) if node.args.get("desc") is False)
