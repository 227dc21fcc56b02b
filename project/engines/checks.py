"""What `--check` and health ask of connectors: does each engine answer, and does it accept each API's SQL.

The DuckDB build already reports its own problems while loading; these checks reach the other engines,
which loading never does (an engine that is down must not stop a project from serving its other APIs).
"""

from __future__ import annotations

from typing import Any

from project.definitions import Api, Project
from project.errors import ProjectError, SluiceError
from project.openapi.api_docs import describe_api

DEFAULT = "duckdb"


def connector_states(project: Project, max_age: float = 0.0) -> list[dict[str, Any]]:
    """Each connector's state: name, driver, `ok` or `down` with the reason (no secrets). Probed now, or
    (health) at most once per `max_age` seconds per connector: callers must not drive queries through it."""
    return [
        engine.probe(max_age) if hasattr(engine, "probe") else engine.state()
        for name, engine in sorted(project.engines.items())
        if name != DEFAULT
    ]


def connector_problems(project: Project) -> list[ProjectError]:
    """An error per unreachable connector, and per API whose SQL its (reachable) engine rejects."""
    states = {state["name"]: state for state in connector_states(project)}
    problems = [
        ProjectError(
            f'connector "{name}" ({state["driver"]}) is unavailable: {state.get("error", "")}',
            path=getattr(project.engines[name], "path", None),
        )
        for name, state in states.items()
        if state["state"] != "ok"
    ]
    for api in project.apis.values():
        if not isinstance(api, Api) or api.template is None:
            continue
        name = api.definition.connector or project.default_connector
        if states.get(name, {}).get("state") == "ok":
            problems.extend(_rejected(project, api, name))
    return problems


def _rejected(project: Project, api: Api, name: str) -> list[ProjectError]:
    try:
        describe_api(project, api)
    except SluiceError as error:
        line = api.definition.line_offset + 1 + ((error.line or 1) - 1)
        return [
            ProjectError(
                f'connector "{name}" rejects the SQL: {error.message}',
                path=api.definition.template_path,
                line=line,
            )
        ]
    except Exception:  # noqa: BLE001 - not the engine's refusal (e.g. arguments are needed to render)
        return []
    return []
