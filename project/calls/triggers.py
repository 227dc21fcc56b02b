"""Refreshing models on request, as Rill's trigger API takes it (`POST /v1/instances/{id}/trigger`, the call
behind `rill project refresh`): who may ask, and which models a request rebuilds from scratch.

A refresh builds the whole project again beside the serving one, as a reload does; incremental models run
only their new partitions unless the request asks for a full refresh of them. The body is Rill's:
`{"models": [{"model": "name", "full": true}]}`, `{"all_sources_models": true}` or
`{"all_sources_models_full": true}`; an empty body refreshes everything incrementally.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from project.engines.increments import ALL_MODELS
from project.errors import AccessDeniedError, ArgumentError, NotFoundError

NOT_ADMIN = "must be an admin to refresh the project"
UNSUPPORTED = ("partitions", "all_errored_partitions")


def check_refresh_caller(authenticated: bool, user: Mapping[str, Any], local: bool) -> None:
    """Admins with auth on; with auth off, only a local caller of a loopback server (Rill's local mode)."""
    if authenticated and user.get("admin") is True:
        return
    if not authenticated and local:
        return
    raise AccessDeniedError(NOT_ADMIN)


def full_refreshes(body: Mapping[str, Any], models: Iterable[str]) -> tuple[str, ...]:
    """The models the trigger rebuilds from scratch (`("*",)`: all); ArgumentError/NotFoundError (400/404)
    for a body Rill would refuse or a model the project does not have."""
    known = set(models)
    if body.get("all_sources_models_full") is True:
        return (ALL_MODELS,)
    full = []
    for item in _model_items(body.get("models")):
        name = item.get("model")
        if not isinstance(name, str) or not name:
            raise ArgumentError('models: each item needs "model": the model\'s name')
        if name not in known:
            raise NotFoundError(f'model "{name}" not found')
        for key in UNSUPPORTED:
            if item.get(key):
                raise ArgumentError(
                    f'models: "{key}" is not supported by Sluice (partitions are not tracked one by one)'
                )
        if item.get("full") is True:
            full.append(name)
    return tuple(full)


def _model_items(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ArgumentError('models: must be a list of {"model": name, "full": true|false}')
    return value
