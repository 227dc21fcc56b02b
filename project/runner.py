"""Answering one API call: find the API, follow proxies, render, bind, run (SPEC §2, §5)."""

from __future__ import annotations

from typing import Any, Mapping

from project.binding import bind_sql
from project.errors import BrokenApiError, NotFoundError, QueryError
from project.execution import Limits, RowStream, stream_query
from project.loader import Api, Project
from project.rendering import render_sql

MAX_PROXY_DEPTH = 32


def find_api(project: Project, name: str) -> Api:
    api = project.apis.get(name)
    if api is None:
        raise NotFoundError(f'api with name "{name}" not found')
    if api.error is not None:
        raise BrokenApiError(str(api.error))
    return api


def resolve_proxies(project: Project, name: str, args: Mapping[str, Any]) -> tuple[Api, dict[str, Any]]:
    """Follow `api: other` links; each link's static args win over the caller's."""
    api = find_api(project, name)
    merged = dict(args)
    for _ in range(MAX_PROXY_DEPTH):
        definition = api.definition
        if definition is None or definition.resolver != "api":
            return api, merged
        merged = {**merged, **definition.proxy_args}
        api = find_api(project, definition.proxy_to or "")
    raise QueryError(f'infinite recursion detected: the API "{name}" proxies to itself')


def run_api(project: Project, name: str, args: Mapping[str, Any], user: Mapping[str, Any] | None,
            limits: Limits) -> RowStream:
    """Run an API for these arguments and return its answer with the first batch fetched."""
    api, args = resolve_proxies(project, name, args)
    definition = api.definition
    assert definition is not None and api.template is not None
    if definition.resolver == "metrics_sql":
        raise QueryError("metrics_sql APIs are not served by this version of Sluice yet")
    rendered = render_sql(api.template, project.data(args, user))
    sql, params = bind_sql(rendered.shape, rendered.values, rendered.sources)
    if definition.max_rows is not None:
        limits = Limits(definition.max_rows, limits.batch_rows, limits.timeout)
    if project.database is None:
        raise QueryError("the project has no database")
    return stream_query(project.database, sql, params, limits)
