"""The embedded DuckDB database: built once from the models into a file, then served read-only.

Several worker processes share one built file: the file's name is a fingerprint of what it was built from,
the first process to need it builds it under a lock and renames it into place, the others just open it.
Models are built and queries served on connections limited to the project's sandbox (see `sandbox`).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from project.encoding.rows import row_encoder
from project.engines.duckdb_session import DuckDBSession
from project.engines.increments import (
    MANIFEST_SUFFIX,
    Increment,
    RefreshRequest,
    carry_tables,
    plan_increments,
    previous_build,
    read_manifest,
    write_manifest,
)
from project.engines.interface import Column, Engine
from project.engines.sandbox import Sandbox, apply_sandbox
from project.errors import BuildError
from project.sql.binding import DUCKDB_STYLE
from project.sql.paths import absolute_file_paths, may_read_files
from project.sql.quoting import quote_identifier

DESCRIBE_CACHE_SIZE = 1024
IDLE_CURSORS_KEPT = 64  # more than a worker's threads: every thread finds one given back
log = logging.getLogger("sluice.build")
RESOLVED_CACHE_SIZE = 256
RESOLVED_CACHE_MAX_TEXT = 16 * 1024


@dataclass
class Described:
    """A query's result columns, and whether its answers were small (a hint, so it may change)."""

    names: list[str]
    types: list[Any]
    row_encoder: Callable[[tuple], str] | None
    small: bool = False  # its answers were small: encoded in Python (no JSON projection to plan)
    large: bool = False  # it once answered more than a small answer's rows: always encoded by DuckDB
    parsed: dict[str, Any] = field(default_factory=dict)  # SQL text -> its parsed statement (`parsed_once`)
    columns: tuple[Column, ...] = ()  # names and types as the engine interface gives them

    def __post_init__(self) -> None:
        self.columns = tuple(Column(name, str(type_)) for name, type_ in zip(self.names, self.types))


class IngestError(Exception):
    """A connector's model could not be read from its engine (the message is safe to show)."""


# Runs a connector model's SQL on its engine and hands the answer, as Arrow batches, to `store`.
Ingest = Callable[["BuiltModel", Callable[[Any], None]], None]


@dataclass(frozen=True)
class BuiltModel:
    """A model ready to build: rendered SQL and whether it becomes a table; a partitioned model's table is
    built from each partition's SQL in turn, appended or merged on `unique_key`."""

    name: str
    path: str
    sql: str
    materialize: bool
    partitions: tuple[str, ...] = ()
    strategy: str = "append"
    unique_key: tuple[str, ...] = ()
    pre_exec: str = ""
    post_exec: str = ""
    connector: str | None = None  # run on this connector's engine, its rows stored in DuckDB
    incremental: bool = False  # partitioned and incremental: new partitions on top of the last build's rows
    partition_keys: tuple[str, ...] = ()  # one per partition: which partitions a table already holds
    definition: str = ""  # digest of the model apart from its partition list (a change starts it over)


def fingerprint(
    models: Sequence[BuiltModel],
    data_files: Sequence[tuple[str, int, int]],
    sandbox: Sandbox,
    generation: int = 0,
) -> str:
    """A digest of everything a build depends on: model SQL, the data files' sizes and times, the sandbox
    (DuckDB keeps one configuration per open file, so a file is only ever opened with one) and the refresh
    generation (a refresh always makes a new build)."""
    digest = hashlib.sha256(duckdb.__version__.encode())
    digest.update(sandbox.describe().encode())
    digest.update(f"refresh\0{generation}\0".encode())
    for model in models:
        digest.update(f"{model.name}\0{model.materialize}\0{model.connector}\0{model.sql}\0".encode())
        parts = (*model.partitions, model.strategy, *model.unique_key, model.pre_exec, model.post_exec)
        digest.update("\0".join(parts).encode())
    for path, size, mtime in data_files:
        digest.update(f"{path}\0{size}\0{mtime}\0".encode())
    return digest.hexdigest()[:20]


STORAGE_FAILURES = (
    "Could not write",
    "No space left on device",
    "Disk quota exceeded",
    "File too large",
    "Read-only file system",
    "Input/output error",
)


def build_database(
    state_dir: str,
    sandbox: Sandbox,
    models: Sequence[BuiltModel],
    key: str,
    ingest: Ingest | None = None,
    request: RefreshRequest | None = None,
) -> tuple[str, dict[str, str]]:
    """The database file for this fingerprint, built now if no complete build exists, and per-model errors.

    A build goes into a temporary file and is renamed into place only once it and its error list are
    written, so a build that fails half-way (a full disk) leaves nothing that a later start would reuse.
    Incremental models start from the previous build's rows (see `increments`).
    """
    target = os.path.join(state_dir, f"project-{key}.duckdb")
    if os.path.exists(target):  # complete builds only ever appear by rename: no lock needed to read one
        return target, _read_errors(target + ".errors")
    try:
        os.makedirs(state_dir, exist_ok=True)
        with open(os.path.join(state_dir, "build.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(target):
                _build_into(target, sandbox, models, ingest, request or RefreshRequest())
                _remove_stale_builds(state_dir, keep=target)
    except OSError as error:
        raise BuildError(f"cannot build the database in {state_dir}: {error.strerror or error}") from None
    return target, _read_errors(target + ".errors")


def _build_into(
    target: str,
    sandbox: Sandbox,
    models: Sequence[BuiltModel],
    ingest: Ingest | None,
    request: RefreshRequest,
) -> None:
    temporary = target + ".building"
    manifest = temporary + MANIFEST_SUFFIX
    _remove(temporary, temporary + ".wal", temporary + ".errors", manifest)
    base = previous_build(os.path.dirname(target), target)
    incremental = [
        (model.name, model.definition) for model in models if model.incremental and model.partitions
    ]
    plan = plan_increments(incremental, read_manifest(base), request)
    try:
        errors, held = _run_models(temporary, sandbox, models, ingest, (base, plan))
        _write_errors(temporary + ".errors", errors)
        definitions = {model.name: model.definition for model in models}
        write_manifest(
            manifest, request.generation, {name: (definitions[name], keys) for name, keys in held.items()}
        )
        os.replace(temporary + ".errors", target + ".errors")
        os.replace(manifest, target + MANIFEST_SUFFIX)
        os.replace(temporary, target)
    finally:
        _remove(temporary, temporary + ".wal", temporary + ".errors", manifest)


def _run_models(
    path: str,
    sandbox: Sandbox,
    models: Sequence[BuiltModel],
    ingest: Ingest | None,
    previous: tuple[str | None, dict[str, Increment]],
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Create each model's table or view on a sandboxed connection: the models' errors by name, and the
    partition keys each incremental model's table holds."""
    errors: dict[str, str] = {}
    held: dict[str, set[str]] = {}
    base, plan = previous
    connection = duckdb.connect(path)
    try:
        carried_names = [name for name, increment in plan.items() if increment.carried is not None]
        carried = carry_tables(connection, base, carried_names) if base else set()
        apply_sandbox(connection, sandbox)
        for number, model in enumerate(models, 1):
            log.info("building model %s (%d of %d)", model.name, number, len(models))
            started, rows = time.perf_counter(), None
            already = plan[model.name].carried if model.name in carried else None
            try:
                rows = (
                    _create(connection, model, ingest)
                    if already is None
                    else _increment(connection, model, already)
                )
                if model.name in plan:
                    held[model.name] = set(already or ()) | set(model.partition_keys)
            except IngestError as error:
                errors[model.name] = str(error)
            except duckdb.Error as error:
                if _is_build_failure(error):
                    raise BuildError(f"building model {model.name!r} failed: {error}") from None
                errors[model.name] = str(error)
            if model.name in errors and already is not None:
                held[model.name] = set(already)  # its previous rows stay, for the next refresh to build on
            _log_built(model, rows, time.perf_counter() - started, errors.get(model.name))
        connection.execute("CHECKPOINT")
    except duckdb.Error as error:
        raise BuildError(f"the build failed: {error}") from None
    finally:
        connection.close()
    return errors, held


def _increment(
    connection: duckdb.DuckDBPyConnection, model: BuiltModel, carried: frozenset[str]
) -> int | None:
    """An incremental model's new partitions on top of the previous build's rows, in one transaction: a
    partition that fails leaves the table as the previous build had it."""
    connection.execute("BEGIN TRANSACTION")
    try:
        rows = _create(connection, model, None, carried)
    except duckdb.Error:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return rows


def _build_model(
    connection: duckdb.DuckDBPyConnection, model: BuiltModel, carried: frozenset[str] | None = None
) -> None:
    """pre_exec, the model's table or view (partition by partition for a partitioned one), post_exec.
    `carried`: the table already holds the previous build's rows, from the partitions with these keys."""
    if model.pre_exec:
        connection.execute(model.pre_exec).fetchall()
    name = quote_identifier(model.name)
    if not model.partitions:
        kind = "TABLE" if model.materialize else "VIEW"
        connection.execute(f"CREATE OR REPLACE {kind} {name} AS\n{model.sql}\n")
    else:
        parts = list(model.partitions)
        if carried is None:
            connection.execute(f"CREATE OR REPLACE TABLE {name} AS\n{parts.pop(0)}\n")
        else:
            keys = model.partition_keys or ("",) * len(parts)
            parts = [part for key, part in zip(keys, parts) if key not in carried]
            log.info("model %s: %d new partitions on top of the last build", model.name, len(parts))
        for part in parts:
            _add_partition(connection, model, name, part)
    if model.post_exec:
        connection.execute(model.post_exec).fetchall()


def _add_partition(connection: duckdb.DuckDBPyConnection, model: BuiltModel, name: str, part: str) -> None:
    """Append a partition's rows; with `merge`, first drop the rows it holds a newer version of."""
    if model.strategy == "merge":
        same_key = " AND ".join(
            f"{name}.{quote_identifier(key)} = _new.{quote_identifier(key)}" for key in model.unique_key
        )
        connection.execute(f"DELETE FROM {name} USING ({part}) AS _new WHERE {same_key}")
    connection.execute(f"INSERT INTO {name} BY NAME\n{part}\n")


def _store(connection: duckdb.DuckDBPyConnection, name: str, reader: Any) -> None:
    """A table from a stream of Arrow record batches (rows of another engine)."""
    connection.register("_sluice_ingest", reader)
    try:
        connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _sluice_ingest")
    finally:
        connection.unregister("_sluice_ingest")


def _create(
    connection: duckdb.DuckDBPyConnection,
    model: BuiltModel,
    ingest: Ingest | None,
    carried: frozenset[str] | None = None,
) -> int | None:
    """Create the model's table (returns its row count) or view or ingested table (None: not counted)."""
    name = quote_identifier(model.name)
    if model.connector is not None and ingest is not None:
        ingest(model, functools.partial(_store, connection, name))
        return None  # the ingest's own result is still open on the connection: no count
    _build_model(connection, model, carried)
    if not model.materialize and not model.partitions:
        return None
    row = connection.execute(f"SELECT count(*) FROM {name}").fetchone()
    return int(row[0]) if row else 0


def _log_built(model: BuiltModel, rows: int | None, seconds: float, error: str | None) -> None:
    fields = {"model": model.name, "rows": rows, "seconds": round(seconds, 3), "kind": "model_build"}
    if error is not None:
        log.error("model %s failed to build in %.2f s: %s", model.name, seconds, error, extra=fields)
    elif rows is None:
        log.info("model %s built in %.2f s", model.name, seconds, extra=fields)
    else:
        log.info("model %s built: %d rows in %.2f s", model.name, rows, seconds, extra=fields)


def _is_build_failure(error: duckdb.Error) -> bool:
    """Errors of the machine (disk, memory, a broken database), not of the model: never kept in a build."""
    failures = (
        duckdb.FatalException,
        duckdb.InternalException,
        duckdb.TransactionException,
        duckdb.OutOfMemoryException,
    )
    return isinstance(error, failures) or any(phrase in str(error) for phrase in STORAGE_FAILURES)


def _remove(*paths: str) -> None:
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def _write_errors(path: str, errors: dict[str, str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(
            name + "\0" + message.replace("\0", " ") + "\0\n" for name, message in errors.items()
        )
        handle.flush()
        os.fsync(handle.fileno())


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
    """The `duckdb` engine: a read-only connection to a built file; one cursor per request at a time, kept
    for the next request once given back (opening one took about 200 µs, measured alone: a fifth of a point
    lookup)."""

    driver = "duckdb"
    dialect = "duckdb"
    style = DUCKDB_STYLE

    def __init__(
        self,
        path: str,
        sandbox: Sandbox,
        threads: int | None = None,
        max_queries: int = 0,
        name: str = "duckdb",
    ) -> None:
        super().__init__(max_queries)
        self.name = name
        self.path = path
        # Rows of a query without ORDER BY may come in any order (SQL promises none): kept in table order,
        # a LIMIT over a large table holds its whole answer in DuckDB before the first row (1,000,000
        # rows: +160 MB). ORDER BY is still kept, also through the JSON and Arrow wrappers.
        config: dict[str, Any] = {"preserve_insertion_order": False}
        if threads:
            config["threads"] = threads  # with one gunicorn worker per core, 1 avoids oversubscription
        self._connection = duckdb.connect(path, read_only=True, config=config)
        apply_sandbox(self._connection, sandbox)
        self._lock = threading.Lock()
        self._described: OrderedDict[tuple, Described] = OrderedDict()
        self._open_cursors = 0
        self._idle_cursors: list[duckdb.DuckDBPyConnection] = []  # given back, for the next request
        self._retired = False
        self.closed = False
        self._root = sandbox.root
        self._resolved: OrderedDict[str, str] = OrderedDict()

    def resolve_paths(self, sql: str) -> str:
        """The SQL with relative file paths made absolute under the project folder: DuckDB would resolve
        them against the process's working directory. Cached by text, since it takes a parse."""
        if not may_read_files(sql):
            return sql
        with self._lock:
            known = self._resolved.get(sql)
        if known is None:
            known = absolute_file_paths(sql, self._root)
            if len(sql) <= RESOLVED_CACHE_MAX_TEXT:  # the cache stays small whatever callers send
                with self._lock:
                    self._resolved[sql] = known
                    if len(self._resolved) > RESOLVED_CACHE_SIZE:
                        self._resolved.popitem(last=False)
        return known

    def session(self) -> DuckDBSession:
        return DuckDBSession(self)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one query (one given back before, or a new one); give it back with
        `close_cursor`."""
        with self._lock:
            cursor = self._idle_cursors.pop() if self._idle_cursors else self._connection.cursor()
            self._open_cursors += 1
            return cursor

    def close_cursor(self, cursor: duckdb.DuckDBPyConnection, reusable: bool = True) -> None:
        """Give a cursor back: kept for the next request when `reusable` (no result of it can still be
        read) and the database still serves, closed otherwise."""
        if reusable:
            try:
                cursor.abort()  # the rest of a result left unread: DuckDB refuses other work until it ends
            except duckdb.Error:
                reusable = False
        with self._lock:
            self._open_cursors -= 1
            serving = not (self._retired or self.closed)
            keep = reusable and serving and len(self._idle_cursors) < IDLE_CURSORS_KEPT
            if keep:
                self._idle_cursors.append(cursor)
            last = self._retired and self._open_cursors == 0
        if not keep:
            cursor.close()
        if last:
            self.close()

    def retire(self) -> None:
        """No longer served: close now, or when the last cursor still answering a request is given back."""
        with self._lock:
            self._retired = True
            idle = self._open_cursors == 0
        if idle:
            self.close()

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
        """Close the connection and end the watchdog's thread (once)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            idle, self._idle_cursors = self._idle_cursors, []
        self.watchdog.stop()
        for cursor in idle:
            cursor.close()
        self._connection.close()
