"""The docs page (SPEC §7): Swagger UI from local files, rendered by a real headless Chromium from a live server."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.conftest import OPENAPI_FIXTURE_APIS, PROJECTS, serving

CHROMIUM = "/usr/bin/chromium"
DOCS = "/v1/instances/default/api/docs"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
    "--dump-dom",
]


ASSETS = [
    # (asset, content type)
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("favicon-32x32.png", "image/png"),
]


def test_docs_page_loads_only_local_files(project_client):
    response = project_client("openapi").get(DOCS)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert (
        "://" not in page
    )  # every URL is relative: nothing is fetched from elsewhere, any mount prefix works
    assert set(re.findall(r'(?:href|src)="([^"]+)"', page)) == {
        "docs/swagger-ui.css",
        "docs/favicon-32x32.png",
        "docs/swagger-ui-bundle.js",
    }
    assert 'url: "openapi"' in page


@pytest.mark.parametrize(("asset", "content_type"), ASSETS)
def test_docs_assets_are_served_from_the_package(project_client, asset, content_type):
    response = project_client("openapi").get(f"{DOCS}/{asset}")
    assert response.status_code == 200 and response.headers["Content-Type"] == content_type
    assert len(response.get_data()) > 500
    assert "max-age" in response.headers["Cache-Control"]


@pytest.mark.parametrize("asset", ["index.html", "..%2Fswagger-ui.js", "swagger-initializer.js", "nope.js"])
def test_other_files_are_not_served(project_client, asset):
    response = project_client("openapi").get(f"{DOCS}/{asset}")
    assert response.status_code == 404 and response.headers["Content-Type"].startswith("application/json")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with serving(PROJECTS / "openapi", tmp_path_factory.mktemp("docs-page")) as base:
        yield base


def rendered_dom(url: str, profile: str) -> str:
    """The page's DOM after its scripts ran, as a headless Chromium sees it."""
    command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url]
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)")
def test_a_browser_lists_every_api(live_server, tmp_path):
    dom = rendered_dom(live_server + DOCS, str(tmp_path / "profile"))
    assert set(re.findall(r'data-path="([^"]+)"', dom)) == OPENAPI_FIXTURE_APIS
    assert "Rill project API" in dom
    for summary in (
        "The most recent events",
        "Search events by day, kind and name",
        "Query inferred resolver",
    ):
        assert summary in dom
