"""What handlers need from the application: settings, the authenticator, the project and the limits."""

from __future__ import annotations

from typing import Protocol

from project.auth.authn import Authenticator
from project.definitions import Project
from project.engines.execution import Limits
from project.engines.increments import RefreshRequest
from project.errors import ProjectError
from project.settings import Settings


class App(Protocol):
    """The seam between `server.py`'s application object and the handlers (tests may pass their own)."""

    settings: Settings
    authenticator: Authenticator | None
    held_back: tuple[ProjectError, ...]  # why the last reload was not swapped in (shown by health)
    load_failure: ProjectError | None  # why no project has loaded yet (health answers 503 with it)

    def project(self) -> Project:
        """The project to answer from (a background reload swaps a new one in when complete); raises
        ProjectUnavailableError (503) while none has loaded."""
        ...

    def current_project(self) -> Project | None:
        """The project loaded now; None while no project has ever loaded."""
        ...

    def limits(self) -> Limits:
        """Row cap, batch size and timeout for one query."""
        ...

    def refresh(self, full: tuple[str, ...]) -> RefreshRequest:
        """Ask for a refresh (rebuilding `full` models from scratch, "*" for all) and start it in the
        background; returns the request written."""
        ...
