"""Who is calling: bearer tokens when auth is on, nobody in particular when it is off (SPEC §9)."""

from __future__ import annotations

from werkzeug.wrappers import Request

from handlers.app import App
from project.calls.runner import ANONYMOUS, Caller
from project.errors import NotFoundError
from project.settings import Settings, is_loopback


def authenticate(app: App, request: Request) -> Caller:
    """The caller's attributes from the Authorization header; AuthenticationError (401) when auth is on
    and the token is missing or invalid."""
    if app.authenticator is None:
        return ANONYMOUS
    user = app.authenticator.authenticate(request.headers.get("Authorization"))
    return Caller(authenticated=True, user=user)


def check_cloud_names(settings: Settings, org: str, project: str) -> None:
    """Cloud-style routes answer only for the configured organization and project names."""
    if settings.org is not None and org != settings.org:
        raise NotFoundError(f'organization "{org}" not found')
    if settings.project_name is not None and project != settings.project_name:
        raise NotFoundError(f'project "{project}" not found in organization "{org}"')


# Headers a proxy adds: a request carrying one came through a proxy, whatever address it arrives from.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")


def local_caller(app: App, request: Request) -> bool:
    """A caller on this machine talking to a loopback server directly (Rill's local mode). A request that
    came through a proxy (a local nginx in front) is not local, even when the proxy's address is loopback."""
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    return is_loopback(app.settings.host) and is_loopback(request.remote_addr or "")
