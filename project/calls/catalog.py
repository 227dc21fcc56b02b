"""The listing of a project's APIs for one caller: what each is, where to call it, and whether it works.

As Rill lists resources, a caller sees only what it may use: with auth on, an API whose `security.access`
(or that of a proxy on its way) denies the caller is left out. A broken API is listed as broken, so that a
caller can tell a project's fault from its own; why it broke (file, line, SQL) is told only to admins when
auth is on, and to everyone when it is off, as in local development.
"""

from __future__ import annotations

from dataclasses import dataclass

from project.calls.runner import Caller, resolve_call
from project.definitions import Api, BrokenApi, Project
from project.errors import AccessDeniedError, SluiceError


@dataclass(frozen=True)
class ApiEntry:
    """One API as listed: its name, what it says about itself, and its error if it cannot answer."""

    name: str
    summary: str | None = None
    description: str | None = None
    error: str | None = None  # set for a broken API

    @property
    def broken(self) -> bool:
        return self.error is not None


def listed_apis(project: Project, caller: Caller) -> list[ApiEntry]:
    """The APIs the caller may call (all of them with auth off), broken ones included, by name."""
    entries = []
    for name in sorted(project.apis):
        entry = _entry(project, name, caller)
        if entry is not None:
            entries.append(entry)
    return entries


def shows_errors(caller: Caller) -> bool:
    """Whether the caller may read why an API broke: anyone with auth off, admins with it on."""
    return not caller.authenticated or caller.user.get("admin") is True


def _entry(project: Project, name: str, caller: Caller) -> ApiEntry | None:
    """The entry for one API; None when an access rule on its way denies the caller."""
    api = project.apis[name]
    if isinstance(api, BrokenApi):
        return ApiEntry(name, error=str(api.error))
    described = _described(name, api)
    try:
        resolve_call(project, name, {}, caller)  # checks access along the `api:` proxies, as a call would
    except AccessDeniedError:
        return None
    except SluiceError as error:  # a proxy into a loop, a missing or a broken API
        return ApiEntry(name, described.summary, described.description, str(error))
    return described


def _described(name: str, api: Api) -> ApiEntry:
    definition = api.definition
    return ApiEntry(
        name, definition.openapi.get("summary") or definition.display_name, definition.description
    )
