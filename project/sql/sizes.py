"""How long a SQL text may be to get parsed on a call: sqlglot parses about 100 KB a second on this kind of
machine (a 340 KB `IN` list: 3.6 s), so a caller's SQL, or an API's SQL as the caller's values render it,
is measured before any parse (SLUICE_MAX_SQL_BYTES)."""

from __future__ import annotations

from project.errors import TooLargeError

DEFAULT_MAX_SQL_BYTES = 128 * 1024


def check_sql_size(sql: str, max_bytes: int, what: str = "the SQL") -> None:
    """A TooLargeError (413) naming the size and the limit when `sql` is longer than `max_bytes` in UTF-8."""
    if len(sql) <= max_bytes // 4:  # no character takes more than 4 bytes: no need to encode
        return
    size = len(sql.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise TooLargeError(
            f"{what} is {size} bytes, more than the {max_bytes} a call may have parsed "
            "(the server's --max-sql-bytes, SLUICE_MAX_SQL_BYTES)"
        )
