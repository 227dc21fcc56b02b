"""Partitioned models (Rill's `partitions:`): the model's SQL runs once per partition, with the partition's
values as `.partition` in its template, and the results go into one table: appended, or merged on
`output.unique_key` (`output.incremental_strategy: merge`: a later partition's row replaces an earlier
one with the same key).

Partitions come from `sql:` (each row of a query, run on a sandboxed DuckDB connection) or `glob:` (each
file, or each directory with `partition: directory`, that a pattern inside the sandbox matches, as
`.partition.uri` and `.partition.path`). A model with `incremental: true` keeps the rows of the partitions it
has already run from one build to the next and runs only new ones (see `project.engines.increments`); other
partitioned models run every partition in every build.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Mapping
from typing import Any

import duckdb

from project.engines.sandbox import Sandbox, apply_sandbox
from project.errors import ArgumentError, ProjectError, QueryError
from project.loading.models import ModelSource
from project.sql.binding import compile_shape
from project.sql.paths import absolute_file_paths
from project.sql.rendering import compile_template, render_text


def checked_model_sql(sql: str, directory: str) -> str:
    """A model's SQL under the APIs' rules (one read-only query, file paths made absolute in the project)."""
    return compile_shape(absolute_file_paths(sql, directory), "duckdb").bind((), ())[0].strip()


def render_partitions(
    model: ModelSource, data: Mapping[str, Any], directory: str, sandbox: Sandbox
) -> list[tuple[str, str]]:
    """The model's SQL rendered once per partition, in partition order, each with its partition's key."""
    template = compile_template(model.sql, model.path, model.line_offset)
    return [
        (partition_key(row), render_text(template, {**data, "partition": row}, model.path))
        for row in partition_rows(model, data, directory, sandbox)
    ]


def partition_key(row: Mapping[str, Any]) -> str:
    """A partition's identity across builds: its values (a query's row, or a file's path)."""
    return json.dumps(row, sort_keys=True, default=str)


def partition_rows(
    model: ModelSource, data: Mapping[str, Any], directory: str, sandbox: Sandbox
) -> list[dict[str, Any]]:
    spec = model.partitions or {}
    if spec.get("sql"):
        return _query_rows(model, str(spec["sql"]), data, directory, sandbox)
    return _glob_rows(model, spec["glob"], directory, sandbox)


def _query_rows(
    model: ModelSource, text: str, data: Mapping[str, Any], directory: str, sandbox: Sandbox
) -> list[dict[str, Any]]:
    sql = render_text(compile_template(text, model.path), data, model.path)
    try:
        checked = checked_model_sql(sql, directory)
    except (QueryError, ArgumentError) as error:
        raise ProjectError(f"partitions: {error.message}", path=model.path) from None
    connection = duckdb.connect()
    try:
        apply_sandbox(connection, sandbox)
        cursor = connection.execute(checked)
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    except duckdb.Error as error:
        raise ProjectError(f"partitions: {error}", path=model.path) from None
    finally:
        connection.close()


def _glob_rows(model: ModelSource, spec: Any, directory: str, sandbox: Sandbox) -> list[dict[str, Any]]:
    pattern = spec.get("path") if isinstance(spec, Mapping) else spec
    by = (spec.get("partition") if isinstance(spec, Mapping) else None) or "file"
    if not isinstance(pattern, str) or "://" in pattern:
        raise ProjectError(
            "partitions.glob: a file pattern in the project folder (or an allowed folder)", path=model.path
        )
    if by not in ("file", "directory"):
        raise ProjectError('partitions.glob.partition must be "file" or "directory"', path=model.path)
    matches = sorted(glob.glob(os.path.join(directory, pattern), recursive=True))
    visible = [os.path.realpath(path) for path in matches if _readable(path, sandbox)]
    if by == "directory":
        visible = sorted({os.path.dirname(path) for path in visible})
    return [{"uri": path, "path": path} for path in visible]


def _readable(path: str, sandbox: Sandbox) -> bool:
    """A file inside the sandbox and not hidden: what the model itself could read."""
    real = os.path.realpath(path)
    if not os.path.isfile(real):
        return False
    if real in sandbox.paths:
        return True
    for folder in sandbox.directories:
        if real.startswith(os.path.join(folder, "")):
            return not any(part.startswith(".") for part in real[len(folder) :].split(os.sep))
    return False
