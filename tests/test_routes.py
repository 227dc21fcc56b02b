"""The routing map: every route, its handler and its methods, and what other methods get (one 405 shape)."""

import pytest

from server import HANDLERS, URL_MAP
from tests.conftest import assert_error

READ = {"GET", "HEAD"}
CALL = {"GET", "HEAD", "POST", "OPTIONS"}
ROUTES = [
    # (rule, endpoint, methods)
    ("/v1/ping", "ping", READ),
    ("/v1/health", "health", READ),
    ("/metrics", "metrics", READ),
    ("/v1/instances/<instance>/api", "list_apis", READ),
    ("/v1/organizations/<org>/projects/<project>/runtime/api", "list_cloud_apis", READ),
    ("/v1/instances/<instance>/api/openapi", "openapi", READ),
    ("/v1/organizations/<org>/projects/<project>/runtime/api/openapi", "cloud_openapi", READ),
    ("/v1/instances/<instance>/api/docs", "docs", READ),
    ("/v1/instances/<instance>/api/docs/<asset>", "docs_asset", READ),
    ("/v1/instances/<instance>/api/<api:name>", "run_api", CALL),
    (
        "/v1/instances/<instance>/trigger",
        "trigger",
        {"POST"},
    ),  # Rill's refresh trigger (tests/test_refresh.py)
    ("/v1/organizations/<org>/projects/<project>/runtime/api/<api:name>", "run_cloud_api", CALL),
]
API = "/v1/instances/default/api/by_domain"
CLOUD_API = "/v1/organizations/o/projects/p/runtime/api/by_domain"
READ_PATHS = [
    "/v1/ping",
    "/v1/health",
    "/metrics",
    "/v1/instances/default/api",
    "/v1/organizations/o/projects/p/runtime/api",
    "/v1/instances/default/api/openapi",
    "/v1/organizations/o/projects/p/runtime/api/openapi",
    "/v1/instances/default/api/docs",
    "/v1/instances/default/api/docs/swagger-ui.css",
]
OTHER_METHODS = ["DELETE", "PUT", "PATCH", "TRACE", "BREW"]


def test_the_map_holds_exactly_these_routes():
    found = sorted((rule.rule, rule.endpoint, set(rule.methods or ())) for rule in URL_MAP.iter_rules())
    assert found == sorted(ROUTES)
    assert set(HANDLERS) == {endpoint for _, endpoint, _ in ROUTES}


@pytest.mark.parametrize("method", OTHER_METHODS + ["POST", "OPTIONS"])
@pytest.mark.parametrize("path", READ_PATHS)
def test_read_routes_answer_other_methods_405(project_client, path, method):
    response = project_client("basic").open(path, method=method)
    assert assert_error(response, 405, "GET only") == {"error": "GET only"}
    assert response.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("method", OTHER_METHODS)
@pytest.mark.parametrize("path", [API, CLOUD_API])
def test_api_routes_answer_other_methods_405_without_running(project_client, path, method):
    response = project_client("basic").open(path + "?domain=a.com", method=method)
    assert assert_error(response, 405, "GET or POST only") == {"error": "GET or POST only"}
    assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"


@pytest.mark.parametrize("path", [API, CLOUD_API])
def test_plain_options_on_an_api_lists_its_methods(project_client, path):
    response = project_client("basic").open(path, method="OPTIONS")
    assert (response.status_code, response.get_data()) == (204, b"")
    assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
def test_api_routes_run_for_their_methods(project_client, method):
    response = project_client("basic").open(API + "?domain=b.com", method=method)
    assert response.status_code == 200
    if method != "HEAD":
        assert response.get_json() == [{"id": 3, "publisher": "Google"}]


@pytest.mark.parametrize("name", ["openapi", "docs"])
def test_route_names_are_not_api_names(project_client, name):
    response = project_client("basic").post(f"/v1/instances/default/api/{name}")
    assert assert_error(response, 405, "GET only")["error"] == "GET only"


PAGES = [path for path in READ_PATHS if "/docs/" not in path]  # what a person may type, as listed above


@pytest.mark.parametrize("path", PAGES)
def test_a_page_answers_the_same_with_a_trailing_slash(project_client, path):
    client = project_client("basic")
    plain, slashed = client.get(path), client.get(path + "/")
    assert (slashed.status_code, slashed.headers["Content-Type"]) == (
        plain.status_code,
        plain.headers["Content-Type"],
    )
    assert plain.status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_a_page_with_a_trailing_slash_still_answers_other_methods_405(project_client, path):
    response = project_client("basic").post(path + "/")
    assert assert_error(response, 405, "GET only") == {"error": "GET only"}


@pytest.mark.parametrize(
    "path", [API + "/", CLOUD_API + "/", "/v1/instances/default/api/docs/swagger-ui.css/"]
)
def test_an_api_call_or_an_asset_with_a_trailing_slash_is_not_found(project_client, path):
    assert_error(project_client("basic").get(path + "?domain=b.com"), 404, "not found")


def test_a_path_once_matched_still_answers_each_method_as_its_rule_says(project_client):
    """Matched paths are kept by method and path: a kept GET never answers another method's call."""
    client = project_client("basic")
    for _ in range(2):
        assert client.get(API + "?domain=b.com").status_code == 200
        for method in OTHER_METHODS:
            assert_error(client.open(API + "?domain=b.com", method=method), 405, "GET or POST only")
        assert client.open(API, method="OPTIONS").status_code == 204
        assert client.post("/v1/ping").status_code == 405 and client.get("/v1/ping").status_code == 200
        assert_error(client.get(API + "/?domain=b.com"), 404, "not found")
