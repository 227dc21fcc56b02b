"""The docs page (SPEC §7): Swagger UI from local files, rendered by a real headless Chromium from a live server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from urllib.parse import urljoin

import pytest

from tests.chromium import CHROMIUM, FLAGS, chromium_page
from tests.conftest import (
    OPENAPI_FIXTURE_APIS,
    PROJECTS,
    ROOT,
    free_port,
    needs_program,
    serving,
    start,
    stop,
)

DOCS = "/v1/instances/default/api/docs"
# One page printed after its scripts ran (the DevTools pipe of tests/chromium.py is for pages to click on).
CHROMIUM_FLAGS = [flag for flag in FLAGS if flag != "--remote-debugging-pipe"] + [
    "--virtual-time-budget=10000",
    "--dump-dom",
]


ASSETS = [
    # (asset, content type)
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("favicon-32x32.png", "image/png"),
]


@pytest.mark.parametrize("page", [DOCS, DOCS + "/"])
def test_docs_page_loads_only_local_files(project_client, page):
    client = project_client("openapi")
    response = client.get(page)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    text = response.get_data(as_text=True)
    assert (
        "://" not in text
    )  # every URL is relative: nothing is fetched from elsewhere, any mount prefix works
    config = json.loads(
        re.search(r'<script id="docs-config" type="application/json">(.*?)</script>', text)[1]
    )
    assert config["authRequired"] is False
    urls = set(re.findall(r'(?:href|src)="([^"]+)"', text)) | {config["document"]}
    assert len(urls) == 4
    for url in urls:  # each one, resolved as a browser does against this page's URL, is served
        fetched = client.get(urljoin(page, url))
        assert fetched.status_code == 200, url
    assert client.get(urljoin(page, config["document"])).get_json()["openapi"] == "3.0.3"


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


@needs_program(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
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


# --- auth on: the page asks for a token, and uses it for the document and for "Try it out" ------------------

NEEDS_CHROMIUM = needs_program(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing")
PROMPT = "This server requires a bearer token"
REFUSED = "The token was refused (invalid token)"
AUTHORIZE_WITH = """(() => {
  const input = document.querySelector(".modal-ux input");
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, %s);
  input.dispatchEvent(new Event("input", {bubbles: true}));
  document.querySelector(".modal-ux .auth.authorize").click();
  return true;
})()"""
LISTED_PATHS = "Array.from(document.querySelectorAll('.opblock-summary-path')).map(e => e.dataset.path)"
PAGE_TEXT = "document.body.innerText"


def issued_token(tokens_path: str) -> str:
    """A user token from the command line a deployment uses (`server.py token issue`)."""
    done = subprocess.run(
        [sys.executable, "server.py", "token", "issue", "--display-name", "Ana", "--tokens", tokens_path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory):
    """`python server.py --auth` over the openapi fixture project, and a token it accepts."""
    tmp = tmp_path_factory.mktemp("docs-auth")
    tokens_path = str(tmp / "tokens.json")
    token = issued_token(tokens_path)
    port = free_port()
    command = [
        sys.executable,
        "server.py",
        str(PROJECTS / "openapi"),
        "--port",
        str(port),
        "--no-reload",
        "--auth",
    ]
    process = start(command, port, tmp, {"SLUICE_TOKENS": tokens_path})
    yield f"http://127.0.0.1:{port}", token
    stop(process)


def authorize(page, token: str) -> None:
    """Swagger UI's Authorize dialog: enter the bearer token, submit, close."""
    page.evaluate("document.querySelector('.btn.authorize').click()")
    page.wait_for("!!document.querySelector('.modal-ux input')")
    page.evaluate(AUTHORIZE_WITH % json.dumps(token))
    page.wait_for("!!document.querySelector('.modal-ux .btn-done')")
    page.evaluate("document.querySelector('.modal-ux .btn-done').click()")


def execute(page, operation: str, values: dict[str, str]) -> tuple[str, str]:
    """Expand an operation, "Try it out", fill its parameters, Execute: the status and body it shows."""
    block = f"#operations-default-{operation}"
    page.evaluate(f"document.querySelector('{block} .opblock-summary-control').click()")
    page.wait_for(f"!!document.querySelector('{block} .try-out__btn')")
    page.evaluate(f"document.querySelector('{block} .try-out__btn').click()")
    page.wait_for(f"!!document.querySelector('{block} .execute')")
    for name, value in values.items():
        page.evaluate(
            f"""(() => {{
              const input = document.querySelector('{block} tr[data-param-name="{name}"] input');
              Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, {json.dumps(value)});
              input.dispatchEvent(new Event("input", {{bubbles: true}}));
              input.dispatchEvent(new FocusEvent("focusout", {{bubbles: true}}));  // flushes the debounce
              return true;
            }})()"""
        )
    page.evaluate(f"document.querySelector('{block} .execute').click()")
    cells = f"{block} .live-responses-table tbody"
    status = page.wait_for(f"(document.querySelector('{cells} .response-col_status') || {{}}).innerText")
    body = page.evaluate(f"document.querySelector('{cells} .response-col_description .microlight').innerText")
    return status.strip(), body


@NEEDS_CHROMIUM
def test_without_a_token_the_page_asks_for_one(secured_server, tmp_path):
    base, _ = secured_server
    with chromium_page(str(tmp_path / "profile")) as page:
        page.open(base + DOCS)
        text = page.wait_for(f"{PAGE_TEXT}.includes({json.dumps(PROMPT)}) && {PAGE_TEXT}")
        assert "Failed to load API definition" not in text and "No operations defined" not in text
        assert page.evaluate("!!document.querySelector('.btn.authorize')")
        assert page.evaluate(LISTED_PATHS) == []


@NEEDS_CHROMIUM
@pytest.mark.parametrize("docs", [DOCS, DOCS + "/"])
def test_an_issued_token_lists_the_apis_and_try_it_out_returns_rows(secured_server, tmp_path, docs):
    base, token = secured_server
    with chromium_page(str(tmp_path / "profile")) as page:
        page.open(base + docs)
        page.wait_for("!!document.querySelector('.btn.authorize')")
        authorize(page, token)
        assert set(page.wait_for(LISTED_PATHS)) == OPENAPI_FIXTURE_APIS
        status, body = execute(page, "get_recent", {"limit": "2"})
        assert status == "200", body
        assert json.loads(body) == [
            {"id": 1, "name": "alpha", "kind": "a", "active": True},
            {"id": 2, "name": "beta", "kind": "b", "active": False},
        ]
        status, body = execute(page, "get_echo", {"x": "typed in the page"})  # no openapi: block
        assert (status, json.loads(body)) == ("200", [{"x": "typed in the page"}])


@NEEDS_CHROMIUM
def test_a_refused_token_brings_the_prompt_back_with_the_reason(secured_server, tmp_path):
    base, token = secured_server
    with chromium_page(str(tmp_path / "profile")) as page:
        page.open(base + DOCS)
        page.wait_for("!!document.querySelector('.btn.authorize')")
        authorize(page, "sluice_usr_" + "A" * 43)
        text = page.wait_for(f"{PAGE_TEXT}.includes({json.dumps(REFUSED)}) && {PAGE_TEXT}")
        assert "Failed to load API definition" not in text and page.evaluate(LISTED_PATHS) == []
        authorize(page, token)  # the refused token was logged out: Authorize asks again
        assert set(page.wait_for(LISTED_PATHS)) == OPENAPI_FIXTURE_APIS
