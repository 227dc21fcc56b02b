"""Connector configs -> engines: DuckDB is the project's own database; the others import their driver module
only when a project uses them (drivers are optional extras)."""

from __future__ import annotations

import importlib

from project.engines.interface import Engine
from project.loading.connectors import ConnectorConfig
from project.settings import Settings

MODULES = {
    "postgres": ("project.engines.postgres", "PostgresEngine"),
    "mysql": ("project.engines.mysql", "MySQLEngine"),
    "clickhouse": ("project.engines.clickhouse", "ClickHouseEngine"),
}


def create_engine(config: ConnectorConfig, settings: Settings, duckdb: Engine) -> Engine:
    """The engine for one connector (no connection is made yet); MissingDriverError names the extra."""
    if config.driver == "duckdb":
        return duckdb
    module_name, class_name = MODULES[config.driver]
    engine_class = getattr(importlib.import_module(module_name), class_name)
    engine = engine_class(
        config.name, config.properties, pool_size=settings.connector_pool_size, timeout=settings.query_timeout
    )
    engine.share_query_slots(duckdb)  # --max-queries counts every engine's queries together
    engine.path = config.path
    return engine
