"""The OpenAPI document over HTTP (SPEC §7): validity, operations, methods, YAML, servers, inferred schemas."""

from __future__ import annotations

import json
import time

import jwt
import pytest
import yaml
from openapi_spec_validator import validate
from werkzeug.test import Client

from project.openapi.api_docs import api_docs
from project.settings import Settings
from server import create_app
from tests.conftest import OPENAPI_FIXTURE_APIS, PROJECTS, assert_error, assert_unauthenticated

DOCUMENT = "/v1/instances/default/api/openapi"
CLOUD_DOCUMENT = "/v1/organizations/acme/projects/ads/runtime/api/openapi"
EXAMPLE_APIS = {"/bid", "/bids", "/google_top", "/publisher_daily", "/publishers", "/top_publishers"}
SECRET = "s" * 32


def document(client: Client, path: str = DOCUMENT, **options) -> dict:
    response = client.get(path, **options)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


def row_schema(doc: dict, api: str) -> dict:
    (operation,) = doc["paths"][f"/{api}"].values()
    return operation["responses"]["200"]["content"]["application/json"]["schema"]["items"]


@pytest.mark.parametrize(("project", "paths"), [("openapi", OPENAPI_FIXTURE_APIS), ("example", EXAMPLE_APIS)])
def test_document_is_valid_openapi(project_client, project, paths):
    response = project_client(project).get(DOCUMENT)
    assert response.headers["Content-Type"] == "application/json"
    doc = json.loads(response.get_data(as_text=True))
    validate(doc)
    assert doc["openapi"] == "3.0.3"
    assert doc["info"] == {"title": "Rill project API", "version": "1.0.0"}
    assert set(doc["paths"]) == paths


def test_broken_apis_are_left_out_and_failed_inference_is_an_object(project_client):
    doc = document(project_client("basic"))
    validate(doc)
    assert "/broken_yaml" not in doc["paths"] and "/no_resolver" not in doc["paths"]
    assert row_schema(doc, "bad_sql") == {"type": "object"}  # its table does not exist: nothing to infer
    assert row_schema(doc, "by_domain")["properties"]["publisher"] == {"type": "string", "nullable": True}


OPERATIONS = [
    # (project, API, method, summary, has a request body)
    ("openapi", "search", "post", "Search events by day, kind and name", True),
    ("openapi", "prefixed", "post", "Query prefixed resolver", True),
    ("openapi", "recent", "get", "The most recent events", False),
    ("openapi", "inferred", "get", "Query inferred resolver", False),
    ("openapi", "titled", "get", "Kinds of events", False),  # display_name, as Rill's parser accepts it
    ("example", "publisher_daily", "get", "Daily totals for one publisher", False),
    ("example", "google_top", "get", "Query google_top resolver", False),
]


@pytest.mark.parametrize(("project", "api", "method", "summary", "has_body"), OPERATIONS)
def test_operations(project_client, project, api, method, summary, has_body):
    item = document(project_client(project))["paths"][f"/{api}"]
    assert list(item) == [method]
    assert item[method]["summary"] == summary
    assert ("requestBody" in item[method]) == has_body
    assert item[method]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "type": "object",
        "properties": {"error": {"type": "string"}},
    }


def test_parameters_and_request_schema_as_declared(project_client):
    paths = document(project_client("openapi"))["paths"]
    limit = paths["/recent"]["get"]["parameters"][0]
    assert limit == {
        "name": "limit",
        "in": "query",
        "description": "rows to return",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3},
    }
    assert paths["/search"]["post"]["requestBody"]["required"] is True  # `from` is required
    assert "required" not in paths["/prefixed"]["post"]["requestBody"]  # nothing is: an empty body will do
    body = paths["/search"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["from"]
    assert body["properties"]["from"] == {"type": "string", "format": "date"}
    assert body["properties"]["kind"] == {"$ref": "#/components/schemas/Searchkind"}


def test_defs_become_components_with_and_without_prefix(project_client):
    doc = document(project_client("openapi"))
    assert doc["components"]["schemas"] == {
        "Searchkind": {"type": "string", "enum": ["a", "b"]},
        "Searchday": {"type": "string", "format": "date"},
        "Groupedkind": {"type": "string", "enum": ["a", "b"]},
    }
    assert row_schema(doc, "prefixed")["properties"]["kind"] == {"$ref": "#/components/schemas/Groupedkind"}
    assert row_schema(doc, "search")["properties"]["amount"] == {"type": "number", "nullable": True}


INFERRED = [
    # (API, column, schema in the document): every SQL value may be null
    ("inferred", "id", {"type": "integer", "format": "int32", "nullable": True}),
    ("inferred", "name", {"type": "string", "nullable": True}),
    ("inferred", "amount", {"type": "number", "nullable": True}),
    ("inferred", "price", {"type": "number", "nullable": True}),
    ("inferred", "happened_at", {"type": "string", "format": "date-time", "nullable": True}),
    ("inferred", "day", {"type": "string", "format": "date", "nullable": True}),
    ("inferred", "active", {"type": "boolean", "nullable": True}),
    ("inferred", "tags", {"type": "array", "items": {"type": "string", "nullable": True}, "nullable": True}),
    (
        "inferred",
        "detail",
        {
            "type": "object",
            "nullable": True,
            "properties": {"n": {"type": "integer", "format": "int32", "nullable": True}},
        },
    ),
    ("kinds", "kind", {"type": "string", "nullable": True}),  # metrics SQL, compiled then described
    ("kinds", "events", {"type": "integer", "format": "int64", "nullable": True}),
    ("echo", "x", {"type": "string", "nullable": True}),
]


@pytest.mark.parametrize(("api", "column", "schema"), INFERRED)
def test_inferred_response_schemas(project_client, api, column, schema):
    assert row_schema(document(project_client("openapi")), api)["properties"][column] == schema


def test_inferred_schema_keeps_column_order_and_a_proxy_documents_its_target(project_client):
    doc = document(project_client("openapi"))
    assert list(row_schema(doc, "inferred")["properties"]) == [
        "id",
        "name",
        "amount",
        "price",
        "happened_at",
        "day",
        "active",
        "tags",
        "detail",
    ]
    assert row_schema(doc, "via_proxy") == row_schema(doc, "inferred")


def test_example_inference_renders_without_arguments(project_client):
    doc = document(project_client("example"))
    assert row_schema(doc, "bids")["properties"]["bid_time"]["format"] == "date-time"
    assert row_schema(doc, "bid")["properties"]["id"] == {
        "type": "integer",
        "format": "int64",
        "nullable": True,
    }
    assert row_schema(doc, "google_top") == row_schema(doc, "top_publishers")


def test_inferred_docs_are_computed_once_per_loaded_project(tmp_path):
    app = create_app(Settings(project_dir=str(PROJECTS / "openapi"), state_dir=str(tmp_path), reload=False))
    first = api_docs(app.project())
    again = api_docs(app.project())
    assert again == first and all(doc is cached for doc, cached in zip(again, first, strict=True))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", [DOCUMENT, CLOUD_DOCUMENT, "/v1/instances/default/api/docs"])
def test_other_methods_are_405(project_client, method, path):
    response = project_client("openapi").open(path, method=method, json={"x": 1})
    body = assert_error(response, 405, "GET only")
    assert body == {"error": "GET only"}
    assert response.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("accept", ["application/yaml", "application/x-yaml", "application/yaml, */*;q=0.1"])
def test_yaml_when_asked(project_client, accept):
    client = project_client("openapi")
    response = client.get(DOCUMENT, headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(response.get_data(as_text=True)) == document(client)


@pytest.mark.parametrize("accept", ["application/json", "*/*", "text/html, application/json;q=0.9"])
def test_json_otherwise(project_client, accept):
    response = project_client("openapi").get(DOCUMENT, headers={"Accept": accept})
    assert response.headers["Content-Type"] == "application/json"
    json.loads(response.get_data(as_text=True))


SERVERS = [
    # (route, base URL the request came in on, servers[0].url)
    (DOCUMENT, "http://localhost/", "http://localhost/v1/instances/default/api"),
    (DOCUMENT, "https://api.example.com:8443/", "https://api.example.com:8443/v1/instances/default/api"),
    (DOCUMENT, "http://example.com/mounted/here", "http://example.com/mounted/here/v1/instances/default/api"),
    (CLOUD_DOCUMENT, "http://localhost/", "http://localhost/v1/organizations/acme/projects/ads/runtime/api"),
]


@pytest.mark.parametrize(("route", "base_url", "server_url"), SERVERS)
def test_servers_url_is_the_api_base_of_the_request(project_client, route, base_url, server_url):
    assert document(project_client("openapi"), route, base_url=base_url)["servers"] == [{"url": server_url}]


def test_cloud_document_title_and_names(project_client):
    client = project_client("openapi", org="acme", project_name="ads")
    assert document(client, CLOUD_DOCUMENT)["info"]["title"] == "Rill acme/ads project API"
    assert_error(client.get("/v1/organizations/other/projects/ads/runtime/api/openapi"), 404, '"other"')
    assert_error(client.get("/v1/organizations/acme/projects/nope/runtime/api/openapi"), 404, '"nope"')


def test_unknown_instance_is_404(project_client):
    assert_error(project_client("openapi").get("/v1/instances/other/api/openapi"), 404, 'instance "other"')


@pytest.mark.parametrize("path", [DOCUMENT, CLOUD_DOCUMENT])
def test_document_needs_a_token_when_auth_is_on(tmp_path, path):
    settings = Settings(
        project_dir=str(PROJECTS / "openapi"),
        state_dir=str(tmp_path),
        auth=True,
        jwt_secret=SECRET,
        tokens_path=str(tmp_path / "tokens.json"),
    )
    client = Client(create_app(settings))
    assert_unauthenticated(client.get(path), "no bearer token found in authorization header")
    assert_unauthenticated(client.get(path, headers={"Authorization": "Bearer nonsense"}), "invalid token")
    assert_unauthenticated(
        client.get(path.replace("default", "other").replace("acme", "other")),
        "no bearer token found in authorization header",
    )
    token = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    doc = document(client, path, headers={"Authorization": f"Bearer {token}"})
    validate(doc)
    assert set(doc["paths"]) == OPENAPI_FIXTURE_APIS
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["components"]["securitySchemes"] == {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    assert doc["paths"]["/recent"]["get"]["responses"]["401"]["description"] == "No or invalid bearer token"


def test_no_security_scheme_when_auth_is_off(project_client):
    doc = document(project_client("openapi"))
    assert "security" not in doc and "securitySchemes" not in doc["components"]


TEMPLATE_PARAMETERS = [
    # (project, API, the query parameters its operation lists)
    ("openapi", "echo", ["x"]),  # no openapi block: what the template reads
    ("openapi", "inferred", ["name"]),
    ("openapi", "kinds", []),  # metrics SQL that reads no argument
    ("openapi", "via_proxy", []),  # a proxy that fixes `name` leaves nothing for the caller
    ("openapi", "recent", ["limit", "active", "ids"]),  # declared parameters stay as declared
    ("example", "bid", ["id"]),
    ("example", "bids", ["country", "page_size", "offset"]),
    ("example", "top_publishers", ["domain", "limit"]),  # `hasKey .args "limit"` and `.args.limit`
    ("example", "google_top", ["limit"]),  # proxied to top_publishers with domain fixed
    ("example", "publishers", []),
]


@pytest.mark.parametrize(("project", "api", "names"), TEMPLATE_PARAMETERS)
def test_apis_without_declared_parameters_document_what_their_template_reads(
    project_client, project, api, names
):
    doc = document(project_client(project))
    validate(doc)
    (operation,) = doc["paths"][f"/{api}"].values()
    parameters = operation.get("parameters", [])
    assert [parameter["name"] for parameter in parameters] == names
    assert all(parameter["in"] == "query" for parameter in parameters)


def test_a_documented_argument_is_one_the_api_takes(project_client):
    """Try it out sends what the document lists: `?id=3` on `bid` (no openapi block) finds bid 3."""
    client = project_client("example", cache_bytes=0)
    (parameter,) = document(client)["paths"]["/bid"]["get"]["parameters"]
    assert parameter == {
        "name": "id",
        "in": "query",
        "required": False,
        "description": "Read by the API's query (not declared: passed on as text)",
        "schema": {"type": "string"},
    }
    response = client.get("/v1/instances/default/api/bid", query_string={parameter["name"]: "3"})
    assert response.status_code == 200 and [row["id"] for row in response.get_json()] == [3]
