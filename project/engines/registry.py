"""Connector configs -> engines: DuckDB is the project's own database; the others import their driver module
only when a project uses them (drivers are optional extras)."""

from __future__ import annotations

import importlib

from project.engines.interface import Engine
from project.engines.pooled import redact
from project.errors import ProjectError
from project.loading.connectors import ConnectorConfig
from project.settings import Settings

MODULES = {
    "postgres": ("project.engines.postgres", "PostgresEngine"),
    "mysql": ("project.engines.mysql", "MySQLEngine"),
    "clickhouse": ("project.engines.clickhouse", "ClickHouseEngine"),
}


def create_engine(config: ConnectorConfig, settings: Settings) -> Engine | None:
    """The engine for one connector (no connection is made yet; None for `duckdb`, the project's own
    database); MissingDriverError names the extra to install."""
    if config.driver == "duckdb":
        return None
    module_name, class_name = MODULES[config.driver]
    engine_class = getattr(importlib.import_module(module_name), class_name)
    try:
        engine = engine_class(
            config.name,
            config.properties,
            pool_size=settings.connector_pool_size,
            timeout=settings.query_timeout,
        )
    except Exception as error:  # noqa: BLE001 - a dsn the driver cannot parse: say so, without the dsn
        secrets = [str(config.properties.get(key) or "") for key in ("password", "dsn", "database_url")]
        raise ProjectError(f"invalid connection settings: {redact(str(error), secrets)}") from None
    engine.path = config.path
    return engine
