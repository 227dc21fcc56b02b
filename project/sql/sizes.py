"""How long a SQL text may be to get parsed on a call: checking it (sqlglot's tokenizer and parser) takes
about 5 us of CPU per byte here (bench/bench_sql_parse.py: 129 KB in 0.6 s; the render budget's 2 MiB would
be ~10 s), so a caller's SQL, or an API's SQL as the caller's values render it, is measured before any
parse (SLUICE_MAX_SQL_BYTES)."""

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
