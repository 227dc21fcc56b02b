"""Connector files (SPEC §8): `connectors/<name>.yaml` with Rill's property names -> frozen ConnectorConfigs.

Values may be templates over `.env` (`{{ .env.PG_PASSWORD }}`, Rill's `{{ .env.connector.postgres.password }}`),
and variables named `connector.<name>.<property>` set a property with no template at all, as in Rill. A
connector named after its driver needs no file. Property values are secrets: they never appear in errors,
logs or `repr`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from project.errors import ProjectError
from project.loading.files import parse_yaml, read_text
from project.sql.rendering import compile_template, render_text

DRIVERS = ("duckdb", "postgres", "mysql", "clickhouse")
DEFAULT_CONNECTOR = "duckdb"
RESERVED_KEYS = frozenset({"type", "kind", "driver", "name", "dev", "prod", "refs"})
SEPARATE_PROPERTIES = {
    "postgres": ("host", "port", "user", "password", "dbname", "sslmode"),
    "mysql": ("host", "port", "user", "password", "database", "ssl_mode", "ssl-mode"),
    "clickhouse": ("host", "port", "username", "password", "database", "ssl"),
}
DSN_KEYS = ("dsn", "database_url")


@dataclass(frozen=True)
class ConnectorConfig:
    """One connector: name, driver and its rendered properties (kept out of repr: they hold secrets)."""

    name: str
    driver: str
    path: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict, repr=False)


def load_connectors(
    directory: str, paths: list[str], env: Mapping[str, str], environment: str, errors: list[ProjectError]
) -> dict[str, ConnectorConfig]:
    """Every connector file (`type: connector`, or a file in connectors/), plus the connectors that
    variables alone configure."""
    configs: dict[str, ConnectorConfig] = {}
    for path in paths:
        try:
            config = read_connector(directory, path, env, environment)
        except ProjectError as error:
            errors.append(error)
            continue
        configs[config.name] = config
    for name in _variable_connectors(env):
        if name not in configs and name in DRIVERS:
            configs[name] = ConnectorConfig(name, name, None, _variables_for(name, env))
    return configs


def implicit_connector(name: str, env: Mapping[str, str]) -> ConnectorConfig | None:
    """A connector named after its driver, configured by variables and defaults only (no file)."""
    if name not in DRIVERS:
        return None
    return ConnectorConfig(name, name, None, _variables_for(name, env))


def read_connector(directory: str, path: str, env: Mapping[str, str], environment: str) -> ConnectorConfig:
    """One connector file; ProjectError with the file's place (never a property's value)."""
    data = dict(parse_yaml(read_text(os.path.join(directory, path), path), path).data)
    if data.get("type", data.get("kind")) != "connector":
        raise ProjectError("expected type: connector in a connector file", path=path)
    name = str(data.get("name") or os.path.splitext(os.path.basename(path))[0])
    driver = str(data.get("driver") or "")
    if driver not in DRIVERS:
        raise ProjectError(f"driver must be one of {', '.join(DRIVERS)}, not {driver!r}", path=path)
    overrides = data.get(environment)
    if isinstance(overrides, dict):
        data.update(overrides)
    properties = {key: value for key, value in data.items() if key not in RESERVED_KEYS}
    properties = {key: _render(value, key, env, environment, path) for key, value in properties.items()}
    properties.update(_variables_for(name, env))
    _check_properties(driver, properties, path)
    return ConnectorConfig(name, driver, path, properties)


def _render(value: Any, key: str, env: Mapping[str, str], environment: str, path: str) -> Any:
    if not isinstance(value, str) or "{{" not in value:
        return value
    data = {"env": _nested(env), "vars": _nested(env), "environment": environment}
    try:
        return render_text(compile_template(value, path), data, path).strip()
    except ProjectError as error:  # the message is the template engine's, never the rendered value
        raise ProjectError(f"property {key!r}: {error.message}", path=path) from None


def _nested(env: Mapping[str, str]) -> dict[str, Any]:
    """The variables, plus dotted names as nested maps: `connector.postgres.password` is also reachable as
    `.env.connector.postgres.password`."""
    nested: dict[str, Any] = dict(env)
    for key, value in env.items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break  # a plain variable has this name: it wins
            node = child
        else:
            if parents:
                node.setdefault(leaf, value)
    return nested


def _variable_connectors(env: Mapping[str, str]) -> set[str]:
    return {key.split(".")[1] for key in env if key.startswith("connector.") and key.count(".") >= 2}


def _variables_for(name: str, env: Mapping[str, str]) -> dict[str, str]:
    prefix = f"connector.{name}."
    return {key[len(prefix) :]: value for key, value in env.items() if key.startswith(prefix)}


def _check_properties(driver: str, properties: Mapping[str, Any], path: str) -> None:
    """Either a dsn or the separate properties, not both (Rill's rule)."""
    has_dsn = any(properties.get(key) not in (None, "") for key in DSN_KEYS)
    separate = [key for key in SEPARATE_PROPERTIES.get(driver, ()) if properties.get(key) not in (None, "")]
    if has_dsn and separate:
        raise ProjectError(
            f"set either dsn or the separate properties ({', '.join(separate)}), not both", path=path
        )
