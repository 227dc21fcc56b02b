"""API files (SPEC §2): `apis/<name>.yaml` (+ optional `apis/<name>.sql`) -> a frozen ApiDefinition."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from project.errors import ProjectError, QueryError
from project.loading.files import Document, parse_yaml, read_text
from project.metrics.time_floors import check_time_zone

RESOLVERS = ("sql", "metrics_sql", "api", "resource_status")
UNSERVED_RESOLVERS = ("metrics", "glob", "ai")
TEMPLATE_RESOLVERS = ("sql", "metrics_sql")  # the resolvers whose value is a templated query
KNOWN_KEYS = frozenset(
    RESOLVERS
    + (
        "type",
        "kind",
        "name",
        "args",
        "connector",
        "openapi",
        "security",
        "skip_nested_security",
        "max_rows",
        "cache",
        "title",
        "description",
        "display_name",
        "resolver",
        "resolver_properties",
    )
)
# `resolver:` + `resolver_properties:` (the API resource's spec, as Rill stores it): each resolver's
# properties, and the inline key each one is read as.
RESOLVER_PROPERTIES = {
    "sql": {"sql": "sql", "connector": "connector"},
    "metrics_sql": {"sql": "metrics_sql", "time_zone": "_time_zone"},
    "api": {"api": "api", "args": "args"},
    "resource_status": {"where_error": "where_error"},
}
UNSUPPORTED_PROPERTIES = ("additional_where", "additional_where_by_metrics_view", "additional_time_range")


@dataclass(frozen=True)
class ApiDefinition:
    """One API as loaded: its resolver, the template text it runs and its options."""

    name: str
    path: str
    resolver: str  # "sql", "metrics_sql" or "api"
    text: str = ""  # SQL or metrics SQL template text, trimmed, one trailing ";" removed
    template_path: str = ""  # the file the text came from (the API file or its companion .sql)
    line_offset: int = 0
    column_offset: int = 0
    connector: str | None = None
    proxy_to: str | None = None
    proxy_args: Mapping[str, Any] = field(default_factory=dict)
    openapi: Mapping[str, Any] = field(default_factory=dict)
    access: Any = None  # security.access: None (allowed), a bool, or a template string
    skip_nested_security: bool = False
    max_rows: int | None = None
    display_name: str | None = None  # the operation's summary in the OpenAPI document (Rill's display_name)
    description: str | None = None  # what the API is for, in the listing of APIs
    where_error: bool = False  # resource_status: only the resources in error
    time_zone: str = ""  # metrics_sql: the time zone `date_trunc` truncates in ('' is UTC)
    cache_enabled: bool | None = None  # None: the default (on for the embedded DuckDB)
    cache_ttl: float | None = None  # seconds an answer stays fresh; None: until the data changes
    warnings: tuple[str, ...] = ()


def read_api(project_dir: str, relative_path: str, defaults: Mapping[str, Any]) -> ApiDefinition:
    """Read one API file (and its companion .sql); raises ProjectError with the file's place."""
    document = parse_yaml(read_text(os.path.join(project_dir, relative_path), relative_path), relative_path)
    data = {**defaults, **document.data}
    kind = data.get("type", data.get("kind", "api"))
    if kind != "api":
        raise ProjectError(f"expected type: api in an API file, not {kind!r}", path=relative_path)
    name = str(data.get("name") or os.path.splitext(os.path.basename(relative_path))[0])
    data = _with_companion_sql(project_dir, relative_path, _from_resolver_properties(data, relative_path))
    resolver = _resolver(data, relative_path)
    return ApiDefinition(
        name=name,
        path=relative_path,
        resolver=resolver,
        text=_query_text(data, resolver),
        template_path=data.get("_sql_file", relative_path),
        line_offset=_line_offset(document, data, resolver),
        column_offset=0
        if "_sql_file" in data or resolver not in TEMPLATE_RESOLVERS
        else document.template_indent(data.get("_template_key", resolver)),
        connector=_optional_str(data.get("connector")),
        proxy_to=str(data["api"]) if resolver == "api" else None,
        proxy_args=_mapping(data.get("args"), "args", relative_path),
        openapi=_mapping(data.get("openapi"), "openapi", relative_path),
        access=_access(data.get("security"), relative_path),
        skip_nested_security=data.get("skip_nested_security") is True,
        max_rows=_max_rows(data.get("max_rows"), relative_path),
        display_name=_optional_str(data.get("display_name")),
        description=_optional_str(data.get("description")),
        where_error=resolver == "resource_status" and data[resolver].get("where_error") is True,
        time_zone=_time_zone(data.get("_time_zone"), relative_path),
        **_cache(data.get("cache"), relative_path),
        warnings=tuple(
            f"{relative_path}: unknown key {key!r} ignored" for key in document.data if key not in KNOWN_KEYS
        ),
    )


def _from_resolver_properties(data: dict, path: str) -> dict:
    """`resolver: metrics_sql` + `resolver_properties: {sql: ..., time_zone: ...}` read as the inline keys
    (`metrics_sql: ...`); the other resolvers' properties likewise."""
    if "resolver" not in data and "resolver_properties" not in data:
        return data
    resolver, properties = data.get("resolver"), data.get("resolver_properties") or {}
    if resolver not in RESOLVER_PROPERTIES:
        known = ", ".join(RESOLVER_PROPERTIES)
        raise ProjectError(f"resolver: must be one of {known}, not {resolver!r}", path=path)
    if not isinstance(properties, dict):
        raise ProjectError("resolver_properties: must be a mapping", path=path)
    if any(key in data for key in RESOLVERS):
        raise ProjectError("the API definition specifies more than one resolver", path=path)
    mapping = RESOLVER_PROPERTIES[resolver]
    for key in properties:
        if key in UNSUPPORTED_PROPERTIES:
            raise ProjectError(f'resolver_properties: "{key}" is not supported by Sluice', path=path)
        if key not in mapping:
            raise ProjectError(
                f'resolver_properties: unknown property "{key}" for the {resolver} resolver '
                f"(expected {', '.join(mapping)})",
                path=path,
            )
    inline = {mapping[key]: value for key, value in properties.items()}
    if resolver == "resource_status":
        inline = {"resource_status": dict(properties)}
    template_key = {"_template_key": "resolver_properties.sql"} if "sql" in properties else {}
    rest = {key: value for key, value in data.items() if key not in ("resolver", "resolver_properties")}
    return {**rest, **inline, **template_key}


def _time_zone(value: Any, path: str) -> str:
    """A metrics SQL API's time zone: an IANA name, checked when the project loads."""
    if value in (None, ""):
        return ""
    try:
        return check_time_zone(str(value))
    except QueryError as error:
        raise ProjectError(f"resolver_properties.time_zone: {error.message}", path=path) from None


def _with_companion_sql(project_dir: str, relative_path: str, data: dict) -> dict:
    companion = os.path.splitext(relative_path)[0] + ".sql"
    full_path = os.path.join(project_dir, companion)
    if not os.path.exists(full_path):
        return data
    if "sql" in data:
        raise ProjectError(f"SQL is given twice: in sql: and in {companion}", path=relative_path)
    return {**data, "sql": read_text(full_path, companion), "_sql_file": companion}


def _resolver(data: Mapping[str, Any], path: str) -> str:
    for unserved in UNSERVED_RESOLVERS:
        if unserved in data:
            raise ProjectError(
                f'the "{unserved}" resolver is not supported by Sluice '
                '(use "sql:", "metrics_sql:" or "api:")',
                path=path,
            )
    present = [key for key in RESOLVERS if data.get(key) not in (None, "")]
    if not present:
        raise ProjectError(
            'the API definition does not specify a resolver (for example, "sql:", "metrics_sql:", ...)',
            path=path,
        )
    if len(present) > 1:
        raise ProjectError("the API definition specifies more than one resolver", path=path)
    expected = dict if present[0] == "resource_status" else str
    if not isinstance(data[present[0]], expected):
        raise ProjectError(
            f"{present[0]}: must be a {'mapping' if expected is dict else 'string'}", path=path
        )
    return present[0]


def _query_text(data: Mapping[str, Any], resolver: str) -> str:
    if resolver not in TEMPLATE_RESOLVERS:
        return ""
    return trim_sql(data[resolver])


def trim_sql(text: str) -> str:
    """Trim whitespace and one trailing `;` (SPEC §2)."""
    text = text.strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def _line_offset(document: Document, data: Mapping[str, Any], resolver: str) -> int:
    if "_sql_file" in data or resolver not in TEMPLATE_RESOLVERS:
        return 0
    leading = len(data.get(resolver, "")) - len(str(data.get(resolver, "")).lstrip("\n"))
    return document.template_offset(data.get("_template_key", resolver)) + leading


def _mapping(value: Any, key: str, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProjectError(f"{key}: must be a mapping", path=path)
    return value


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _access(security: Any, path: str) -> Any:
    if security is None:
        return None
    if not isinstance(security, dict):
        raise ProjectError("security: must be a mapping", path=path)
    other_rules = [key for key in security if key != "access"]
    if other_rules:
        raise ProjectError("the 'api' resource type only supports 'access' security rules", path=path)
    return security.get("access")


def _max_rows(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProjectError("max_rows: must be a whole number >= 0 (0 means no cap)", path=path)
    return value


DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")


def _cache(value: Any, path: str) -> dict[str, Any]:
    """`cache: {enabled: bool, ttl: 30s | 5m | 1h | seconds}` -> the definition's cache fields."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProjectError("cache: must be a mapping with enabled and ttl", path=path)
    unknown = sorted(set(value) - {"enabled", "ttl"})
    if unknown:
        raise ProjectError(f"cache: unknown key {unknown[0]!r} (expected enabled, ttl)", path=path)
    enabled = value.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ProjectError("cache.enabled: must be true or false", path=path)
    return {"cache_enabled": enabled, "cache_ttl": _duration(value.get("ttl"), path)}


def _duration(value: Any, path: str) -> float | None:
    if value is None:
        return None
    match = DURATION.match(str(value).strip()) if not isinstance(value, bool) else None
    if match is None:
        raise ProjectError(
            "cache.ttl: must be a duration such as 30s, 5m, 1h or a number of seconds", path=path
        )
    return float(match[1]) * DURATION_UNITS[match[2] or "s"]
