"""`--check` for SQL: every API's query compiled against the built models without running it.

Each query is rendered with no caller arguments, bound, and described by its engine, which parses and binds
it (tables, columns, functions) but reads no rows. What the engine refuses is reported in the API's file.
"""

from __future__ import annotations

from project.calls.runner import SHAPE_ERRORS, check_zoned_dialect, metrics_engine, placed_error
from project.definitions import Api, Project
from project.errors import ProjectError, QueryError, SluiceError
from project.metrics.sql import compile_metrics_sql, in_dialect
from project.sql.binding import bind_sql
from project.sql.rendering import Markers, render_sql


def sql_problems(project: Project) -> list[ProjectError]:
    """The SQL errors of every API that loaded, placed as `file:line:column` with the author's line."""
    problems = []
    for api in project.apis.values():
        if isinstance(api, Api) and api.template is not None:
            problem = _problem(project, api)
            if problem is not None:
                problems.append(problem)
    return problems


def _problem(project: Project, api: Api) -> ProjectError | None:
    definition = api.definition
    if definition.resolver not in ("sql", "metrics_sql") or api.template is None:
        return None
    try:
        markers = Markers()
        sql = render_sql(api.template, project.data({}, {}), markers)
        engine = project.engine_for(definition.connector)
        if definition.resolver == "metrics_sql":
            engine = metrics_engine(project, sql, definition.connector)
            check_zoned_dialect(definition, engine.dialect)
            compiled = compile_metrics_sql(sql, project.metrics_views, None, definition.time_zone)
            sql = in_dialect(compiled, engine.dialect)
    except ProjectError as error:
        return error
    except SluiceError:
        return None  # the query's shape depends on arguments: requests will tell
    try:
        bound_sql, params = bind_sql(sql, markers.values, markers.sources, engine.dialect, engine.style)
    except QueryError as error:
        return _as_project_error(placed_error(error, definition))
    except ProjectError as error:
        return error
    except SluiceError:
        return None  # the query's shape depends on arguments: requests will tell
    session = engine.session()
    try:
        session.describe(bound_sql, params)
    except Exception as error:  # noqa: BLE001 - the engine's own errors, translated below
        failure = session.translate_error(error, 0)
        if isinstance(failure, QueryError) and failure.message.startswith(SHAPE_ERRORS):
            return _as_project_error(placed_error(failure, definition))
        return None
    finally:
        session.close()
    return None


def _as_project_error(error: QueryError) -> ProjectError:
    return ProjectError(error.message, path=error.path, line=error.line, column=error.column)
