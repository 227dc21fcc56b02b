"""The embedded DuckDB database: built once from the models into a file, then served read-only.

Several worker processes share one built file: the file's name is a fingerprint of what it was built from,
the first process to need it builds it under a lock and renames it into place, the others just open it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from project.encoding.bulk import quote_literal
from project.encoding.rows import row_encoder
from project.engines.duckdb_session import DuckDBSession
from project.engines.interface import Engine
from project.sql.binding import DUCKDB_STYLE

DESCRIBE_CACHE_SIZE = 1024


@dataclass
class Described:
    """A query's result columns, and whether its recent answers were small (a hint, so it may change)."""

    names: list[str]
    types: list[Any]
    row_encoder: Callable[[tuple], str] | None
    small: bool = False


@dataclass(frozen=True)
class BuiltModel:
    """A model ready to build: rendered SQL and whether it becomes a table."""

    name: str
    path: str
    sql: str
    materialize: bool


def fingerprint(models: Sequence[BuiltModel], data_files: Sequence[tuple[str, int, int]]) -> str:
    """A digest of everything a build depends on: model SQL and the data files' sizes and times."""
    digest = hashlib.sha256(duckdb.__version__.encode())
    for model in models:
        digest.update(f"{model.name}\0{model.materialize}\0{model.sql}\0".encode())
    for path, size, mtime in data_files:
        digest.update(f"{path}\0{size}\0{mtime}\0".encode())
    return digest.hexdigest()[:20]


def build_database(
    state_dir: str, project_dir: str, models: Sequence[BuiltModel], key: str
) -> tuple[str, dict[str, str]]:
    """Build (or reuse) the database file for this fingerprint; returns its path and per-model errors."""
    os.makedirs(state_dir, exist_ok=True)
    target = os.path.join(state_dir, f"project-{key}.duckdb")
    errors_path = target + ".errors"
    with open(os.path.join(state_dir, "build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(target):
            errors = _build_into(target, project_dir, models)
            _write_errors(errors_path, errors)
            _remove_stale_builds(state_dir, keep=target)
        return target, _read_errors(errors_path)


def _build_into(target: str, project_dir: str, models: Sequence[BuiltModel]) -> dict[str, str]:
    temporary = target + ".building"
    for leftover in (temporary, temporary + ".wal"):
        if os.path.exists(leftover):
            os.remove(leftover)
    errors: dict[str, str] = {}
    connection = duckdb.connect(temporary, config={"file_search_path": project_dir})
    try:
        for model in models:
            kind = "TABLE" if model.materialize else "VIEW"
            name = '"' + model.name.replace('"', '""') + '"'
            try:
                connection.execute(f"CREATE OR REPLACE {kind} {name} AS\n{model.sql}\n")
            except duckdb.Error as error:
                errors[model.name] = str(error)
        connection.execute("CHECKPOINT")
    finally:
        connection.close()
    os.replace(temporary, target)
    return errors


def _write_errors(path: str, errors: dict[str, str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(
            name + "\0" + message.replace("\0", " ") + "\0\n" for name, message in errors.items()
        )


def _read_errors(path: str) -> dict[str, str]:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        entries = handle.read().split("\0\n")
    return dict(entry.split("\0", 1) for entry in entries if "\0" in entry)


def _remove_stale_builds(state_dir: str, keep: str) -> None:
    for name in os.listdir(state_dir):
        path = os.path.join(state_dir, name)
        if name.startswith("project-") and not path.startswith(keep):
            try:
                os.remove(path)
            except OSError:
                pass


class Database(Engine):
    """The `duckdb` engine: a read-only connection to a built file; one cursor per request."""

    driver = "duckdb"
    dialect = "duckdb"
    style = DUCKDB_STYLE

    def __init__(
        self,
        path: str,
        project_dir: str,
        threads: int | None = None,
        max_queries: int = 0,
        name: str = "duckdb",
    ) -> None:
        super().__init__(max_queries)
        self.name = name
        self.path = path
        config: dict[str, Any] = {"file_search_path": project_dir}
        if threads:
            config["threads"] = threads  # with one gunicorn worker per core, 1 avoids oversubscription
        self._connection = duckdb.connect(path, read_only=True, config=config)
        _sandbox(self._connection, project_dir)
        self._lock = threading.Lock()
        self._described: OrderedDict[tuple, Described] = OrderedDict()

    def session(self) -> DuckDBSession:
        return DuckDBSession(self)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._connection.cursor()

    def describe(self, cursor: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> Described:
        """Result column names and types of a query, without running it; cached by SQL and parameter types."""
        key = (sql, tuple(type(value) for value in params))
        with self._lock:
            known = self._described.get(key)
        if known is not None:
            return known
        relation = cursor.sql(sql, params=list(params) or None)
        described = Described(relation.columns, relation.types, row_encoder(relation.columns, relation.types))
        with self._lock:
            self._described[key] = described
            if len(self._described) > DESCRIBE_CACHE_SIZE:
                self._described.popitem(last=False)
        return described

    def close(self) -> None:
        self._connection.close()


def _sandbox(connection: duckdb.DuckDBPyConnection, project_dir: str) -> None:
    """Queries may read files only inside the project folder, and may not change settings."""
    if connection.execute("SELECT current_setting('lock_configuration')").fetchone()[0]:
        return  # DuckDB shares one instance per file in a process: a reload reopens one already sandboxed
    folders = [os.path.join(project_dir, "")] + [
        name + "/"
        for name in os.listdir(project_dir)
        if os.path.isdir(os.path.join(project_dir, name)) and not name.startswith(".")
    ]
    listed = ", ".join(quote_literal(folder) for folder in folders)
    connection.execute(f"SET allowed_directories = [{listed}]")
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
