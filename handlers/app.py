"""What handlers need from the application: settings, the authenticator, the project and the limits."""

from __future__ import annotations

from typing import Protocol

from project.auth.authn import Authenticator
from project.definitions import Project
from project.engines.execution import Limits
from project.errors import ProjectError
from project.settings import Settings


class App(Protocol):
    """The seam between `server.py`'s application object and the handlers (tests may pass their own)."""

    settings: Settings
    authenticator: Authenticator | None
    held_back: tuple[ProjectError, ...]  # why the last reload was not swapped in (shown by health)

    def project(self) -> Project:
        """The project to answer from (a background reload swaps a new one in when complete)."""
        ...

    def current_project(self) -> Project:
        """The project loaded now, without checking for changes."""
        ...

    def limits(self) -> Limits:
        """Row cap, batch size and timeout for one query."""
        ...
