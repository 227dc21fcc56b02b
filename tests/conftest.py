"""Shared test helpers: apps over fixture projects, the one assertion for error bodies, free ports."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from werkzeug.test import Client

from project.settings import Settings
from server import create_app

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = Path(__file__).resolve().parent / "projects"
EXAMPLE = ROOT / "examples" / "adbids"
BASE_URL = "/v1/instances/default/api/"


@pytest.fixture(scope="session")
def project_client(tmp_path_factory):
    """A Werkzeug test client for a fixture project by name (built once per test session)."""
    clients: dict[str, Client] = {}

    def client_for(name: str, **settings) -> Client:
        key = name + repr(sorted(settings.items()))
        if key not in clients:
            directory = EXAMPLE if name == "example" else PROJECTS / name
            state = tmp_path_factory.mktemp(f"state-{name}")
            app = create_app(Settings(project_dir=str(directory), state_dir=str(state), **settings))
            clients[key] = Client(app)
        return clients[key]

    return client_for


def assert_error(response, status: int, message: str) -> dict:
    """Every error: the status, a JSON body with an `error` naming the problem, and the error headers."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = json.loads(response.get_data(as_text=True))
    assert message in body["error"], body
    return body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
