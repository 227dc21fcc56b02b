"""What the OpenAPI document says about each API of a loaded project (SPEC §7).

Beyond Rill: an API without `openapi.response_schema` gets one inferred from its query's result columns,
described by DuckDB without running the query. Inference renders the SQL with no caller arguments (declared
defaults filled in when possible); whatever fails leaves the API documented as rows of `{type: object}`.
And an API that declares no parameters gets the `.args` its template reads as optional text parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from project.calls.runner import bound_statement
from project.definitions import Api, Project, ProxyLoopError, proxy_chain
from project.engines.interface import Column, Engine
from project.errors import SluiceError
from project.openapi.document import ApiDoc
from project.openapi.schema_inference import response_schema_for_columns
from project.openapi.template_args import argument_names

log = logging.getLogger("sluice.api_docs")

CACHE_KEY = "api_docs"


def api_docs(project: Project) -> list[ApiDoc]:
    """One ApiDoc per API that loaded, computed once per loaded project and kept in its cache."""
    cached = project.derived.get(CACHE_KEY)
    if cached is None:
        cached = [
            _api_doc(project, name, api) for name, api in sorted(project.apis.items()) if isinstance(api, Api)
        ]
        project.derived[CACHE_KEY] = cached
    return list(cached)


def _api_doc(project: Project, name: str, api: Api) -> ApiDoc:
    """The document's view of one API; the response schema is inferred only when none is declared."""
    block = dict(api.definition.openapi)
    if api.definition.display_name and not block.get("summary"):
        block["summary"] = api.definition.display_name
    target = _proxy_target(project, name)
    read = template_arguments(project, name, target)
    if block.get("response_schema"):
        return ApiDoc(name, block, template_arguments=read)
    return ApiDoc(name, block, _row_schema(project, target), read)


def template_arguments(project: Project, name: str, target: Api | None) -> tuple[str, ...]:
    """The `.args` the query at the end of the API's proxy chain reads, less those a proxy on the way fixes
    (a proxy's static `args` win over the caller's)."""
    if target is None or target.template is None:
        return ()
    fixed: set[str] = set()
    for link in proxy_chain(project.apis, name)[:-1]:
        api = project.apis.get(link)
        if isinstance(api, Api):
            fixed.update(api.definition.proxy_args)
    return tuple(arg for arg in argument_names(target.template) if arg not in fixed)


def _proxy_target(project: Project, name: str) -> Api | None:
    """The loaded API a chain of `api:` proxies ends at; None for a loop (calling it is a 400)."""
    try:
        target = project.apis.get(proxy_chain(project.apis, name)[-1])
    except ProxyLoopError:
        return None
    return target if isinstance(target, Api) else None


def _row_schema(project: Project, api: Api | None) -> Mapping[str, Any] | None:
    """The declared or inferred schema of one row of this (non-proxy) API; None when it cannot be known."""
    if api is None:
        return None
    declared = api.definition.openapi.get("response_schema")
    if declared:
        return declared
    try:
        return infer_row_schema(project, api)
    except Exception as error:  # noqa: BLE001 - a guess that fails must not break the document
        log.info("no response schema inferred for API %r: %s", api.name, error)
        return None


def infer_row_schema(project: Project, api: Api) -> dict:
    """Describe the API's query, rendered with no caller arguments, and turn its columns into a row schema."""
    columns = describe_api(project, api)
    return nullable(response_schema_for_columns([c.name for c in columns], [c.type for c in columns]))


def describe_api(project: Project, api: Api) -> list[Column]:
    """The result columns of the API's query, rendered with no caller arguments, as its engine describes
    them (without fetching rows); the engine's refusal is a QueryError (`--check` reports it)."""
    engine, bound_sql, params = bound_statement(project, api, project.data(_neutral_arguments(api), {}))
    try:
        return _describe(engine, bound_sql, params)
    except SluiceError:
        if not params:
            raise
        # Arguments left out render as text ("<no value>") that a strict engine will not compare with a
        # number; NULL (or 0, for ClickHouse 18.16) in each value position has the same result columns.
        for neutral in (None, 0):
            values = {key: neutral for key in params} if isinstance(params, dict) else [neutral] * len(params)
            try:
                return _describe(engine, bound_sql, values)
            except SluiceError:
                continue
        raise


def _describe(engine: Engine, sql: str, params: Any) -> list[Column]:
    session = engine.session()
    try:
        return session.describe(sql, params)
    except SluiceError:
        raise
    except Exception as error:  # noqa: BLE001 - the driver's error, as the engine's domain error
        raise session.translate_error(error, 0) from None
    finally:
        session.close()


def nullable(schema: dict) -> dict:
    """A row schema whose every column and element may also be null, as any SQL value may (NaN is null too)."""
    result = dict(schema)
    if "properties" in result:
        result["properties"] = {name: _or_null(column) for name, column in result["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(result.get(key), dict):
            result[key] = _or_null(result[key])
    return result


def _or_null(schema: dict) -> dict:
    """The schema with null allowed (`type: [T, "null"]`), and null allowed in whatever it holds."""
    result = nullable(schema)
    if isinstance(result.get("type"), str):
        result["type"] = [result["type"], "null"]
    return result


def _neutral_arguments(api: Api) -> dict[str, Any]:
    """The declared defaults when they satisfy the API's rules on their own, else no arguments at all."""
    if api.arguments is None:
        return {}
    try:
        return api.arguments.coerce_and_validate({}, {})
    except SluiceError:
        return {}
