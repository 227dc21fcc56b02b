"""Answering one API call: find the API, check access, follow proxies, render, bind, run (SPEC §2, §5, §9)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from project.auth.policy import CallerPolicy, rule_allows
from project.calls import resource_status
from project.calls.sizes import check_sizes
from project.definitions import Api, BrokenApi, Project, proxy_chain
from project.encoding.formats import JSON, Format
from project.engines.batches import stream_batches
from project.engines.execution import AnswerStream, Limits, stream_query
from project.engines.interface import Engine
from project.errors import (
    AccessDeniedError,
    BrokenApiError,
    NotFoundError,
    ProjectError,
    ProjectQueryError,
    QueryError,
    SluiceError,
    UnknownNameError,
)
from project.loading.models import referenced_names
from project.metrics.sql import compile_metrics_sql, in_dialect, metrics_view_for
from project.sql.binding import bind_sql
from project.sql.places import place_engine_error, place_line, with_quote
from project.sql.rendering import Markers, render_sql
from project.sql.sizes import check_sql_size
from templating import Template

METRICS_CACHE_SIZE = 1024
# Engine errors that are wrong whatever the arguments: the project's fault, not the caller's.
SHAPE_ERRORS = ("Parser Error", "Binder Error", "Catalog Error", "SQL syntax error")


@dataclass(frozen=True)
class Caller:
    """Who calls: `authenticated` is False when auth is off (no rules apply, `.user` is empty)."""

    authenticated: bool = False
    user: Mapping[str, Any] = field(default_factory=dict)


ANONYMOUS = Caller()


def find_api(project: Project, name: str) -> Api:
    api = project.apis.get(name)
    if api is None:
        raise NotFoundError(f'api with name "{name}" not found')
    if isinstance(api, BrokenApi):
        raise BrokenApiError(str(api.error))
    return api


def caller_arguments(
    api: Api, body: Mapping[str, Any], query: Mapping[str, list[str]], max_items: int = 10_000
) -> dict[str, Any]:
    """Query parameters over the body; typed and validated when the API declares a schema (SPEC §3.2).
    No list or object may hold more than `max_items` items (a 400, checked first)."""
    check_sizes(body, query, max_items)
    if api.arguments is not None:
        merged = api.arguments.coerce_and_validate(query, body)
        check_sizes(merged, {}, max_items)  # `?ids=1,2,3` became a list
        return merged
    merged = dict(body)
    merged.update({key: values[0] for key, values in query.items() if values})
    return merged


@dataclass(frozen=True)
class Call:
    """A call resolved through its `api:` proxies, access checked: the API that runs, with which args,
    and every API on the way (their templates and rules decide which caller attributes matter)."""

    api: Api
    args: dict[str, Any]
    chain: tuple[Api, ...]


@dataclass(frozen=True)
class Statement:
    """A call made ready to run: the bound SQL, its parameters and the limits it runs under."""

    sql: str
    params: Any
    limits: Limits
    engine: Engine = field(compare=False)
    definition: Any = field(default=None, compare=False)  # the API's, to place engine errors in its file
    timings: dict[str, float] = field(
        default_factory=dict, compare=False
    )  # render and bind, for Server-Timing


def run_api(
    project: Project,
    name: str,
    args: Mapping[str, Any],
    caller: Caller,
    limits: Limits,
    format_: Format = JSON,
    client_gone: Callable[[], bool] | None = None,
) -> AnswerStream:
    """Run an API for these arguments and return its answer in a format, with the first batch fetched.
    `client_gone` tells whether the caller hung up (the query is then interrupted)."""
    call = resolve_call(project, name, args, caller)
    return run_statement(project, prepare_statement(project, call, caller, limits), format_, client_gone)


def prepare_statement(project: Project, call: Call, caller: Caller, limits: Limits) -> Statement:
    """Render and bind the call's query for this caller (the text shows every value it depends on)."""
    api, args = call.api, call.args
    if api.definition.resolver == "resource_status":
        return _resource_status(project, api, caller, limits)
    timings: dict[str, float] = {}
    data = project.data(args, caller.user)
    engine, bound_sql, params = bound_statement(project, api, data, caller, timings)
    if api.definition.max_rows is not None:
        limits = Limits(api.definition.max_rows, limits.batch_rows, limits.timeout)
    return Statement(bound_sql, params, limits, engine, api.definition, timings)


def run_statement(
    project: Project,
    statement: Statement,
    format_: Format = JSON,
    client_gone: Callable[[], bool] | None = None,
) -> AnswerStream:
    """Run a prepared statement and return its answer with the first batch fetched."""
    engine, sql, params, limits = statement.engine, statement.sql, statement.params, statement.limits
    try:
        if format_.arrow:
            return stream_batches(engine, sql, params, limits, format_.name, client_gone)
        stream = stream_query(engine, sql, params, limits, format_.name == "ndjson", client_gone)
    except QueryError as error:
        raise _failed_model_error(project, sql, error, statement.definition) from None
    stream.timings = {**statement.timings, **stream.timings}
    return stream


def bound_statement(
    project: Project,
    api: Api,
    data: Mapping[str, Any],
    caller: Caller = ANONYMOUS,
    timings: dict[str, float] | None = None,
) -> tuple[Engine, str, list[Any]]:
    """The engine the API's query runs on and the query for this template data: rendered (caller values
    become markers), compiled from metrics SQL (under the caller's policy where security applies) into the
    engine's dialect, and bound (markers -> the driver's parameters)."""
    definition = api.definition
    started = time.perf_counter()
    markers = Markers()
    sql = render_sql(_query_template(api), data, markers)
    engine = project.engine_for(definition.connector)
    limit = project.max_sql_bytes
    if definition.resolver == "metrics_sql":
        check_sql_size(sql, limit, f"the metrics SQL of API {api.name!r} as rendered for this call")
        applies = caller.authenticated and not definition.skip_nested_security
        policy = CallerPolicy(_database(project), data, markers) if applies else None
        engine = metrics_engine(project, sql, definition.connector)
        check_zoned_dialect(definition, engine.dialect)
        sql = in_dialect(_compile_metrics(project, sql, policy, definition.time_zone), engine.dialect)
    rendered = time.perf_counter()
    try:
        bound_sql, params = bind_sql(
            sql,
            markers.values,
            markers.sources,
            engine.dialect,
            engine.style,
            (limit, f"the SQL of API {api.name!r}"),
        )
    except QueryError as error:
        raise placed_error(error, definition) from None
    if timings is not None:
        timings["render"] = (rendered - started) * 1000
        timings["bind"] = (time.perf_counter() - rendered) * 1000
    return engine, bound_sql, params


def metrics_engine(project: Project, metrics_sql: str, connector: str | None) -> Engine:
    """Metrics SQL runs where its view's table lives: the view's connector, else the API's, else the default."""
    view = metrics_view_for(metrics_sql, project.metrics_views)
    return project.engine_for(view.connector or connector)


def _failed_model_error(project: Project, sql: str, error: QueryError, definition: Any) -> SluiceError:
    """A query over a model that failed to build fails by the project's fault (500 naming the model and
    its error), not the caller's (400 "Table ... does not exist"); other engine errors are placed in the
    API's file."""
    if not project.failed_models or not isinstance(error, UnknownNameError):
        return placed_error(error, definition)
    names = sorted(referenced_names(sql, set(project.failed_models)))
    if not names:
        return placed_error(error, definition)
    return BrokenApiError(f"model {names[0]!r} failed to build: {project.failed_models[names[0]]}")


def _compile_metrics(project: Project, sql: str, policy: CallerPolicy | None, time_zone: str) -> str:
    """Metrics SQL compiled to SQL over the model; without a caller policy the result depends on the
    rendered text (and time zone) alone, so it is kept per loaded project (parsing costs about a ms)."""
    if policy is not None:
        return compile_metrics_sql(sql, project.metrics_views, policy, time_zone)
    cache = project.derived.setdefault("compiled_metrics_sql", {})
    compiled = cache.get((sql, time_zone))
    if compiled is None:
        compiled = compile_metrics_sql(sql, project.metrics_views, None, time_zone)
        if len(cache) >= METRICS_CACHE_SIZE:
            cache.clear()  # crude but bounded; shapes repeat, so it refills with the ones in use
        cache[(sql, time_zone)] = compiled
    return compiled


def check_zoned_dialect(definition: Any, dialect: str) -> None:
    """Truncating in a time zone is compiled for DuckDB (as Rill's DuckDB dialect writes it): on another
    engine a time zone is the project's mistake, reported with the API's file."""
    if definition.time_zone and dialect != "duckdb":
        message = f'time_zone is supported for metrics views on DuckDB, not on "{dialect}"'
        raise ProjectError(message, path=definition.path)


def resolve_call(project: Project, name: str, args: Mapping[str, Any], caller: Caller) -> Call:
    """Follow `api: other` links, checking access on each; a link's static args win over the caller's."""
    merged = dict(args)
    chain: list[Api] = []
    for link in proxy_chain(project.apis, name):
        api = find_api(project, link)
        _check_access(project, api, caller)
        chain.append(api)
        if not api.is_proxy:
            return Call(api, merged, tuple(chain))
        merged = {**merged, **api.definition.proxy_args}
    raise NotFoundError(f'api with name "{name}" not found')  # unreachable: a chain ends at a non-proxy


def _resource_status(project: Project, api: Api, caller: Caller, limits: Limits) -> Statement:
    resource_status.check_caller(caller.authenticated, caller.user)
    sql, params = resource_status.rows_sql(resource_status.resource_rows(project, api.definition.where_error))
    return Statement(sql, params, limits, _database(project))


def _query_template(api: Api) -> Template:
    if api.template is None:  # only proxies have none, and _resolve follows them to their end
        raise QueryError(f'the API "{api.name}" has no query')
    return api.template


def _check_access(project: Project, api: Api, caller: Caller) -> None:
    if not caller.authenticated or api.access is None or api.access is True:
        return
    if not rule_allows(_database(project), api.access, project.data({}, caller.user)):
        raise AccessDeniedError(f'does not have access to api "{api.name}"')


def _database(project: Project):
    if project.database is None:
        raise QueryError("the project has no database")
    return project.database


def placed_error(error: QueryError, definition: Any) -> QueryError:
    """An engine's error as the project's: `file:line:column`, quoting the author's line."""
    if error.path is not None or not definition.text:
        return error
    text, line_offset, column_offset = definition.text, definition.line_offset, definition.column_offset
    if error.line is not None:  # counted in the rendered query by the SQL checker
        message, place = error.message, place_line(text, error.line, error.column, line_offset, column_offset)
    else:
        message, place = place_engine_error(error.message, text, line_offset, column_offset)
    kind = ProjectQueryError if message.startswith(SHAPE_ERRORS) else QueryError  # else a caller's value
    if place is None:
        return kind(message, path=definition.template_path)
    return kind(
        with_quote(message, place), path=definition.template_path, line=place.line, column=place.column
    )
