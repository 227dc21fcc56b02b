"""MySQL and MariaDB through PyMySQL (`pip install 'sluice[mysql]'`): read-only transactions, the server's
statement timeout, rows streamed from an unbuffered cursor, sessions in UTC.

PyMySQL escapes arguments on the client; Sluice puts them only where a value goes (the shape checker decides),
so escaping a value can never change the statement. Backslash escapes in MySQL strings; the driver knows.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from project.engines.interface import Column, Result
from project.engines.pooled import PooledEngine, PooledSession
from project.engines.requirements import require
from project.sql.binding import ParamStyle

pymysql = require("pymysql", "mysql")
from pymysql.constants import FIELD_TYPE

STYLE = ParamStyle(
    placeholder="%s", percent=True, quote_identifier=lambda name: "`" + name.replace("`", "``") + "`"
)
CONNECT_TIMEOUT = 5
INTERRUPTED = {1317, 1969, 3024}  # killed query; MariaDB max_statement_time; MySQL max_execution_time
DISCONNECTED = {2003, 2006, 2013, 2055, 1927, 1053}
GO_DSN = re.compile(
    r"^(?P<user>[^:@]*)(?::(?P<password>[^@]*))?@tcp\((?P<host>[^:)]*)(?::(?P<port>\d+))?\)/(?P<database>[^?]*)"
)
TYPE_NAMES = {
    FIELD_TYPE.TINY: "TINYINT",
    FIELD_TYPE.SHORT: "SMALLINT",
    FIELD_TYPE.INT24: "INTEGER",
    FIELD_TYPE.LONG: "INTEGER",
    FIELD_TYPE.LONGLONG: "BIGINT",
    FIELD_TYPE.YEAR: "SMALLINT",
    FIELD_TYPE.FLOAT: "FLOAT",
    FIELD_TYPE.DOUBLE: "DOUBLE",
    FIELD_TYPE.DATE: "DATE",
    FIELD_TYPE.NEWDATE: "DATE",
    FIELD_TYPE.TIME: "TIME",
    FIELD_TYPE.DATETIME: "TIMESTAMP",
    FIELD_TYPE.TIMESTAMP: "TIMESTAMP",
    FIELD_TYPE.JSON: "JSON",
}
DECIMALS = {FIELD_TYPE.DECIMAL, FIELD_TYPE.NEWDECIMAL}


def connection_arguments(properties: Mapping[str, Any]) -> dict[str, Any]:
    """PyMySQL's arguments from a `mysql://user:pw@host:3306/db` dsn (or Go's `user:pw@tcp(host:3306)/db`)
    or Rill's separate properties."""
    values = {key: properties.get(key) for key in ("host", "port", "user", "password", "database")}
    dsn = str(properties.get("dsn") or "")
    if dsn:
        values = _parse_dsn(dsn)
    arguments: dict[str, Any] = {key: value for key, value in values.items() if value not in (None, "")}
    if "port" in arguments:
        arguments["port"] = int(arguments["port"])
    ssl_mode = str(properties.get("ssl_mode") or properties.get("ssl-mode") or "").upper()
    if ssl_mode in ("REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"):
        arguments["ssl"] = {"check_hostname": ssl_mode == "VERIFY_IDENTITY"}
    return arguments


def _parse_dsn(dsn: str) -> dict[str, Any]:
    go = GO_DSN.match(dsn)
    if go:
        return go.groupdict()
    url = urllib.parse.urlsplit(dsn)
    return {
        "host": url.hostname,
        "port": url.port,
        "user": urllib.parse.unquote(url.username or ""),
        "password": urllib.parse.unquote(url.password or ""),
        "database": url.path.lstrip("/"),
    }


class MySQLEngine(PooledEngine):
    driver = "mysql"
    dialect = "mysql"
    style = STYLE

    def __init__(self, name: str, properties: Mapping[str, Any], pool_size: int, timeout: float, **kwargs):
        self._arguments = connection_arguments(properties)
        super().__init__(name, [str(self._arguments.get("password") or "")], pool_size, timeout, **kwargs)

    def connect(self) -> Any:
        connection = pymysql.connect(
            **self._arguments, connect_timeout=CONNECT_TIMEOUT, autocommit=True, charset="utf8mb4"
        )
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute("SET time_zone = '+00:00'")
            if self.timeout > 0:
                cursor.execute(self._timeout_statement(connection))
        return connection

    def _timeout_statement(self, connection: Any) -> str:
        if "mariadb" in connection.get_server_info().lower():
            return f"SET SESSION max_statement_time = {self.timeout:g}"
        return f"SET SESSION max_execution_time = {int(self.timeout * 1000)}"

    def open_session(self, connection: Any, reused: bool) -> MySQLSession:
        return MySQLSession(self, connection, reused)

    def is_disconnect(self, error: BaseException) -> bool:
        if isinstance(error, pymysql.err.InterfaceError):
            return True
        return isinstance(error, pymysql.err.OperationalError) and _code(error) in DISCONNECTED

    def close_connection(self, connection: Any) -> None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - a broken connection may not close cleanly; it is gone
            pass

    def error_message(self, error: BaseException) -> str:
        return str(error.args[1]) if len(error.args) > 1 else str(error)


class MySQLResult(Result):
    def __init__(self, cursor: Any, session: MySQLSession) -> None:
        self._cursor = cursor
        self._session = session
        self.columns = [_column(column) for column in cursor.description or []]
        self._times = [index for index, column in enumerate(self.columns) if column.type == "TIME"]

    def fetch_rows(self, count: int) -> list[tuple]:
        rows = self._cursor.fetchmany(count)
        if len(rows) < count:
            self._session.exhausted = True
        if self._times:
            rows = [_with_times(row, self._times) for row in rows]
        return rows


class MySQLSession(PooledSession):
    """An unbuffered cursor; a session that ends before its answer does closes its connection (reading the
    rest would cost as much as the whole answer)."""

    exhausted = True
    cursor: Any = None

    def run(self, sql: str, params: Sequence[Any] | dict) -> Result:
        self.cursor = self.connection.cursor(pymysql.cursors.SSCursor)
        self.exhausted = False
        self.cursor.execute(sql, list(params))
        return MySQLResult(self.cursor, self)

    def describe(self, sql: str, params: Sequence[Any] | dict) -> list[Column]:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM (\n{sql}\n) AS _sluice_described LIMIT 0", list(params))
            return [_column(column) for column in cursor.description or []]

    def interrupt(self) -> None:
        """KILL QUERY from a second connection: the statement's own connection is busy reading."""
        self.interrupted = True
        thread = self.connection.thread_id()
        try:
            killer = self.engine.connect()
            try:
                with killer.cursor() as cursor:
                    cursor.execute(f"KILL QUERY {int(thread)}")
            finally:
                killer.close()
        except pymysql.Error:
            self.reusable = False

    def classify(self, error: BaseException, timeout: float) -> BaseException | None:
        if isinstance(error, pymysql.Error) and _code(error) in INTERRUPTED:
            return self.engine.timed_out(timeout)
        if self.engine.is_disconnect(error):
            return self.engine.unavailable(error)
        if isinstance(error, pymysql.Error):
            return self.engine.query_error(error)
        return None

    def finish(self) -> bool:
        if not self.exhausted or not self.reusable:
            self._abandon()
            return False
        try:
            if self.cursor is not None:
                self.cursor.close()
        except pymysql.Error:
            return False
        return self.connection.open

    def _abandon(self) -> None:
        """Leave unread rows unread: the connection is closed instead (PyMySQL would read them all)."""
        result = getattr(self.cursor, "_result", None)
        if result is not None:
            result.unbuffered_active = False
        if self.cursor is not None:
            self.cursor.connection = None


def _code(error: BaseException) -> int | None:
    return error.args[0] if error.args and isinstance(error.args[0], int) else None


def _column(description: Sequence[Any]) -> Column:
    name, type_code, _, _length, precision, scale = description[:6]
    if type_code in DECIMALS:
        return Column(name, f"DECIMAL({precision},{scale})" if precision else "DECIMAL")
    return Column(name, TYPE_NAMES.get(type_code, "VARCHAR"))


def _with_times(row: tuple, positions: list[int]) -> tuple:
    """PyMySQL reads TIME as a timedelta; within a day it is a time of day, encoded as DuckDB's TIME is."""
    values = list(row)
    for position in positions:
        value = values[position]
        if isinstance(value, timedelta) and timedelta(0) <= value < timedelta(days=1):
            values[position] = (datetime.min + value).time()
    return tuple(values)
