"""Sluice: serve the SQL of a Rill-style project's `apis/*.yaml` as HTTP JSON APIs.

`python server.py PROJECT_DIR` serves locally; `gunicorn 'server:create_app()'` serves in production with
settings from `SLUICE_*` variables; `from server import create_app` embeds the WSGI app in another service.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.wrappers import Request, Response

from cli.options import (
    COMMAND_LINE_ONLY,
    COMMANDS,
    HelpFormatter,
    add_setting_flags,
    commands_text,
    settings_from_flags,
)
from handlers import api, catalog, cors, health, openapi, refresh
from handlers.responses import error_response
from project import errors
from project.auth.authn import authenticator_from_settings
from project.calls.checking import sql_problems
from project.calls.result_cache import ResultCache
from project.definitions import Project
from project.engines.checks import connector_problems
from project.engines.execution import Limits
from project.engines.increments import RefreshRequest, request_path, request_refresh
from project.loading.loader import load_project, newly_failed_models
from project.settings import Settings, is_loopback, settings_from_env
from serving import metrics
from serving.dev_server import serve
from serving.logs import configure_logging, one_line
from serving.reloading import Watcher
from serving.requests import REQUEST_ID_HEADER, RequestRecord, SentBody, log_request, new_record, record_of

log = logging.getLogger("sluice")
project_log = logging.getLogger("sluice.project")

# Werkzeug adds HEAD wherever GET is allowed. Any other method is a 405 with `Allow` (see route()).
METHOD_ORDER = ("GET", "HEAD", "POST", "OPTIONS")
READ = ["GET"]
CALL = ["GET", "POST", "OPTIONS"]  # OPTIONS: CORS preflights (answered before routing) and plain OPTIONS


class ApiNameConverter(BaseConverter):
    """An API name: one path segment, but not one of the names the routes above already give a meaning."""

    regex = r"(?!(?:openapi|docs)(?:/|$))[^/]+"


# Pages a person may type: `/docs/` (and `/v1/ping/`...) is answered as `/docs`. API calls stay exact, as in Rill.
PAGE: dict[str, Any] = {"methods": READ, "strict_slashes": False}

URL_MAP = Map(
    [
        Rule("/v1/ping", endpoint="ping", **PAGE),
        Rule("/metrics", endpoint="metrics", **PAGE),
        Rule("/v1/health", endpoint="health", **PAGE),
        Rule("/v1/instances/<instance>/api", endpoint="list_apis", **PAGE),
        Rule("/v1/organizations/<org>/projects/<project>/runtime/api", endpoint="list_cloud_apis", **PAGE),
        Rule("/v1/instances/<instance>/api/openapi", endpoint="openapi", **PAGE),
        Rule(
            "/v1/organizations/<org>/projects/<project>/runtime/api/openapi",
            endpoint="cloud_openapi",
            **PAGE,
        ),
        Rule("/v1/instances/<instance>/api/docs", endpoint="docs", **PAGE),
        Rule("/v1/instances/<instance>/api/docs/<asset>", endpoint="docs_asset", methods=READ),
        Rule("/v1/instances/<instance>/api/<api:name>", endpoint="run_api", methods=CALL),
        Rule("/v1/instances/<instance>/trigger", endpoint="trigger", methods=["POST"]),
        Rule(
            "/v1/organizations/<org>/projects/<project>/runtime/api/<api:name>",
            endpoint="run_cloud_api",
            methods=CALL,
        ),
    ],
    converters={"api": ApiNameConverter},
    merge_slashes=False,  # `api//bid` is a 404: Werkzeug's merging redirect lost its Location on the way out
)

ROUTES_KEPT = 1024
_routes: dict[tuple[str, str], tuple[str, Mapping[str, Any]]] = {}


def matched_route(request: Request) -> tuple[str, Mapping[str, Any]]:
    """The endpoint and values for a request's method and path. The Map matches neither hosts nor
    subdomains, so a path that matched once matches the same way again: it is kept (binding and matching
    were a tenth of a cached answer's time). A path that does not match raises its 404, 405 or redirect."""
    key = (request.method, request.environ.get("PATH_INFO", ""))
    known = _routes.get(key)
    if known is not None:
        return known
    endpoint, values = URL_MAP.bind_to_environ(request.environ).match()
    if len(_routes) >= ROUTES_KEPT:
        _routes.clear()  # callers choose paths: the table stays bounded
    _routes[key] = (str(endpoint), values)
    return str(endpoint), values


HANDLERS: dict[str, Callable[..., Response]] = {
    "ping": health.ping,
    "metrics": health.metrics,
    "health": health.health,
    "list_apis": catalog.list_apis,
    "list_cloud_apis": catalog.list_cloud_apis,
    "openapi": openapi.openapi_document,
    "cloud_openapi": openapi.cloud_openapi_document,
    "docs": openapi.docs,
    "docs_asset": openapi.docs_asset,
    "run_api": api.run_api,
    "trigger": refresh.trigger,
    "run_cloud_api": api.run_cloud_api,
}

ERROR_STATUS: list[tuple[type[errors.SluiceError], int]] = [
    (errors.NotFoundError, 404),
    (errors.ArgumentError, 400),
    (errors.QueryError, 400),
    (errors.ResultCapError, 400),
    (errors.TooLargeError, 413),
    (errors.QueryTimeoutError, 504),
    (errors.AuthenticationError, 401),
    (errors.AccessDeniedError, 403),
    (errors.BrokenApiError, 500),
    (errors.ProjectError, 500),
    (errors.OverloadedError, 503),
    (errors.NotAcceptableError, 406),
    (errors.EngineUnavailableError, 503),
    (errors.ProjectUnavailableError, 503),
]

RELOAD_CHECK_SECONDS = 1.0
RETIRE_AFTER_SECONDS = 1.0
MAX_BODY_BYTES = 10 * 1024 * 1024


class Retry:
    """When to try a failed first load again without a file change: a build the machine broke (full disk)
    is retried after 2 s, then twice as long each time, at most every 60 s."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.at: float | None = None

    def failed(self, by_the_machine: bool) -> float:
        """Note a failed load; the seconds until the next try (0: none, wait for a file change)."""
        if not by_the_machine:
            self.at = None
            return 0.0
        self.delay = min(max(self.delay * 2, 2.0), 60.0)
        self.at = time.monotonic() + self.delay
        return self.delay

    def due(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


class Sluice:
    """The WSGI application: holds the settings and the loaded project, dispatches requests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.authenticator = authenticator_from_settings(settings) if settings.auth else None
        self.cache = (
            ResultCache(settings.cache_bytes, settings.cache_dir) if settings.cache_bytes > 0 else None
        )
        self._wsgi = trusting_proxies(self._answer, settings.proxy_hops)
        self._retiring: list[tuple[float, Project]] = []  # swapped out, closed once their requests are done
        self.held_back: tuple[errors.ProjectError, ...] = ()  # why the last reload was not swapped in
        self.load_failure: errors.ProjectError | None = None  # why no project has loaded yet
        self._project: Project | None = None
        self._loading = threading.Lock()  # the watcher's thread and a caller of reload() never load at once
        self._retry = Retry()
        # stamps taken before loading: an edit made while it loads is noticed
        self.watcher = Watcher(
            settings.project_dir,
            RELOAD_CHECK_SECONDS,
            self.reload,
            self._tick,
            extra_files=[request_path(settings.resolved_state_dir)],  # `sluice refresh` and the trigger API
        )
        self._load_first()
        if settings.reload or self._project is None:
            self._watch()
            os.register_at_fork(after_in_child=self._watch)  # gunicorn --preload forks after this

    def current_project(self) -> Project | None:
        """The project serving now; None while no project has ever loaded (health says why)."""
        return self._project

    def project(self) -> Project:
        """The project serving now; a reload replaces it in one assignment, so a request sees one or the other.
        Until a project has loaded, every caller gets the 503 of ProjectUnavailableError."""
        project = self._project
        if project is None:
            raise errors.ProjectUnavailableError(self._unavailable_message())
        return project

    def limits(self) -> Limits:
        return Limits(self.project().row_cap, self.settings.batch_rows, self.settings.query_timeout)

    def reload(self) -> None:
        """Build the project again beside the serving one (requests keep using it at full speed), swap the
        new one in when complete, and close what the old one held once its last requests are answered.
        A reload that fails outright keeps the previous project serving; with none yet, it is the first load."""
        with self._loading:
            if self._project is None:
                log.info("loading the project again (no project has loaded yet)")
                self._load_first()
                return
            log.info("project files changed: building beside the serving project")
            project = self._load()
            if project is None or self._keeps_previous(project):
                return
            self.held_back = ()
            old, self._project = self._project, project
            self._retiring.append((time.monotonic(), old))

    def refresh(self, full: tuple[str, ...]) -> RefreshRequest:
        """Write a refresh request and build it in the background (the watcher of every worker notices the
        request too); the serving build answers until the new one is complete."""
        request = request_refresh(self.settings.resolved_state_dir, full)
        check = self.watcher.check if self.settings.reload else self.reload
        threading.Thread(target=check, name="sluice-refresh", daemon=True).start()
        return request

    def _watch(self) -> None:
        """Watch the files when reloading is on, and in any case until a project has loaded."""
        if self.settings.reload or self._project is None:
            self.watcher.start()

    def _load_first(self) -> None:
        """Load the project when none serves yet; if it cannot load, say why (log, health) and keep the
        API answering 503 until a later try succeeds."""
        started = time.perf_counter()
        try:
            project = load_project(self.settings)
        except errors.ProjectError as error:
            self._not_loaded(error)
            return
        except errors.SettingsError:  # the operator's mistake, not the files': the start fails
            raise
        except Exception as error:  # a build the machine broke in a way we do not name: no traceback
            log.debug("loading the project failed", exc_info=True)
            self._not_loaded(
                errors.BuildError(f"loading the project failed: {type(error).__name__}: {error}")
            )
            return
        self._project, self.load_failure = project, None
        log_project(project, "loaded", time.perf_counter() - started)
        if not self.settings.reload:
            self.watcher.stop()  # it only watched for the first load

    def _not_loaded(self, error: errors.ProjectError) -> None:
        self.load_failure = error
        metrics.LOAD_ERRORS.set(1)
        retry = self._retry.failed(isinstance(error, errors.BuildError))
        log.error(
            "error: %s (no project is served: the API answers 503 until it loads; %s)",
            error,
            f"retrying in {retry:g} s or when a file changes" if retry else "retrying when a file changes",
            extra={"file": error.path, "line": error.line, "kind": "load"},
        )

    def _unavailable_message(self) -> str:
        """Why the API answers 503: the load error itself unless auth is on (errors can quote data; an
        authorized caller reads it in /v1/health)."""
        reason = "no project has loaded yet"
        if self.load_failure is not None and not self.settings.auth:
            return f"{reason}: {self.load_failure}"
        return f"{reason}; /v1/health and the server log say why"

    def _tick(self) -> None:
        """After every look at the files: close retired projects; retry a first load that the machine (not
        a file) failed, since no edit will announce that the disk has room again."""
        self._retire_old()
        if self._project is None and self._retry.due():
            self.reload()

    def close(self) -> None:
        """Stop watching and close the databases (the process is ending, or an embedder is done)."""
        self.watcher.stop()
        for _, project in self._retiring:
            _retire(project, keep=())
        if self._project is not None:
            _retire(self._project, keep=())
        self._retiring.clear()

    def _load(self) -> Project | None:
        """The project loaded again, or None (logged) when it cannot load at all."""
        started = time.perf_counter()
        try:
            project = load_project(self.settings)
        except errors.ProjectError as error:
            log.error("error: %s (the reload failed; the previous project keeps serving)", error)
            self.held_back = (_kept_previous(error),)
            return None
        except Exception as error:  # a failed build (disk full, permissions) must not fail requests
            log.exception("project reload failed, still serving the previous one")
            self.held_back = (_kept_previous(errors.BuildError(f"{type(error).__name__}: {error}")),)
            return None
        log_project(project, "reloaded", time.perf_counter() - started)
        return project

    def _retire_old(self) -> None:
        """Requests take their cursor within moments of taking the project: after RETIRE_AFTER_SECONDS, an
        old database only waits for the cursors still streaming (Database.retire)."""
        now = time.monotonic()
        for entry in [entry for entry in self._retiring if now - entry[0] >= RETIRE_AFTER_SECONDS]:
            self._retiring.remove(entry)
            _retire(entry[1], keep=_engines(self._project) if self._project is not None else ())

    def _keeps_previous(self, project: Project) -> bool:
        """A reload in which a model that serves now fails to build leaves the last good build serving;
        health lists the failures (`held_back`) until a reload succeeds."""
        assert self._project is not None  # only a reload over a serving project gets here
        failed = newly_failed_models(self._project, project)
        if not failed:
            return False
        for name, message in failed.items():
            log.error("project reload kept the previous build: model %r failed to build: %s", name, message)
        self.held_back = tuple(
            errors.ProjectError(
                f"model {name!r} failed to build; the previous build keeps serving: {message}"
            )
            for name, message in failed.items()
        )
        if project.database is not None:
            project.database.close()
        return True

    def dispatch(self, request: Request) -> Response:
        origins = self.settings.cors_origins
        if cors.is_preflight(request):
            response = cors.preflight_response(request, origins)
        else:
            response = self._route(request)
            if request.headers.get("Origin") in origins:
                cors.add_cors_headers(response, request.headers["Origin"])
        if origins:
            response.headers.add("Vary", "Origin")  # answers differ by origin: shared caches must know
        return response

    def _route(self, request: Request) -> Response:
        try:
            if request.method == "OPTIONS":  # not a preflight (those are answered before routing)
                adapter = URL_MAP.bind_to_environ(request.environ)
                adapter.match()
                return Response(status=204, headers={"Allow": allow_header(adapter.allowed_methods())})
            endpoint, values = matched_route(request)
            return HANDLERS[endpoint](self, request, **values)
        except errors.SluiceError as error:
            if isinstance(error, errors.ProjectQueryError):
                log_project_error(record_of(request.environ), error)
            return response_for_error(error)
        except HTTPException as error:
            return response_for_http_exception(error, request)
        except Exception:
            log.exception(
                "unexpected error while answering %s %s", one_line(request.method), one_line(request.path)
            )
            return error_response("internal error", 500)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self._wsgi(environ, start_response)

    def _answer(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        record = new_record(environ)
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES  # a larger body is a 413, not memory spent
        response = self.dispatch(request)
        response.headers[REQUEST_ID_HEADER] = record.request_id
        if record.timings:
            response.headers["Server-Timing"] = record.server_timing()
        status = response.status_code
        return SentBody(response(environ, start_response), lambda sent: answered(record, status, sent))


def trusting_proxies(app: Callable, hops: int) -> Callable:
    """The app behind `hops` trusted proxies: their X-Forwarded-For/-Proto/-Host/-Prefix become the client's
    address, scheme, host and mount prefix (the URLs the app writes keep them). With 0 hops every
    X-Forwarded-* header is ignored: a caller could forge them. X-Forwarded-Port is never trusted (the
    shipped nginx.conf forwards the port inside X-Forwarded-Host)."""
    if hops <= 0:
        return app
    return ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=0, x_prefix=hops)


def _kept_previous(error: errors.ProjectError) -> errors.ProjectError:
    """A reload's load error as health lists it: in its file, saying that the previous project serves."""
    message = f"the project failed to reload; the previous one keeps serving: {error.message}"
    return errors.ProjectError(message, path=error.path, line=error.line, column=error.column)


def _engines(project: Project) -> list[Any]:
    return [engine for engine in (project.database, *project.engines.values()) if engine is not None]


def _retire(project: Project, keep: Iterable[Any]) -> None:
    """Close the engines of a project no longer served, except those the serving project still uses."""
    kept = [id(engine) for engine in keep]
    for engine in _engines(project):
        if id(engine) not in kept:
            engine.retire()


def answered(record: RequestRecord, status: int, sent: int) -> None:
    """The answer is sent (or abandoned): its request line and its metrics."""
    rows = record.rows() if record.rows is not None else None
    duration_ms = record.duration_ms()
    log_request(record, status, sent, rows, duration_ms)
    metrics.observe_answer(record.api, status, duration_ms / 1000, rows, sent)


def log_project_error(record: RequestRecord, error: errors.ProjectQueryError) -> None:
    """An answer failed by a project file's fault: logged as the project's error (kind=project), counted."""
    project_log.error(
        "project error in API %s: %s",
        record.api or "-",
        one_line(str(error)),  # it may quote a caller's value
        extra={"kind": "project", "api": record.api, "file": error.path, "line": error.line},
    )
    metrics.PROJECT_ERRORS.labels(record.api or "-").inc()


def log_project(project: Project, verb: str, seconds: float) -> None:
    """The load result in one line, then one line per failed file naming it and its error."""
    level = logging.WARNING if project.errors else logging.INFO
    log.log(
        level,
        "project %s in %.2f s: %d APIs, %d errors, %d warnings",
        verb,
        seconds,
        len(project.apis),
        len(project.errors),
        len(project.warnings),
        extra={"seconds": round(seconds, 3)},
    )
    metrics.LOAD_ERRORS.set(len(project.errors))
    for error in project.errors:
        log.error("load error: %s", error, extra={"file": error.path, "line": error.line, "kind": "load"})
    for warning in project.warnings:
        log.warning("load warning: %s", warning)


def _placed(error: errors.SluiceError) -> bool:
    """A query error placed at a line of the API's file (its message then starts with `file:line:column:`)."""
    return isinstance(error, errors.QueryError) and error.path is not None and error.line is not None


def response_for_error(error: errors.SluiceError) -> Response:
    """The one place where domain errors become HTTP statuses."""
    status = next((code for kind, code in ERROR_STATUS if isinstance(error, kind)), 500)
    details = getattr(error, "details", None)
    response = error_response(
        str(error) if isinstance(error, errors.ProjectError) or _placed(error) else error.message,
        status,
        details=details,
        hint=getattr(error, "hint", None),
        path=error.path if isinstance(error, errors.QueryError) else None,
        line=error.line,
        column=error.column,
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response


def response_for_http_exception(error: HTTPException, request: Request) -> Response:
    """Werkzeug's routing and body errors as JSON, keeping their headers (`Allow` on a 405, `Location`)."""
    message = error.description or error.name
    if isinstance(error, MethodNotAllowed):
        message = _only(error.valid_methods or [])
    response = error_response(message, error.code or 500)
    for name, value in error.get_response(request.environ).headers.items():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = allow_header(error.valid_methods or [])
    return response


def allow_header(methods: Iterable[str]) -> str:
    """The methods in one stable order: `GET, HEAD, POST, OPTIONS`."""
    known = [method for method in METHOD_ORDER if method in methods]
    return ", ".join(known + sorted(set(methods) - set(METHOD_ORDER)))


def _only(methods: Iterable[str]) -> str:
    """`GET only`, `GET or POST only`: the methods a caller would use (HEAD and OPTIONS go without saying)."""
    usable = [method for method in METHOD_ORDER if method in methods and method not in ("HEAD", "OPTIONS")]
    return " or ".join(usable) + " only"


def create_app(settings: Settings | None = None, **overrides: Any) -> Sluice:
    """The WSGI app; without settings, they come from `SLUICE_*` environment variables (gunicorn)."""
    if settings is None:
        settings = settings_from_env(os.environ, **overrides)
    configure_logging(settings.log_format, settings.log_level)
    metrics.install_build_metrics()
    return Sluice(settings)


def check_project(settings: Settings) -> int:
    """Print every problem of a project; exit status 1 if there is one. Models are built (sandboxed, as
    when serving) into a throwaway state dir, so a check writes nothing else."""
    import tempfile

    with tempfile.TemporaryDirectory() as state_dir:
        project = load_project(dataclasses.replace(settings, state_dir=state_dir))
        errors = [*project.errors, *connector_problems(project), *sql_problems(project)]
        for engine in project.engines.values():
            engine.close()
    for warning in project.warnings:
        print(f"warning: {warning}")
    for error in errors:
        print(f"error: {error}")
    print(f"{len(project.apis)} APIs, {len(errors)} errors, {len(project.warnings)} warnings")
    return 1 if errors else 0


def command_parser(command: str, named: bool = True) -> argparse.ArgumentParser:
    """The parser of `sluice serve` or `sluice check` (`named`: the command word was given; without it,
    `sluice --help` also lists the commands). Every setting's flag comes from its declaration."""
    described = dict(COMMANDS)[command]
    parser = argparse.ArgumentParser(
        prog=f"sluice {command}" if named else "sluice",
        usage=None if named else USAGE,
        description=f"{described[0].upper()}{described[1:]}."
        if named
        else f"{__doc__.splitlines()[0]}\n\n"
        f"{commands_text()}\n\nWith no command: serve (its flags follow). `python server.py` is `sluice`.",
        formatter_class=HelpFormatter,
    )
    add_setting_flags(parser, command)
    own = parser.add_argument_group(f"{command} {COMMAND_LINE_ONLY}")
    if command == "serve":
        own.add_argument("--check", action="store_true", help="do what `sluice check` does, then exit")
        own.add_argument(
            "--allow-public-without-auth",
            action="store_true",
            help="serve on a non-loopback address with auth off, not recommended (default: off)",
        )
    own.add_argument("--version", action="version", version=f"sluice {health.version()}")
    return parser


USAGE = """sluice [serve] [PROJECT_DIR] [flags]
       sluice check [PROJECT_DIR] [flags]
       sluice refresh [PROJECT_DIR] [--model NAME] [--full] [flags]
       sluice token {issue,list,revoke,edit} ...     (sluice token --help)
       sluice service {create,list,revoke,edit} ...  (sluice service --help)"""


def parse_command_line(argv: list[str], command: str = "serve", named: bool = True) -> argparse.Namespace:
    """The flags of one command; a flag not given leaves no attribute (its setting comes from elsewhere)."""
    return command_parser(command, named).parse_args(argv)


def settings_from_command_line(
    options: argparse.Namespace, env: Mapping[str, str], command: str = "serve"
) -> Settings:
    """The flags laid over the environment's variables, laid over the command's defaults (`sluice serve`
    reloads and serves in `dev`)."""
    return settings_from_flags(options, settings_from_env(env, command))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv[:1] and argv[0] in dict(COMMANDS) else None
    if command in ("token", "service"):
        from cli.tokens import run_token_command

        return run_token_command(argv)
    if command == "refresh":
        from cli.refresh import run_refresh_command

        return run_refresh_command(argv[1:])
    try:
        options = parse_command_line(argv[1:] if command else argv, command or "serve", command is not None)
        command = "check" if getattr(options, "check", False) else command or "serve"
        settings = settings_from_command_line(options, os.environ, command)
        configure_logging(settings.log_format, settings.log_level)
        return _run(command, options, settings)
    except errors.SluiceError as error:  # unusable settings, a check that cannot load: no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(command: str, options: argparse.Namespace, settings: Settings) -> int:
    if command == "check":
        return check_project(settings)
    if not is_loopback(settings.host) and not settings.auth and not options.allow_public_without_auth:
        print(
            f"refusing to serve on {settings.host} with auth off: use --auth (or SLUICE_AUTH=on), "
            "or --allow-public-without-auth if you really mean it",
            file=sys.stderr,
        )
        return 2
    serve(create_app(settings), settings.host, settings.port, settings.grace_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
