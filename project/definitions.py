"""What a loaded project is made of: the frozen objects the loader builds and the request path reads.

Readers import these types from here, not from the loader; only `project.loading` builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from project.calls.arguments import ArgumentSchema
from project.engines.duckdb import Database
from project.engines.interface import Engine
from project.errors import ProjectError, QueryError
from project.loading.apis import ApiDefinition
from project.metrics.views import MetricsView
from project.sql.rendering import template_data
from project.sql.sizes import DEFAULT_MAX_SQL_BYTES
from templating import Template


@dataclass(frozen=True)
class Api:
    """An API that loaded and can serve: its definition, parsed template (None for an `api:` proxy),
    typed arguments (when it declares a schema) and `security.access` rule (None and True allow)."""

    definition: ApiDefinition
    template: Template | None = None
    arguments: ArgumentSchema | None = None
    access: Template | bool | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def is_proxy(self) -> bool:
        return self.definition.resolver == "api"


@dataclass(frozen=True)
class BrokenApi:
    """An API file that failed to load: calls to it answer its load error."""

    error: ProjectError


@dataclass(frozen=True)
class Project:
    """A loaded project: its variables, APIs (loaded or broken), metrics views, database and problems."""

    directory: str
    env: Mapping[str, str]
    environment: str
    apis: Mapping[str, Api | BrokenApi]
    errors: tuple[ProjectError, ...]
    warnings: tuple[str, ...]
    row_cap: int
    metrics_views: Mapping[str, MetricsView] = field(default_factory=dict)
    database: Database | None = field(default=None, compare=False)
    engines: Mapping[str, Engine] = field(default_factory=dict, compare=False)  # by connector name
    default_connector: str = "duckdb"  # rill.yaml `olap_connector`
    failed_models: Mapping[str, str] = field(default_factory=dict)  # model name -> its load or build error
    model_names: frozenset[str] = frozenset()
    max_sql_bytes: int = DEFAULT_MAX_SQL_BYTES  # the longest SQL a call may have parsed (see sql.sizes)
    # A digest of what answers depend on (data build, APIs, views, variables): a rebuild or reload changes it.
    fingerprint: str = ""
    # Values derived lazily from this loaded project and kept as long as it serves (e.g. the API docs).
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def engine_for(self, connector: str | None) -> Engine:
        """The engine an API with this `connector:` runs on (the project's default connector when None)."""
        name = connector or self.default_connector
        engine = self.engines.get(name)
        if engine is None and name == "duckdb" and self.database is not None:
            return self.database
        if engine is None:
            raise QueryError(f'connector "{name}" not found')
        return engine

    def data(self, args: Mapping[str, Any] | None = None, user: Mapping[str, Any] | None = None) -> dict:
        return template_data(self.env, self.environment, args, user)


class ProxyLoopError(QueryError):
    """A chain of `api:` proxies comes back to an API already on it: a 400 when called, as in Rill."""


def proxy_chain(apis: Mapping[str, Api | BrokenApi], name: str) -> list[str]:
    """`name` and the names its `api:` links lead to, in order. The last one is not a loaded proxy: a query
    API, a broken API or a name that does not exist. A chain that comes back on itself is a ProxyLoopError
    naming, as Rill does, the first API proxied to twice."""
    chain = [name]
    while True:
        api = apis.get(chain[-1])
        if not isinstance(api, Api) or not api.is_proxy:
            return chain
        target = api.definition.proxy_to or ""
        if target in chain[1:]:
            raise ProxyLoopError(f'infinite recursion detected: the API "{target}" proxies to itself')
        chain.append(target)
