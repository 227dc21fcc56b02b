"""Server settings: one frozen object, the whole configuration of an app (`create_app(settings)`).

The defaults are written once, here. `settings_from_env` reads `SLUICE_*` variables (gunicorn, embedding);
the command line starts from those and lays its flags over them. Nothing else reads the environment.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

FLAG_WORDS = {"1", "true", "on", "yes"}


@dataclass(frozen=True)
class Settings:
    project_dir: str
    host: str = "127.0.0.1"
    port: int = 9009
    state_dir: str | None = None
    environment: str = "dev"
    query_timeout: float = 30.0
    row_cap: int | None = None
    batch_rows: int = 2048
    reload: bool = False
    env_overrides: Mapping[str, str] = field(default_factory=dict)
    auth: bool = False
    org: str | None = None
    project_name: str | None = None
    cors_origins: tuple[str, ...] = ()
    duckdb_threads: int | None = None  # None: DuckDB's default (one per core)
    max_queries: int = 64  # queries running at once in one process; more is a 503 (0: no limit)
    max_list_items: int = 10_000  # items in one list or object of a caller's arguments; more is a 400
    connector_pool_size: int = 4  # connections each PostgreSQL/MySQL/ClickHouse connector keeps per process
    allow_dirs: tuple[str, ...] = ()  # folders outside the project that SQL may read files from
    log_format: str = "text"  # "text" (one plain line per record) or "json" (one object per line)
    log_level: str = "INFO"
    tokens_path: str | None = None  # the opaque-token file; None: <project_dir>/.sluice/tokens.json
    jwt_secret: str | None = None  # HMAC secret for JWTs, or
    jwt_public_key: str | None = None  # the path of a PEM public key for JWTs
    jwt_algorithms: tuple[str, ...] = ()  # () : the verifier's defaults for the key kind
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    cache_bytes: int = 64 * 1024 * 1024  # the result cache's bound in each process (0: no cache)
    cache_dir: str | None = None  # a directory the workers share answers through (bounded the same)
    gzip: bool = True  # compress answers for callers that accept gzip (off when a proxy compresses)
    proxy_hops: int = 0  # trusted proxies in front that set X-Forwarded-For/-Proto/-Host/-Prefix
    health_probe_seconds: float = 5.0  # health probes each connector at most this often (0: every call)

    @property
    def resolved_state_dir(self) -> str:
        """Where built databases and token files live: outside tracked sources (`.sluice/` is ignored)."""
        return self.state_dir or os.path.join(self.project_dir, ".sluice")


def parse_flag(value: str | None) -> bool:
    """An on/off setting: `1`, `true`, `on` or `yes` (any case) is on; anything else is off."""
    return (value or "").strip().lower() in FLAG_WORDS


def parse_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated setting, blanks dropped."""
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def parse_paths(value: str | None) -> tuple[str, ...]:
    """Folders separated like PATH (`:` on POSIX), blanks dropped."""
    return tuple(folder for folder in (value or "").split(os.pathsep) if folder)


def _text(value: str) -> str | None:
    return value or None


# Each variable, the setting it gives and how its text becomes the value (an empty value is unset).
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "SLUICE_PROJECT": ("project_dir", str),
    "SLUICE_HOST": ("host", str),
    "SLUICE_PORT": ("port", int),
    "SLUICE_STATE_DIR": ("state_dir", _text),
    "SLUICE_ENVIRONMENT": ("environment", str),
    "SLUICE_QUERY_TIMEOUT": ("query_timeout", float),
    "SLUICE_ROW_CAP": ("row_cap", int),
    "SLUICE_RELOAD": ("reload", parse_flag),
    "SLUICE_DUCKDB_THREADS": ("duckdb_threads", int),
    "SLUICE_MAX_QUERIES": ("max_queries", int),
    "SLUICE_MAX_LIST_ITEMS": ("max_list_items", int),
    "SLUICE_CONNECTOR_POOL_SIZE": ("connector_pool_size", int),
    "SLUICE_ALLOW_DIRS": ("allow_dirs", parse_paths),
    "SLUICE_LOG_FORMAT": ("log_format", str),
    "SLUICE_LOG_LEVEL": ("log_level", str),
    "SLUICE_AUTH": ("auth", parse_flag),
    "SLUICE_ORG": ("org", _text),
    "SLUICE_PROJECT_NAME": ("project_name", _text),
    "SLUICE_CORS_ORIGINS": ("cors_origins", parse_list),
    "SLUICE_TOKENS": ("tokens_path", _text),
    "SLUICE_JWT_SECRET": ("jwt_secret", _text),
    "SLUICE_JWT_PUBLIC_KEY": ("jwt_public_key", _text),
    "SLUICE_JWT_ALGORITHMS": ("jwt_algorithms", parse_list),
    "SLUICE_JWT_AUDIENCE": ("jwt_audience", _text),
    "SLUICE_JWT_ISSUER": ("jwt_issuer", _text),
    "SLUICE_CACHE_BYTES": ("cache_bytes", int),
    "SLUICE_CACHE_DIR": ("cache_dir", _text),
    "SLUICE_GZIP": ("gzip", parse_flag),
    "SLUICE_PROXY_HOPS": ("proxy_hops", int),
    "SLUICE_HEALTH_PROBE_SECONDS": ("health_probe_seconds", float),
}


def settings_from_env(env: Mapping[str, str], **overrides: Any) -> Settings:
    """Settings for gunicorn and embedding: `SLUICE_*` variables, then explicit overrides. Served this way
    the environment is `prod` unless SLUICE_ENVIRONMENT says otherwise."""
    values: dict[str, Any] = {"project_dir": ".", "environment": "prod"}
    for variable, (name, convert) in ENVIRONMENT.items():
        if env.get(variable, "") != "":
            values[name] = convert(env[variable])
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
