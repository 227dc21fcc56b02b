"""PostgreSQL through psycopg 3 (`pip install 'sluice[postgres]'`): read-only sessions, the statement timeout
on the server, rows streamed through a server-side cursor, arguments bound by the server."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from project.engines.interface import Column, Result
from project.engines.pooled import PooledEngine, PooledSession
from project.engines.requirements import require
from project.sql.binding import ParamStyle

psycopg = require("psycopg", "postgres")

STYLE = ParamStyle(placeholder="%s", percent=True)
CURSOR_NAMES = itertools.count()
CONNECT_TIMEOUT = 5
TYPE_NAMES = {
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "oid": "BIGINT",
    "float4": "FLOAT",
    "float8": "DOUBLE",
    "numeric": "DECIMAL",
    "bool": "BOOLEAN",
    "text": "VARCHAR",
    "varchar": "VARCHAR",
    "bpchar": "VARCHAR",
    "name": "VARCHAR",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMP WITH TIME ZONE",
    "uuid": "UUID",
    "bytea": "BLOB",
    "interval": "INTERVAL",
}


def conninfo(properties: Mapping[str, Any]) -> str:
    """A libpq connection string from `dsn`/`database_url` or Rill's separate properties."""
    dsn = properties.get("dsn") or properties.get("database_url") or ""
    keys = ("host", "port", "dbname", "user", "password", "sslmode")
    return psycopg.conninfo.make_conninfo(
        str(dsn), **{key: str(properties[key]) for key in keys if properties.get(key) not in (None, "")}
    )


class PostgresEngine(PooledEngine):
    driver = "postgres"
    dialect = "postgres"
    style = STYLE

    def __init__(self, name: str, properties: Mapping[str, Any], pool_size: int, timeout: float, **kwargs):
        super().__init__(name, [str(properties.get("password") or "")], pool_size, timeout, **kwargs)
        self._conninfo = conninfo(properties)

    def connect(self) -> Any:
        settings = "-c default_transaction_read_only=on -c TimeZone=UTC"
        if self.timeout > 0:
            settings += f" -c statement_timeout={int(self.timeout * 1000)}"
        return psycopg.connect(self._conninfo, connect_timeout=CONNECT_TIMEOUT, options=settings)

    def open_session(self, connection: Any, reused: bool) -> PostgresSession:
        return PostgresSession(self, connection, reused)

    def is_disconnect(self, error: BaseException) -> bool:
        return isinstance(error, psycopg.OperationalError) and not isinstance(
            error, psycopg.errors.QueryCanceled
        )

    def close_connection(self, connection: Any) -> None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken connection may fail; it is gone either way
            pass


class PostgresResult(Result):
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.columns = [_column(cursor, column) for column in cursor.description or []]

    def fetch_rows(self, count: int) -> list[tuple]:
        return self._cursor.fetchmany(count)


class PostgresSession(PooledSession):
    """A server-side cursor in a read-only transaction; the transaction ends when the session closes."""

    def run(self, sql: str, params: Sequence[Any] | dict) -> Result:
        self._end_transaction()
        cursor = self.connection.cursor(name=f"sluice_{next(CURSOR_NAMES)}")
        self.cursor = cursor
        cursor.execute(sql, params)
        return PostgresResult(cursor)

    def describe(self, sql: str, params: Sequence[Any] | dict) -> list[Column]:
        return self.execute(sql, params).columns  # DECLARE only: no row is fetched

    def interrupt(self) -> None:
        self.interrupted = True
        self.connection.cancel_safe(timeout=2)

    def classify(self, error: BaseException, timeout: float) -> BaseException | None:
        if isinstance(error, psycopg.errors.QueryCanceled):
            return self.engine.timed_out(timeout)
        if self.engine.is_disconnect(error) and self.connection.broken:
            return self.engine.unavailable(error)
        if isinstance(error, psycopg.Error):
            return self.engine.query_error(error)
        return None

    def finish(self) -> bool:
        if self.connection.broken or self.connection.closed:
            return False
        try:
            self._end_transaction()
        except psycopg.Error:
            return False
        return self.reusable or self.connection.info.transaction_status == 0

    def _end_transaction(self) -> None:
        cursor = getattr(self, "cursor", None)
        if cursor is not None:
            self.cursor = None
            cursor.close()
        if self.connection.info.transaction_status != 0:  # not idle: end the read-only transaction
            self.connection.rollback()


def _column(cursor: Any, column: Any) -> Column:
    info = cursor.connection.adapters.types.get(column.type_code)
    type_name = TYPE_NAMES.get(info.name if info else "", "VARCHAR")
    if info is not None and info.name.startswith("_"):  # arrays: `_int4` is int4[]
        type_name = TYPE_NAMES.get(info.name[1:], "VARCHAR") + "[]"
    if type_name == "DECIMAL" and column.precision:
        type_name = f"DECIMAL({column.precision},{column.scale or 0})"
    if info is not None and info.name in ("json", "jsonb"):
        type_name = "JSON"
    return Column(column.name, type_name)
