"""Server settings: one frozen object built from command-line flags or environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_PORT = 9009


@dataclass(frozen=True)
class Settings:
    project_dir: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
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
    log_format: str = "text"  # "text" (one plain line per record) or "json" (one object per line)
    log_level: str = "INFO"
    cache_bytes: int = 64 * 1024 * 1024  # the result cache's bound in each process (0: no cache)
    cache_dir: str | None = None  # a directory the workers share answers through (bounded the same)
    gzip: bool = True  # compress answers for callers that accept gzip (off when a proxy compresses)
    proxy_hops: int = 0  # trusted proxies in front that set X-Forwarded-For/-Proto/-Host/-Prefix

    @property
    def resolved_state_dir(self) -> str:
        """Where built databases and token files live: outside tracked sources (`.sluice/` is ignored)."""
        return self.state_dir or os.path.join(self.project_dir, ".sluice")


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "on", "yes"}


def settings_from_env(env: Mapping[str, str], **overrides) -> Settings:
    """Settings for gunicorn and embedding: `SLUICE_*` variables, then explicit overrides."""
    values: dict = {
        "project_dir": env.get("SLUICE_PROJECT", "."),
        "host": env.get("SLUICE_HOST", "127.0.0.1"),
        "port": int(env.get("SLUICE_PORT", DEFAULT_PORT)),
        "state_dir": env.get("SLUICE_STATE_DIR") or None,
        "environment": env.get("SLUICE_ENVIRONMENT", "prod"),
        "query_timeout": float(env.get("SLUICE_QUERY_TIMEOUT", 30)),
        "row_cap": int(env["SLUICE_ROW_CAP"]) if env.get("SLUICE_ROW_CAP") else None,
        "reload": _flag(env.get("SLUICE_RELOAD")),
        "duckdb_threads": int(env["SLUICE_DUCKDB_THREADS"]) if env.get("SLUICE_DUCKDB_THREADS") else None,
        "max_queries": int(env.get("SLUICE_MAX_QUERIES", 64)),
        "log_format": env.get("SLUICE_LOG_FORMAT", "text"),
        "log_level": env.get("SLUICE_LOG_LEVEL", "INFO"),
        "cache_bytes": int(env.get("SLUICE_CACHE_BYTES", str(64 * 1024 * 1024))),
        "cache_dir": env.get("SLUICE_CACHE_DIR") or None,
        "gzip": _flag(env.get("SLUICE_GZIP", "on")),
        "proxy_hops": int(env.get("SLUICE_PROXY_HOPS", 0)),
        "auth": _flag(env.get("SLUICE_AUTH")),
        "org": env.get("SLUICE_ORG") or None,
        "project_name": env.get("SLUICE_PROJECT_NAME") or None,
        "cors_origins": tuple(
            origin.strip() for origin in env.get("SLUICE_CORS_ORIGINS", "").split(",") if origin.strip()
        ),
    }
    values.update(overrides)
    return Settings(**values)
