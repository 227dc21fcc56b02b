"""Refreshes and incremental models: what carries over from one build of the database to the next.

A refresh is a request written to the state folder (`refresh.json`): a generation number that goes up by one
with each request, and the models it rebuilds from scratch (`--full`). The generation is part of every
build's fingerprint, so a refresh always makes a new build, which every worker (and a server restarted later)
then finds by its name; a server notices the request file and reloads in the background.

Each build leaves a manifest beside it (`project-<key>.duckdb.increments`): the refresh generation it was
built at and, for every incremental model (`incremental: true`), its definition's digest and the keys of the
partitions it holds. The next build starts such a model from the previous build's table and runs only the
partitions whose keys are new, appended or merged as the model says. A model without `partitions:` is one
partition keyed by the refresh generation, so it runs again (appending) once per refresh. A changed
definition, or a full refresh requested after the previous build, runs every partition again.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import duckdb

from project.sql.quoting import quote_identifier, quote_literal

REQUEST_FILE = "refresh.json"
MANIFEST_SUFFIX = ".increments"
ALL_MODELS = "*"
BASE_ALIAS = "_sluice_previous_build"


@dataclass(frozen=True)
class RefreshRequest:
    """The latest refresh asked for: its generation and the models it rebuilds from scratch."""

    generation: int = 0
    full: tuple[str, ...] = ()  # model names, or ("*",) for every model

    def rebuilds(self, name: str) -> bool:
        return ALL_MODELS in self.full or name in self.full


@dataclass(frozen=True)
class Increment:
    """How one incremental model is built this time: from scratch, or on top of the previous build's rows
    (`carried`: the keys of the partitions those rows came from)."""

    name: str
    carried: frozenset[str] | None = None


@dataclass(frozen=True)
class Manifest:
    generation: int = 0
    models: Mapping[str, Mapping[str, object]] = field(default_factory=dict)  # name -> definition, keys


def request_path(state_dir: str) -> str:
    return os.path.join(state_dir, REQUEST_FILE)


def read_request(state_dir: str) -> RefreshRequest:
    """The latest refresh request (generation 0 when there has been none)."""
    try:
        with open(request_path(state_dir), encoding="utf-8") as handle:
            data = json.load(handle)
        return RefreshRequest(
            int(data.get("generation", 0)), tuple(str(name) for name in data.get("full", ()))
        )
    except (OSError, ValueError, AttributeError, TypeError):
        return RefreshRequest()


def request_refresh(state_dir: str, full: Iterable[str] = ()) -> RefreshRequest:
    """Write the next refresh request (the generation after the last one); returns it."""
    os.makedirs(state_dir, exist_ok=True)
    with open(os.path.join(state_dir, "refresh.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two refreshes at once still get two generations
        request = RefreshRequest(read_request(state_dir).generation + 1, tuple(sorted(set(full))))
        _write_json(request_path(state_dir), {"generation": request.generation, "full": list(request.full)})
    return request


def read_manifest(build_path: str | None) -> Manifest:
    if build_path is None:
        return Manifest()
    try:
        with open(build_path + MANIFEST_SUFFIX, encoding="utf-8") as handle:
            data = json.load(handle)
        return Manifest(int(data["generation"]), dict(data["models"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Manifest()


def write_manifest(path: str, generation: int, models: Mapping[str, tuple[str, Iterable[str]]]) -> None:
    """`models`: name -> (definition digest, keys of the partitions its table holds)."""
    entries = {name: {"definition": digest, "keys": sorted(keys)} for name, (digest, keys) in models.items()}
    _write_json(path, {"generation": generation, "models": entries})


def previous_build(state_dir: str, target: str) -> str | None:
    """The newest complete build in the state folder other than `target` (the one a server serves)."""
    try:
        names = os.listdir(state_dir)
    except OSError:
        return None
    builds = [
        os.path.join(state_dir, name)
        for name in names
        if name.startswith("project-")
        and name.endswith(".duckdb")
        and os.path.join(state_dir, name) != target
    ]
    return max(builds, key=_modified, default=None)


def plan_increments(
    models: Iterable[tuple[str, str]], base: Manifest, request: RefreshRequest
) -> dict[str, Increment]:
    """For each incremental model (name, definition digest): carry the previous rows, or start over."""
    full_since_base = request.generation > base.generation
    plan = {}
    for name, digest in models:
        previous = base.models.get(name)
        keys = previous.get("keys", ()) if isinstance(previous, Mapping) else None
        same = isinstance(previous, Mapping) and previous.get("definition") == digest
        if not same or not isinstance(keys, (list, tuple)) or (full_since_base and request.rebuilds(name)):
            plan[name] = Increment(name)  # a manifest whose keys are no list (edited by hand): start over
        else:
            plan[name] = Increment(name, frozenset(str(key) for key in keys))
    return plan


def carry_tables(connection: duckdb.DuckDBPyConnection, base_path: str, names: Iterable[str]) -> set[str]:
    """Copy the named tables of the previous build into this one (before the sandbox closes the state
    folder); returns the names copied (a table the previous build lacks is built from scratch)."""
    names = list(names)
    if not names:
        return set()
    connection.execute(f"ATTACH {quote_literal(base_path)} AS {BASE_ALIAS} (READ_ONLY)")
    try:
        present = {
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?", [BASE_ALIAS]
            ).fetchall()
        }
        for name in [name for name in names if name in present]:
            table = quote_identifier(name)
            connection.execute(f"CREATE TABLE {table} AS SELECT * FROM {BASE_ALIAS}.{table}")
        return present & set(names)
    finally:
        connection.execute(f"DETACH {BASE_ALIAS}")


def _modified(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _write_json(path: str, data: object) -> None:
    temporary = path + ".writing"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
