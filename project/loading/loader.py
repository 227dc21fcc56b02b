"""Loading a project folder (SPEC §1): every file checked, models built, APIs compiled, problems collected.

A file that fails is reported with its place and never stops the rest: a broken API answers its load
error, the others serve.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from typing import Any

from project.calls.arguments import compile_argument_schema
from project.calls.builtin import BUILTIN_APIS
from project.definitions import Api, BrokenApi, Project, ProxyLoopError, proxy_chain
from project.encoding.formats import split_suffix
from project.engines.duckdb import BuiltModel, Database, build_database, fingerprint
from project.engines.increments import read_request
from project.engines.ingest import ingest_from
from project.engines.interface import Engine
from project.engines.registry import create_engine
from project.engines.sandbox import Sandbox, project_sandbox
from project.errors import ArgumentError, ProjectError, QueryError
from project.loading.apis import ApiDefinition, read_api
from project.loading.connectors import DEFAULT_CONNECTOR, DRIVERS, implicit_connector, load_connectors
from project.loading.discovery import discover
from project.loading.files import file_stamps, parse_dotenv, parse_yaml, read_text
from project.loading.models import ModelSource, dependency_order, read_model, referenced_names
from project.loading.partitions import checked_model_sql, render_partitions
from project.metrics.views import MetricsView, check_model, parse_metrics_view
from project.openapi.document import validate_openapi_block
from project.settings import Settings
from project.sql.binding import compile_shape
from project.sql.paths import absolute_file_paths
from project.sql.rendering import Markers, compile_template, render_sql, render_text, template_data
from project.sql.statements import StatementError
from templating import Template

ADDRESS = re.compile(r" at 0x[0-9a-f]+")
DEFAULT_ROW_CAP = 10_000
ROW_LIMIT_VARIABLE = "rill.interactive_sql_row_limit"


def load_project(settings: Settings) -> Project:
    """Read, check and build the project the settings point at."""
    directory = os.path.abspath(settings.project_dir)
    if not os.path.isdir(directory):
        raise ProjectError(f"project folder not found: {settings.project_dir}")
    errors: list[ProjectError] = []
    config = _read_config(directory)
    env = _variables(directory, config, settings, errors)
    environment = settings.environment
    files = discover(directory, _ignore_paths(config), errors)
    connectors = _create_engines(directory, files.of("connector"), settings, env, environment, errors)
    database, failed_models, model_names = _build_models(
        directory, settings, env, environment, errors, files.of("model", "source"), connectors
    )
    engines = _with_database(connectors, database)
    views = _load_metrics_views(directory, files.of("metrics_view"), model_names, errors)
    default_connector = str(config.get("olap_connector") or DEFAULT_CONNECTOR)
    apis, warnings = _load_apis(
        directory,
        files.of("api"),
        config.get("apis") or {},
        env,
        environment,
        errors,
        (engines, default_connector),
    )
    warnings = [*files.warnings, *warnings]
    _add_implicit_engines(engines, apis, settings, env, errors)
    return Project(
        directory,
        env,
        environment,
        apis,
        tuple(errors),
        tuple(warnings),
        _row_cap(settings, env, errors),
        views,
        database,
        engines,
        default_connector,
        failed_models,
        frozenset(model_names),
        max_sql_bytes=settings.max_sql_bytes,
        fingerprint=_answers_fingerprint(database, env, environment, apis, views),
    )


def _create_engines(
    directory: str,
    paths: list[str],
    settings: Settings,
    env: Mapping[str, str],
    environment: str,
    errors: list[ProjectError],
) -> dict[str, Engine | None]:
    """One engine per connector (no connection made yet: an engine that is down fails its requests, not
    the load; None for a `duckdb` connector); a connector whose driver is not installed is a load error
    naming the extra to install."""
    engines: dict[str, Engine | None] = {}
    for name, connector in load_connectors(directory, paths, env, environment, errors).items():
        try:
            engines[name] = create_engine(connector, settings)
        except ProjectError as error:
            errors.append(ProjectError(f'connector "{name}": {error.message}', path=connector.path))
    return engines


def _with_database(connectors: Mapping[str, Engine | None], database: Database) -> dict[str, Engine]:
    """Every connector's engine, `duckdb` ones being the project's database; one query limit for all."""
    engines: dict[str, Engine] = {DEFAULT_CONNECTOR: database}
    for name, engine in connectors.items():
        if engine is not None:
            engine.share_query_slots(database)  # --max-queries counts every engine's queries together
        engines[name] = engine or database
    return engines


def _add_implicit_engines(
    engines: dict[str, Engine],
    apis: Mapping[str, Api | BrokenApi],
    settings: Settings,
    env: Mapping[str, str],
    errors: list,
) -> None:
    """A connector named after its driver needs no file: defaults and `connector.<driver>.*` variables."""
    used = {
        api.definition.connector for api in apis.values() if isinstance(api, Api) and api.definition.connector
    }
    for name in sorted(used - set(engines)):
        config = implicit_connector(name, env)
        if config is None:
            continue
        try:
            engine = create_engine(config, settings)
        except ProjectError as error:
            errors.append(ProjectError(f'connector "{name}": {error.message}'))
            continue
        if engine is not None:
            engine.share_query_slots(engines[DEFAULT_CONNECTOR])
            engines[name] = engine


def declared_model_names(settings: Settings) -> set[str]:
    """The names of the project's models, read from their files (nothing is built)."""
    directory = os.path.abspath(settings.project_dir)
    if not os.path.isdir(directory):
        raise ProjectError(f"project folder not found: {settings.project_dir}")
    errors: list[ProjectError] = []
    files = discover(directory, _ignore_paths(_read_config(directory)), errors)
    return set(_read_models(directory, files.of("model", "source"), errors))


def newly_failed_models(previous: Project, current: Project) -> dict[str, str]:
    """Models that the serving project has and that failed in the reloaded one: a reason to keep serving
    the last good build instead of swapping in one with those tables missing."""
    had = set(previous.failed_models)
    return {
        name: message
        for name, message in current.failed_models.items()
        if name not in had and name in previous.model_names
    }


def _ignore_paths(config: Mapping) -> list[str]:
    value = config.get("ignore_paths") or []
    return [str(item) for item in value] if isinstance(value, list) else []


def _answers_fingerprint(
    database: Database, env: Mapping, environment: str, apis: Mapping, views: Mapping
) -> str:
    """What every answer depends on: the built data file (its name is its build's fingerprint), the API
    definitions, metrics views and variables. Equal in every worker that loaded the same project."""
    digest = hashlib.sha256(os.path.basename(database.path).encode())
    digest.update(repr((sorted(env.items()), environment)).encode())
    for name in sorted(apis):
        api = apis[name]
        digest.update(repr(getattr(api, "definition", None) or api.error).encode())
    for name in sorted(views):
        digest.update(ADDRESS.sub("", repr(views[name])).encode())  # the same in every process
    return digest.hexdigest()[:24]


def _read_config(directory: str) -> dict:
    """rill.yaml, or {} when there is none. A broken one stops the load (raises ProjectError): without it
    the connector, variables and ignored paths would be guesses, so nothing is served from them."""
    path = os.path.join(directory, "rill.yaml")
    if not os.path.exists(path):
        return {}
    return dict(parse_yaml(read_text(path, "rill.yaml"), "rill.yaml").data)


def _variables(directory: str, config: Mapping, settings: Settings, errors: list) -> dict[str, str]:
    """rill.yaml env (and old vars), overridden by .env, overridden by the command line."""
    variables: dict[str, str] = {}
    for key in ("vars", "env"):
        section = config.get(key) or {}
        if isinstance(section, dict):
            variables.update({str(name): _text(value) for name, value in section.items()})
        else:
            errors.append(ProjectError(f"{key}: must be a mapping", path="rill.yaml"))
    dotenv = os.path.join(directory, ".env")
    if os.path.exists(dotenv):
        try:
            variables.update(parse_dotenv(read_text(dotenv, ".env")))
        except ProjectError as error:
            errors.append(error)
    variables.update(settings.env_overrides)
    return variables


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _row_cap(settings: Settings, env: Mapping[str, str], errors: list) -> int:
    if settings.row_cap is not None:
        return settings.row_cap
    value = env.get(ROW_LIMIT_VARIABLE)
    if value in (None, ""):
        return DEFAULT_ROW_CAP
    try:
        return max(int(value), 0)
    except ValueError:
        errors.append(ProjectError(f"{ROW_LIMIT_VARIABLE} must be a whole number, not {value!r}"))
        return DEFAULT_ROW_CAP


def _build_models(
    directory: str,
    settings: Settings,
    env: Mapping[str, str],
    environment: str,
    errors: list[ProjectError],
    model_paths: list[str],
    connectors: Mapping[str, Engine | None],
) -> tuple[Database, dict[str, str], set[str]]:
    """Check and build the models: the served database, the models that failed with their errors, and
    every model's name. A model with `connector:` runs on that engine and is materialized in DuckDB."""
    sources = _read_models(directory, model_paths, errors)
    failed: dict[str, str] = {}  # model name -> why it is not in the database
    state_dir = settings.resolved_state_dir
    sandbox = project_sandbox(directory, settings.allow_dirs, excluded=[state_dir])
    data = template_data(env, environment)
    parts = _render_partitions(sources, data, directory, sandbox, errors, failed)
    rendered = _render_models(sources, data, errors, failed, parts)
    checked = _check_models(directory, rendered, errors, failed, connectors)
    built_parts = _check_partitions(directory, parts, checked, errors, failed)
    execs = _check_execs(directory, checked, errors, failed)
    dependencies = {name: referenced_names(sql, set(rendered) - {name}) for name, (_, sql) in checked.items()}
    order, cycles = dependency_order(dependencies)
    for name, message in cycles.items():
        errors.append(ProjectError(message, path=checked[name][0].path))
        failed[name] = message
    definitions = {name: _definition(model, data) for name, model in sources.items()}
    request = read_request(state_dir)
    for name, (model, sql) in checked.items():
        if model.incremental and name not in built_parts and model.connector is None:
            built_parts[name] = ((f"refresh {request.generation}", sql),)  # run again by each refresh
    built = [
        _built_model(name, *checked[name], built_parts.get(name), execs[name], definitions[name])
        for name in order
    ]
    key = fingerprint(built, _data_files(directory), sandbox, request.generation)
    path, build_errors = build_database(state_dir, sandbox, built, key, ingest_from(connectors), request)
    paths = {model.name: model.path for model in built}
    errors.extend(
        ProjectError(f"model {name!r} failed to build: {message}", path=paths.get(name))
        for name, message in build_errors.items()
    )
    failed.update(build_errors)
    database = Database(path, sandbox, settings.duckdb_threads, settings.max_queries)
    return database, failed, set(rendered)


def _check_models(
    directory: str,
    rendered: Mapping[str, tuple[ModelSource, str]],
    errors: list[ProjectError],
    failed: dict[str, str],
    connectors: Mapping[str, Engine | None],
) -> dict[str, tuple[ModelSource, str]]:
    """Models follow the APIs' rules: one read-only query each (the build writes its result), reading
    files by paths made absolute under the project folder; a connector's model in that engine's dialect."""
    checked = {}
    for name, (model, sql) in rendered.items():
        try:
            engine = _model_engine(model, connectors)
            if engine is None:
                compiled = compile_shape(absolute_file_paths(sql, directory), "duckdb")
                checked[name] = (model, compiled.bind((), ())[0].strip())
            else:
                compiled = compile_shape(sql, engine.dialect)
                checked[name] = (model, compiled.bind((), (), engine.style)[0].strip())
        except (QueryError, ArgumentError) as error:
            errors.append(ProjectError(f"model {name!r}: {error.message}", path=model.path))
            failed[name] = error.message
    return checked


def _model_engine(model: ModelSource, connectors: Mapping[str, Engine | None]) -> Engine | None:
    """The engine a model's SQL runs on; None for DuckDB itself."""
    if model.connector is None or model.connector == DEFAULT_CONNECTOR:
        return None
    if model.connector not in connectors:
        raise QueryError(f'connector "{model.connector}" not found')
    return connectors[model.connector]


def _load_metrics_views(
    directory: str, paths: list[str], model_names: set[str], errors: list[ProjectError]
) -> dict[str, MetricsView]:
    """Every metrics view file (`type: metrics_view`, or a file in metrics/ or dashboards/)."""
    views: dict[str, MetricsView] = {}
    for path in paths:
        try:
            document = parse_yaml(read_text(os.path.join(directory, path), path), path)
            view = parse_metrics_view(os.path.splitext(os.path.basename(path))[0], dict(document.data), path)
            check_model(view, model_names)
        except ProjectError as error:
            errors.append(error)
            continue
        views[view.name] = view
    return views


def _read_models(directory: str, paths: list[str], errors: list[ProjectError]) -> dict[str, ModelSource]:
    models: dict[str, ModelSource] = {}
    for path in paths:
        try:
            model = read_model(directory, path)
        except ProjectError as error:
            errors.append(error)
            continue
        if model.name in models:
            errors.append(
                ProjectError(f"model {model.name!r} is also defined in {models[model.name].path}", path=path)
            )
            continue
        models[model.name] = model
    return models


def _render_partitions(
    models: Mapping[str, ModelSource],
    data: Mapping[str, Any],
    directory: str,
    sandbox: Sandbox,
    errors: list[ProjectError],
    failed: dict,
) -> dict[str, list[tuple[str, str]]]:
    """Each partitioned model's SQL, rendered once per partition (with the partition's key)."""
    parts = {}
    for name, model in models.items():
        if model.partitions is None:
            continue
        try:
            parts[name] = render_partitions(model, data, directory, sandbox)
        except ProjectError as error:
            errors.append(error)
            failed[name] = str(error)
        if name in parts and not parts[name]:
            del parts[name]
            message = "partitions: found no partitions"
            errors.append(ProjectError(f"model {name!r}: {message}", path=model.path))
            failed[name] = message
    return parts


def _check_partitions(
    directory: str,
    parts: Mapping[str, list[tuple[str, str]]],
    checked: Mapping[str, tuple[ModelSource, str]],
    errors: list[ProjectError],
    failed: dict[str, str],
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Every partition's SQL under the model rules (their union was checked as the model's SQL)."""
    built: dict[str, tuple[tuple[str, str], ...]] = {}
    for name, keyed in parts.items():
        if name not in checked:
            continue
        try:
            built[name] = tuple((key, checked_model_sql(text, directory)) for key, text in keyed)
        except (QueryError, ArgumentError) as error:
            errors.append(ProjectError(f"model {name!r}: {error.message}", path=checked[name][0].path))
            failed[name] = error.message
    return built


def _check_execs(
    directory: str,
    checked: dict[str, tuple[ModelSource, str]],
    errors: list[ProjectError],
    failed: dict[str, str],
) -> dict[str, tuple[str, str]]:
    """pre_exec/post_exec under the model rules; a model whose statements break them is not built."""
    execs: dict[str, tuple[str, str]] = {}
    for name, (model, _) in list(checked.items()):
        try:
            pre, post = (
                checked_model_sql(sql, directory) if sql else "" for sql in (model.pre_exec, model.post_exec)
            )
            execs[name] = (pre, post)
        except (QueryError, ArgumentError) as error:
            errors.append(
                ProjectError(f"model {name!r}: pre_exec/post_exec: {error.message}", path=model.path)
            )
            failed[name] = error.message
            del checked[name]
    return execs


def _built_model(
    name: str,
    model: ModelSource,
    sql: str,
    parts: tuple[tuple[str, str], ...] | None,
    execs: tuple[str, str],
    definition: str,
) -> BuiltModel:
    return BuiltModel(
        name,
        model.path,
        sql,
        model.materialize,
        partitions=tuple(text for _, text in parts or ()),
        strategy=model.strategy,
        unique_key=model.unique_key,
        pre_exec=execs[0],
        post_exec=execs[1],
        connector=model.connector,
        incremental=model.incremental and bool(parts) and model.connector is None,
        partition_keys=tuple(key for key, _ in parts or ()),
        definition=definition,
    )


def _definition(model: ModelSource, data: Mapping[str, Any]) -> str:
    """What an incremental model's kept rows depend on: its file's settings and the template data (not
    the partition list, which may grow)."""
    text = repr((model, sorted((str(key), repr(value)) for key, value in data.items())))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _render_models(
    models: Mapping[str, ModelSource],
    data: Mapping[str, Any],
    errors: list[ProjectError],
    failed: dict,
    parts: Mapping[str, list[tuple[str, str]]],
) -> dict[str, tuple[ModelSource, str]]:
    """Each model's SQL; a partitioned model's is the union of its partitions (checked and ordered as one)."""
    rendered = {}
    for name, model in models.items():
        if model.partitions is not None:
            if name in parts:
                union = "\nUNION ALL BY NAME\n".join(f"({text})" for _, text in parts[name])
                rendered[name] = (model, union)
            continue
        try:
            template = compile_template(model.sql, model.path, model.line_offset)
            rendered[name] = (model, render_text(template, data, model.path))
        except ProjectError as error:
            errors.append(error)
            failed[name] = str(error)
    return rendered


def _data_files(directory: str) -> list[tuple[str, int, int]]:
    """Size and time of every file a model could read: all but API, metrics and hidden files."""
    return file_stamps(directory, skip_folders=("apis", "metrics", "dashboards"), hidden_files=False)


def _load_apis(
    directory: str,
    paths: list[str],
    defaults: Mapping,
    env: Mapping[str, str],
    environment: str,
    errors: list[ProjectError],
    connectors: tuple[Mapping[str, Engine], str],
) -> tuple[dict[str, Api | BrokenApi], list[str]]:
    apis: dict[str, Api | BrokenApi] = {}
    warnings: list[str] = []
    defaults = defaults if isinstance(defaults, dict) else {}
    for path in paths:
        api = _load_api(directory, path, defaults, env, environment, connectors)
        name = api.name if isinstance(api, Api) else os.path.splitext(os.path.basename(path))[0]
        if name in apis:
            api = BrokenApi(ProjectError(f"API {name!r} is defined twice", path=path))
        apis[name] = api
        warnings.extend(api.definition.warnings if isinstance(api, Api) else ())
    _refuse_format_addresses(apis, errors)
    apis = _check_proxies(apis, warnings)
    errors.extend(api.error for api in apis.values() if isinstance(api, BrokenApi))
    return apis, warnings


def _refuse_format_addresses(apis: dict[str, Api | BrokenApi], errors: list[ProjectError]) -> None:
    """An API named like another API's address in a format (`top.csv` beside `top`, or `sql.csv`: the
    built-in `sql` in CSV) is a load error and is not served: that address stays the format's. A suffixed
    name whose stem is no API (`report.csv` alone) is served under its own name."""
    for name in list(apis):
        stem, format_ = split_suffix(name)
        if format_ is None or (stem not in apis and stem not in BUILTIN_APIS):
            continue
        owner = "the built-in API" if stem in BUILTIN_APIS else f"API {stem!r} ({_api_path(apis[stem])})"
        errors.append(
            ProjectError(
                f"API {name!r} has the address of {owner} in {format_.name.upper()}: rename one of them",
                path=_api_path(apis.pop(name)),
            )
        )


def _api_path(api: Api | BrokenApi) -> str | None:
    return api.definition.path if isinstance(api, Api) else api.error.path


def _load_api(
    directory: str,
    path: str,
    defaults: Mapping,
    env: Mapping[str, str],
    environment: str,
    connectors: tuple[Mapping[str, Engine], str],
) -> Api | BrokenApi:
    try:
        definition = read_api(directory, path, defaults)
        dialect = _dialect(definition, *connectors)
        validate_openapi_block(definition.openapi, path)
        arguments = compile_argument_schema(definition.openapi, path=path)
        access = definition.access
        if isinstance(access, str):
            access = compile_template(access, path)
        if definition.resolver in ("api", "resource_status"):
            return Api(definition, arguments=arguments, access=access)
        template = compile_template(
            definition.text, definition.template_path, definition.line_offset, definition.column_offset
        )
        _check_static_statement(template, definition, template_data(env, environment), dialect)
        return Api(definition, template, arguments=arguments, access=access)
    except ProjectError as error:
        return BrokenApi(error)


def _dialect(definition: ApiDefinition, engines: Mapping[str, Engine], default: str) -> str:
    """The sqlglot dialect of the API's connector; a connector that does not exist is the API's load error."""
    name = definition.connector or default
    engine = engines.get(name)
    if engine is not None:
        return engine.dialect
    if name in DRIVERS:  # a connector named after its driver needs no file
        return name
    raise ProjectError(f'connector "{name}" not found', path=definition.path)


def _check_static_statement(
    template: Template, definition: ApiDefinition, data: Mapping[str, Any], dialect: str
) -> None:
    """Refuse at load time a statement that is not a read-only query with no arguments given."""
    if definition.resolver != "sql":
        return
    try:
        markers = Markers()
        shape = render_sql(template, data, markers)
        compile_shape(shape, dialect, tuple(markers.sources))
    except StatementError as error:
        raise ProjectError(error.message, path=definition.path) from None
    except Exception:  # noqa: BLE001 - the shape may only be valid with real arguments; requests will tell
        return


def _check_proxies(apis: dict[str, Api | BrokenApi], warnings: list[str]) -> dict[str, Api | BrokenApi]:
    """Proxy targets must exist. A chain of proxies that comes back to itself stays loaded, as in Rill:
    calling it is a 400 naming the API proxied to twice; the load report warns about it."""
    checked = dict(apis)
    for name, api in apis.items():
        if not isinstance(api, Api) or not api.is_proxy:
            continue
        try:
            last = proxy_chain(apis, name)[-1]
        except ProxyLoopError as error:
            warnings.append(f"{api.definition.path}: {error.message}")
            continue
        if last not in apis:
            message = f'the API "{name}" proxies to API "{last}", which does not exist'
            checked[name] = BrokenApi(ProjectError(message, path=api.definition.path))
    return checked
