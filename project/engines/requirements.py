"""Engine drivers are optional extras: importing one that is missing says which extra installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from project.errors import ProjectError

EXTRAS = {"postgres": "psycopg[binary]", "mysql": "PyMySQL", "clickhouse": "clickhouse-driver"}


class MissingDriverError(ProjectError):
    """A connector's driver package is not installed."""


def require(module: str, extra: str) -> ModuleType:
    """Import a driver module, or raise MissingDriverError naming `pip install 'sluice[extra]'`."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDriverError(
            f"the {extra} connector needs the {EXTRAS.get(extra, module)} driver: pip install 'sluice[{extra}]'"
        ) from None
