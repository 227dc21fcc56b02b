"""Server settings: one frozen object, the whole configuration of an app (`create_app(settings)`).

Each setting is declared once, on its field: type, default, environment variable, command-line flag and
what it means. From those declarations come `settings_from_env` (gunicorn, embedding), the command line's
flags and `--help` (cli/options.py) and the README's table of settings; nothing else reads the environment.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from project.errors import SettingsError
from project.sql.sizes import DEFAULT_MAX_SQL_BYTES

T = TypeVar("T")
ON_WORDS = frozenset({"1", "true", "on", "yes"})
OFF_WORDS = frozenset({"0", "false", "off", "no"})
UNSET: Any = object()  # no default of its own for this command: the field's default applies


@dataclass(frozen=True)
class Declared:
    """How a setting is given and explained. `parse` turns an environment variable's text (or one flag
    value) into the value; a `repeated` flag adds one item per use. `shown` is the default in words where
    its value would not say it; `serve` and `gunicorn` are the defaults of those commands when they differ."""

    variable: str | None
    flag: str | None
    help: str
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] = ()
    repeated: bool = False
    shown: str | None = None
    serve: Any = UNSET
    gunicorn: Any = UNSET
    secret: bool = False  # left out of the Settings' repr (a logged or printed Settings shows no secret)
    least: float | None = None  # the smallest value a number may take


def setting(default: T, variable: str | None, flag: str | None, help: str, **how: Any) -> T:
    """A Settings field with its declaration (the default is a value or, for a dict, a fresh one each)."""
    declared = Declared(variable, flag, help, **how)
    metadata = {"declared": declared}
    if isinstance(default, dict):
        return cast(T, field(default_factory=dict, metadata=metadata))
    return cast(T, field(default=default, repr=not declared.secret, metadata=metadata))


def parse_flag(value: str) -> bool:
    """An on/off setting: `1`, `true`, `on`, `yes` or `0`, `false`, `off`, `no` (any case)."""
    word = value.strip().lower()
    if word not in ON_WORDS | OFF_WORDS:
        raise ValueError("must be on or off (1/0, true/false, yes/no)")
    return word in ON_WORDS


def parse_list(value: str) -> tuple[str, ...]:
    """A comma-separated setting, blanks dropped."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def parse_paths(value: str) -> tuple[str, ...]:
    """Folders separated like PATH (`:` on POSIX), blanks dropped."""
    return tuple(folder for folder in value.split(os.pathsep) if folder)


def parse_variable(value: str) -> tuple[str, str]:
    """`KEY=VALUE`, a project variable given on the command line."""
    key, equals, text = value.partition("=")
    if not key or not equals:
        raise ValueError("must be KEY=VALUE")
    return key, text


def parse_level(value: str) -> str:
    return value.strip().upper()


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
GUNICORN_ONLY = "gunicorn.conf.py only: "


@dataclass(frozen=True)
class Settings:
    project_dir: str = setting(
        ".", "SLUICE_PROJECT", "PROJECT_DIR", "the project folder (rill.yaml, apis/, models/)"
    )
    host: str = setting("127.0.0.1", "SLUICE_HOST", "--host", "address the dev server listens on")
    port: int = setting(
        9009, "SLUICE_PORT", "--port", "TCP port the dev server listens on", parse=int, least=0
    )
    state_dir: str | None = setting(
        None, "SLUICE_STATE_DIR", "--state-dir", "where built databases live", shown="PROJECT_DIR/.sluice"
    )
    environment: str = setting(
        "dev",
        "SLUICE_ENVIRONMENT",
        "--environment",
        "the Rill environment: picks the dev:/prod: blocks of connector files and what {{ if dev }} sees",
        gunicorn="prod",
    )
    query_timeout: float = setting(
        30.0,
        "SLUICE_QUERY_TIMEOUT",
        "--query-timeout",
        "seconds a query (its whole stream) may run; then 504",
        parse=float,
        least=0,
    )
    row_cap: int | None = setting(
        None,
        "SLUICE_ROW_CAP",
        "--row-cap",
        "most rows in one answer; more is a 400 (0: no cap)",
        parse=int,
        least=0,
        shown="rill.yaml's rill.interactive_sql_row_limit, else 10000",
    )
    batch_rows: int = setting(
        2048,
        "SLUICE_BATCH_ROWS",
        "--batch-rows",
        "rows fetched and encoded per batch of a streamed answer",
        parse=int,
        least=1,
    )
    reload: bool = setting(
        False,
        "SLUICE_RELOAD",
        "--reload",
        "rebuild and swap in the project when its files change",
        parse=parse_flag,
        serve=True,
    )
    env_overrides: Mapping[str, str] = setting(
        {},
        None,
        "--env",
        "a project variable KEY=VALUE over rill.yaml and .env (repeatable)",
        parse=parse_variable,
        repeated=True,
        shown="none",
    )
    auth: bool = setting(
        False, "SLUICE_AUTH", "--auth", "require bearer tokens (opaque tokens or JWTs)", parse=parse_flag
    )
    org: str | None = setting(
        None, "SLUICE_ORG", "--org", "the organization cloud-style routes answer for", shown="any"
    )
    project_name: str | None = setting(
        None,
        "SLUICE_PROJECT_NAME",
        "--project-name",
        "the project cloud-style routes answer for",
        shown="any",
    )
    cors_origins: tuple[str, ...] = setting(
        (),
        "SLUICE_CORS_ORIGINS",
        "--cors-origin",
        "an origin browsers may call from (repeatable; the variable: comma-separated)",
        parse=parse_list,
        repeated=True,
    )
    duckdb_threads: int | None = setting(
        None,
        "SLUICE_DUCKDB_THREADS",
        "--duckdb-threads",
        "threads DuckDB may use per process",
        parse=int,
        least=1,
        shown="one per core (under gunicorn.conf.py: cores / workers)",
    )
    max_queries: int = setting(
        16,
        "SLUICE_MAX_QUERIES",
        "--max-queries",
        "queries running at once per process; more is a 503 (0: no limit; keep it below gunicorn's threads)",
        parse=int,
        least=0,
    )
    max_list_items: int = setting(
        10_000,
        "SLUICE_MAX_LIST_ITEMS",
        "--max-list-items",
        "items one list or object in a caller's arguments may hold; more is a 400",
        parse=int,
        least=0,
    )
    max_sql_bytes: int = setting(
        DEFAULT_MAX_SQL_BYTES,
        "SLUICE_MAX_SQL_BYTES",
        "--max-sql-bytes",
        "longest SQL a call may have parsed (the sql API's, an API's as rendered); longer is a 413",
        parse=int,
        least=1,
    )
    connector_pool_size: int = setting(
        4,
        "SLUICE_CONNECTOR_POOL_SIZE",
        "--connector-pool-size",
        "connections each PostgreSQL/MySQL/ClickHouse connector keeps per process",
        parse=int,
        least=1,
    )
    allow_dirs: tuple[str, ...] = setting(
        (),
        "SLUICE_ALLOW_DIRS",
        "--allow-dir",
        "a folder outside the project that SQL may read files from (repeatable; the variable: separated by :)",
        parse=parse_paths,
        repeated=True,
    )
    log_format: str = setting(
        "text",
        "SLUICE_LOG_FORMAT",
        "--log-format",
        "log lines as plain text or one JSON object per line",
        choices=("text", "json"),
    )
    log_level: str = setting(
        "INFO",
        "SLUICE_LOG_LEVEL",
        "--log-level",
        "the least important log records written",
        parse=parse_level,
        choices=LEVELS,
    )
    tokens_path: str | None = setting(
        None, "SLUICE_TOKENS", "--tokens", "the opaque-token file", shown="PROJECT_DIR/.sluice/tokens.json"
    )
    jwt_secret: str | None = setting(
        None,
        "SLUICE_JWT_SECRET",
        None,
        "HMAC secret for HS256 JWTs, at least 32 bytes (no flag: ps shows flags)",
        secret=True,
    )
    jwt_public_key: str | None = setting(
        None, "SLUICE_JWT_PUBLIC_KEY", "--jwt-public-key", "PEM public key file for RS/ES/EdDSA JWTs"
    )
    jwt_algorithms: tuple[str, ...] = setting(
        (),
        "SLUICE_JWT_ALGORITHMS",
        "--jwt-algorithm",
        "a JWT algorithm to accept (repeatable; the variable: comma-separated)",
        parse=parse_list,
        repeated=True,
        shown="those of the key's kind",
    )
    jwt_audience: str | None = setting(
        None, "SLUICE_JWT_AUDIENCE", "--jwt-audience", "the aud claim JWTs must carry", shown="not checked"
    )
    jwt_issuer: str | None = setting(
        None, "SLUICE_JWT_ISSUER", "--jwt-issuer", "the iss claim JWTs must carry", shown="not checked"
    )
    cache_bytes: int = setting(
        64 * 1024 * 1024,
        "SLUICE_CACHE_BYTES",
        "--cache-bytes",
        "bound of the result cache in each process, in bytes (0: no cache)",
        parse=int,
        least=0,
    )
    cache_dir: str | None = setting(
        None, "SLUICE_CACHE_DIR", "--cache-dir", "a folder where the workers share cached answers"
    )
    gzip: bool = setting(
        True,
        "SLUICE_GZIP",
        "--gzip",
        "compress answers for callers that accept gzip (off when a proxy does)",
        parse=parse_flag,
    )
    proxy_hops: int = setting(
        0,
        "SLUICE_PROXY_HOPS",
        "--proxy-hops",
        "trusted proxies in front that set X-Forwarded-For/-Proto/-Host/-Prefix",
        parse=int,
        least=0,
    )
    health_probe_seconds: float = setting(
        5.0,
        "SLUICE_HEALTH_PROBE_SECONDS",
        "--health-probe-seconds",
        "health probes each connector at most this often (0: on every call)",
        parse=float,
        least=0,
    )
    grace_seconds: float = setting(
        40.0,
        "SLUICE_GRACE_SECONDS",
        "--grace",
        "seconds the answers in flight get to finish on SIGTERM (gunicorn's graceful_timeout)",
        parse=float,
        least=0,
    )
    workers: int | None = setting(
        None,
        "WEB_CONCURRENCY",
        None,
        GUNICORN_ONLY + "worker processes",
        parse=int,
        least=1,
        shown="one per core",
    )
    metrics_dir: str | None = setting(
        None,
        "PROMETHEUS_MULTIPROC_DIR",
        None,
        GUNICORN_ONLY + "the folder where every worker's metrics meet",
        shown="a fresh temporary folder",
    )

    @property
    def resolved_state_dir(self) -> str:
        """Where built databases and token files live: outside tracked sources (`.sluice/` is ignored)."""
        return self.state_dir or os.path.join(self.project_dir, ".sluice")


def declarations() -> list[tuple[dataclasses.Field, Declared]]:
    """Every setting's field and declaration, in the order they are declared."""
    return [(item, item.metadata["declared"]) for item in dataclasses.fields(Settings)]


def default_of(item: dataclasses.Field, declared: Declared, command: str) -> Any:
    """The setting's default under `command` (serve, check, gunicorn or embed)."""
    own = getattr(declared, command, UNSET) if command in ("serve", "gunicorn") else UNSET
    if own is not UNSET:
        return own
    return {} if item.default is dataclasses.MISSING else item.default


def setting_value(declared: Declared, text: str) -> Any:
    """The value of one variable's text (or one flag's); ValueError says what is wrong with it."""
    try:
        value = declared.parse(text)
    except ValueError as error:
        kind = getattr(declared.parse, "__name__", "value")
        raise ValueError(f"not a valid {kind}" if kind in ("int", "float") else str(error)) from None
    if declared.choices and value not in declared.choices:
        raise ValueError(f"must be one of {', '.join(declared.choices)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    if declared.least is not None and value < declared.least:
        raise ValueError(f"must be {declared.least:g} or more")
    return value


def parse_setting(declared: Declared, text: str) -> Any:
    """`setting_value`, with what is wrong as a SettingsError that names the variable."""
    try:
        return setting_value(declared, text)
    except ValueError as error:
        raise SettingsError(f"{declared.variable or declared.flag}={text!r}: {error}") from None


def settings_from_env(env: Mapping[str, str], command: str = "gunicorn", **overrides: Any) -> Settings:
    """Settings from the environment's variables (an empty one is unset) over `command`'s defaults (gunicorn
    serves in `prod`; `sluice serve` reloads), then explicit overrides. Bad text is a SettingsError."""
    values: dict[str, Any] = {}
    for item, declared in declarations():
        values[item.name] = default_of(item, declared, command)
        if declared.variable and env.get(declared.variable, "") != "":
            values[item.name] = parse_setting(declared, env[declared.variable])
    values.update(overrides)
    return Settings(**values)


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (IPv4 or IPv6, with or without brackets)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
