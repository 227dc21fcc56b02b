"""An API named like another API's address in a format (`top.csv` beside `top`; `sql.ndjson`, the built-in
`sql` in NDJSON) is a load error naming both files and is not served: the address stays the format's. A
suffixed name whose stem is no API (`report.csv`) is served under its own name. Routing, the listing and
the OpenAPI document agree: every address the listing gives answers that API in that format."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from project.encoding.formats import FORMATS
from tests.conftest import BASE_URL

PROJECT = "format_names"


def client_for(project_client):
    return project_client(PROJECT, cache_bytes=0)


def rows_of(response) -> list[dict]:
    """The rows of an answer in any format, as JSON would give them (numbers as text for CSV)."""
    body = response.get_data()
    kind = response.mimetype
    if kind == "application/json":
        return json.loads(body)
    if kind == "application/x-ndjson":
        return [json.loads(line) for line in body.splitlines()]
    if kind == "text/csv":
        return list(csv.DictReader(io.StringIO(body.decode())))
    if kind == "application/vnd.apache.parquet":
        return pq.read_table(io.BytesIO(body)).to_pylist()
    return pa.ipc.open_stream(body).read_all().to_pylist()


def test_a_name_that_is_another_apis_format_address_is_a_load_error(project_client):
    project = client_for(project_client).application.project()
    messages = sorted(str(error) for error in project.errors)
    assert messages == [
        "apis/sql.ndjson.yaml: API 'sql.ndjson' has the address of the built-in API in NDJSON: rename one of them",
        "apis/top.csv.yaml: API 'top.csv' has the address of API 'top' (apis/top.yaml) in CSV: rename one of them",
        (
            "apis/top.parquet.yaml: API 'top.parquet' has the address of API 'top' (apis/top.yaml) in PARQUET: "
            "rename one of them"
        ),
    ]
    assert sorted(project.apis) == ["report.csv", "top"]


ADDRESSES = [
    # (path after .../api/, API answering, media type)
    ("top", "top", "application/json"),
    ("top.csv", "top", "text/csv"),
    ("top.parquet", "top", "application/vnd.apache.parquet"),
    ("report.csv", "report.csv", "application/json"),
    ("report.csv.csv", "report.csv", "text/csv"),
    ("report.csv.ndjson", "report.csv", "application/x-ndjson"),
]


@pytest.mark.parametrize(("path", "api", "media_type"), ADDRESSES)
def test_each_address_answers_one_api_in_one_format(project_client, path, api, media_type):
    response = client_for(project_client).get(BASE_URL + path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == media_type
    assert [row["api"] for row in rows_of(response)] == [api]


def test_every_address_the_listing_gives_answers_that_api_in_that_format(project_client):
    client = client_for(project_client)
    listing = client.get("/v1/instances/default/api").json["apis"]
    assert sorted(entry["name"] for entry in listing) == ["report.csv", "top"]
    for entry in listing:
        for format_name, url in entry["formats"].items():
            response = client.get(urlsplit(url).path)
            assert response.status_code == 200, (url, response.get_data(as_text=True))
            assert response.mimetype == FORMATS[format_name].media_type, url
            assert [row["api"] for row in rows_of(response)] == [entry["name"]], url


def test_the_openapi_paths_are_the_listed_apis(project_client):
    client = client_for(project_client)
    listed = {entry["name"] for entry in client.get("/v1/instances/default/api").json["apis"]}
    document = client.get("/v1/instances/default/api/openapi").json
    base = urlsplit(document["servers"][0]["url"]).path
    assert {path.removeprefix("/") for path in document["paths"]} == listed
    for path in document["paths"]:
        response = client.get(base + path, headers={"Accept": "application/json"})
        assert [row["api"] for row in response.json] == [path.removeprefix("/")], path
