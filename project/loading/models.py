"""Models and legacy sources: reading their files, ordering them by dependency, and their SQL."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from project.errors import ProjectError
from project.loading.files import parse_yaml, read_text

MATERIALIZE_ANNOTATION = "@materialize:"
FILE_READERS = {
    ".csv": "read_csv_auto",
    ".tsv": "read_csv_auto",
    ".parquet": "read_parquet",
    ".json": "read_json_auto",
    ".ndjson": "read_json_auto",
    ".jsonl": "read_json_auto",
}


@dataclass(frozen=True)
class ModelSource:
    """A model as written: its SQL template text (not yet rendered) and how to build it."""

    name: str
    path: str
    sql: str
    materialize: bool
    line_offset: int = 0
    partitions: Mapping[str, Any] | None = None  # Rill's `partitions:`: {"sql": ...} or {"glob": ...}
    strategy: str = "append"  # output.incremental_strategy of a partitioned model: append or merge
    unique_key: tuple[str, ...] = ()
    pre_exec: str = ""
    post_exec: str = ""
    connector: str | None = None  # a model read from another engine, materialized in DuckDB
    incremental: bool = False  # `incremental: true`: keeps its rows from build to build (increments)


def read_model(project_dir: str, relative_path: str) -> ModelSource:
    """models/<name>.sql, models/<name>.yaml or sources/<name>.yaml -> ModelSource."""
    full_path = os.path.join(project_dir, relative_path)
    text = read_text(full_path, relative_path)
    stem = os.path.splitext(os.path.basename(relative_path))[0]
    if relative_path.endswith(".sql"):
        return ModelSource(stem, relative_path, text.strip(), _annotated_materialize(text))
    document = parse_yaml(text, relative_path)
    data = document.data
    kind = data.get("type", data.get("kind", "source" if relative_path.startswith("sources") else "model"))
    if kind not in ("model", "source") and relative_path.startswith("sources"):
        kind, data = "source", _legacy_source(str(kind), data, relative_path)
    if kind not in ("model", "source"):
        raise ProjectError(f"expected type: model or source here, not {kind!r}", path=relative_path)
    name = str(data.get("name") or stem)
    if isinstance(data.get("sql"), str):
        partitions = read_partitions(data, relative_path)
        strategy, unique_key = _output(data, partitions is not None, relative_path)
        return ModelSource(
            name,
            relative_path,
            data["sql"].strip(),
            _materialize(data, kind) or partitions is not None or bool(data.get("connector")),
            document.template_offset("sql"),
            partitions,
            strategy,
            unique_key,
            _exec_text(data, "pre_exec", relative_path),
            _exec_text(data, "post_exec", relative_path),
            str(data["connector"]) if data.get("connector") else None,
            data.get("incremental") is True,
        )
    if data.get("path") or data.get("uri"):
        return ModelSource(
            name,
            relative_path,
            file_source_sql(str(data.get("path") or data.get("uri"))),
            _materialize(data, "source"),
        )
    raise ProjectError("a model needs sql: (or a source needs path:)", path=relative_path)


def read_partitions(data: Mapping, path: str) -> Mapping[str, Any] | None:
    """`partitions: {sql: ...}` or `partitions: {glob: <pattern> | {path: <pattern>, partition: file|directory}}`."""
    value = data.get("partitions")
    if value is None:
        return None
    if not isinstance(value, Mapping) or len([key for key in ("sql", "glob") if value.get(key)]) != 1:
        raise ProjectError("partitions: needs exactly one of sql: or glob:", path=path)
    if value.get("connector") not in (None, "duckdb"):
        raise ProjectError("partitions: only DuckDB runs partition queries in Sluice", path=path)
    return dict(value)


def _output(data: Mapping, partitioned: bool, path: str) -> tuple[str, tuple[str, ...]]:
    output = data.get("output") or {}
    if not isinstance(output, Mapping):
        raise ProjectError("output: must be a mapping", path=path)
    strategy = str(output.get("incremental_strategy") or "append")
    if strategy not in ("append", "merge"):
        raise ProjectError(
            f'output.incremental_strategy must be append or merge, not "{strategy}"', path=path
        )
    keys = output.get("unique_key") or []
    unique_key = tuple(str(key) for key in (keys if isinstance(keys, list) else [keys]))
    if strategy == "merge" and not unique_key:
        raise ProjectError('output.incremental_strategy "merge" needs output.unique_key', path=path)
    if strategy == "merge" and not partitioned and not data.get("incremental"):
        raise ProjectError(
            'output.incremental_strategy "merge" needs partitions: or incremental: true', path=path
        )
    return strategy, unique_key


def _exec_text(data: Mapping, key: str, path: str) -> str:
    """pre_exec/post_exec: Sluice runs them on the model's sandboxed connection, under the model rules (one
    read-only query), so the setup statements Rill allows there (ATTACH, SET, ...) are load errors."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProjectError(f"{key}: must be SQL text", path=path)
    return value.strip()


LEGACY_SOURCE_CONNECTORS = ("local_file", "duckdb")


def _legacy_source(connector: str, data: Mapping, path: str) -> dict:
    """Rill's old sources say `type: <connector>`; Rill reads that as `connector: <connector>`. Sluice reads
    the connectors whose data is on this machine: local files (`path:`) and DuckDB SQL (`sql:`)."""
    if connector not in LEGACY_SOURCE_CONNECTORS:
        raise ProjectError(
            f'the "{connector}" source connector is not supported by Sluice '
            f"(sources may read {', '.join(LEGACY_SOURCE_CONNECTORS)}; or use a model with sql:)",
            path=path,
        )
    return {**data, "type": "source", "connector": connector}


def _materialize(data: Mapping, kind: str) -> bool:
    value = data.get("materialize", kind == "source")
    return value is True or str(value).lower() == "true"


def _annotated_materialize(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") and MATERIALIZE_ANNOTATION in stripped:
            return stripped.split(MATERIALIZE_ANNOTATION, 1)[1].strip().lower().startswith("true")
    return False


def file_source_sql(path: str) -> str:
    """SELECT over a data file, read with the DuckDB reader its extension calls for."""
    path = path.removeprefix("local_file://")
    extension = os.path.splitext(path.removesuffix(".gz"))[1].lower()
    reader = FILE_READERS.get(extension, "read_csv_auto")
    return f"SELECT * FROM {reader}('{path.replace(chr(39), chr(39) * 2)}')"


def referenced_names(sql: str, candidates: set[str]) -> set[str]:
    """Which of the candidate model names this SQL reads, found in its parse tree (tokens as a fallback)."""
    lowered = {name.lower(): name for name in candidates}
    try:
        statements = sqlglot.parse(sql, read="duckdb")
        names = {
            table.name.lower()
            for statement in statements
            if statement is not None
            for table in statement.find_all(exp.Table)
        }
    except (ParseError, TokenError):
        try:
            names = {token.text.lower() for token in sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)}
        except TokenError:
            names = set()
    return {lowered[name] for name in names if name in lowered}


def dependency_order(dependencies: Mapping[str, set[str]]) -> tuple[list[str], dict[str, str]]:
    """Names in build order, and the models caught in a cycle with the cycle's description."""
    order: list[str] = []
    state: dict[str, str] = {}
    cycles: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            loop = trail[trail.index(name) :] + [name]
            for member in loop:
                cycles.setdefault(member, "model dependency cycle: " + " -> ".join(loop))
            return
        state[name] = "visiting"
        for dependency in sorted(dependencies.get(name, ())):
            visit(dependency, trail + [name])
        state[name] = "done"
        order.append(name)

    for name in sorted(dependencies):
        visit(name, [])
    return [name for name in order if name not in cycles], cycles
