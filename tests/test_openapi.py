"""The OpenAPI document: one fixture file per case in tests/openapi_cases/, each validated as OpenAPI 3.0."""

from __future__ import annotations

from pathlib import Path

import openapi_spec_validator
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from project.errors import ProjectError
from project.openapi.document import (
    ApiDoc,
    build_document,
    pascal_case,
    to_json_schema,
    validate_openapi_block,
)
from project.openapi.schema_inference import response_schema_for_columns

CASES = sorted((Path(__file__).parent / "openapi_cases").glob("*.yaml"))
SERVER_URL = "http://localhost:9009/v1/instances/default/api"
ERROR_RESPONSE = {
    "description": "Bad request",
    "content": {
        "application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}
    },
}


def load_case(path: Path) -> dict:
    """A case file: `apis` (ApiDoc fields), `expected_paths`, `expected_components`."""
    return yaml.safe_load(path.read_text())


def expand_defaults(paths: dict) -> dict:
    """Replace `{$default: true}` responses (all, or the 400 alone) with the standard ones, to keep cases short."""
    for path, item in paths.items():
        for operation in item.values():
            responses = operation["responses"]
            if responses == {"$default": True}:
                name = path.lstrip("/")
                operation["responses"] = {
                    "200": {
                        "description": f"Successful response of {name} resolver",
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
                        },
                    },
                    "400": ERROR_RESPONSE,
                }
            elif responses.get("400") == {"$default": True}:
                responses["400"] = ERROR_RESPONSE
            answer = operation["responses"]["200"]
            answer["content"] = with_other_formats(answer["content"])
    return paths


def with_other_formats(content: dict) -> dict:
    """A case's JSON answer content plus the formats every answer also comes in (SPEC §3.5)."""
    row = content["application/json"]["schema"]["items"]
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        **content,
        "application/x-ndjson": {"schema": row},
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.apache.parquet": binary,
        "application/vnd.apache.arrow.stream": binary,
    }


def test_every_operation_lists_every_format():
    document = build_document(
        [ApiDoc("a"), ApiDoc("b", {"request_schema": {"type": "object"}})], title="t", server_url=SERVER_URL
    )
    for operation in (document["paths"]["/a"]["get"], document["paths"]["/b"]["post"]):
        assert list(operation["responses"]["200"]["content"]) == [
            "application/json",
            "application/x-ndjson",
            "text/csv",
            "application/vnd.apache.parquet",
            "application/vnd.apache.arrow.stream",
        ]


def document_for(case: dict) -> dict:
    apis = [ApiDoc(**api) for api in case["apis"]]
    return build_document(apis, title="Rill project API", server_url=SERVER_URL)


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_document_case(path):
    case = load_case(path)
    document = document_for(case)
    openapi_spec_validator.validate(document)
    assert document["paths"] == expand_defaults(case["expected_paths"])
    assert list(document["paths"]) == sorted(document["paths"])
    assert document.get("components") == case["expected_components"]


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_document_case_blocks_pass_load_checks(path):
    for api in load_case(path)["apis"]:
        assert validate_openapi_block(api.get("openapi"), f"apis/{api['name']}.yaml") is None


def test_document_header():
    document = build_document([], title="Rill acme/web project API", server_url=SERVER_URL)
    assert document == {
        "openapi": "3.0.3",
        "info": {"title": "Rill acme/web project API", "version": "1.0.0"},
        "servers": [{"url": SERVER_URL}],
        "paths": {},
    }
    openapi_spec_validator.validate(document)


def test_document_does_not_change_the_api_blocks():
    case = load_case(Path(__file__).parent / "openapi_cases" / "defs_pascal_case_prefix.yaml")
    before = yaml.safe_dump(case["apis"])
    document_for(case)
    assert yaml.safe_dump(case["apis"]) == before


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("top-publishers", "TopPublishers"),
        ("ad_bids", "AdBids"),
        ("a b-c_d", "ABCD"),
        ("camelCase", "CamelCase"),
        ("x", "X"),
        ("already", "Already"),
        ("v2_api", "V2Api"),
    ],
)
def test_pascal_case(name, expected):
    assert pascal_case(name) == expected


# (openapi block, expected message)
MALFORMED = [
    ("just text", "openapi must be a mapping"),
    ({"summary": 3}, "openapi.summary must be a string"),
    ({"defs_prefix": "My Prefix"}, "openapi.defs_prefix may only hold A-Z a-z 0-9 . - _"),
    ({"parameters": {"name": "a"}}, "openapi.parameters must be a list of parameter objects"),
    ({"parameters": ["a"]}, "openapi.parameters[0] must be a mapping"),
    ({"parameters": [{"in": "query"}]}, "openapi.parameters[0].name must be a string"),
    (
        {"parameters": [{"name": "a", "in": "body"}]},
        "openapi.parameters[0].in must be one of: query, header, cookie",
    ),
    ({"parameters": [{"name": "a"}]}, "openapi.parameters[0].in must be one of: query, header, cookie"),
    (
        {"parameters": [{"name": "a", "in": "path"}]},
        "openapi.parameters[0]: path parameters are not supported",
    ),
    (
        {"parameters": [{"name": "a", "in": "query", "required": "yes"}]},
        "openapi.parameters[0].required must be",
    ),
    (
        {"parameters": [{"name": "a", "in": "query", "schema": "int"}]},
        "openapi.parameters[0].schema must be a mapping",
    ),
    ({"request_schema": [1]}, "openapi.request_schema must be a mapping (a JSON Schema object)"),
    ({"request_schema": {"type": "array"}}, "openapi.request_schema must describe an object (type: object)"),
    ({"response_schema": "row"}, "openapi.response_schema must be a mapping"),
    (
        {"request_schema": {"type": "object", "properties": {"a": {"type": "int"}}}},
        "openapi.request_schema['properties']['a']['type'] is not a valid JSON Schema",
    ),
    (
        {"response_schema": {"required": "a"}},
        "openapi.response_schema['required'] is not a valid JSON Schema",
    ),
]


@pytest.mark.parametrize(("block", "message"), MALFORMED)
def test_malformed_block(block, message):
    with pytest.raises(ProjectError) as caught:
        validate_openapi_block(block, "apis/top.yaml")
    assert caught.value.message.startswith(message)
    assert caught.value.path == "apis/top.yaml"


@pytest.mark.parametrize(
    "block",
    [
        None,
        {},
        {"summary": "s", "defs_prefix": "A.b-c_1"},
        {
            "request_schema": {
                "properties": {
                    "n": {"type": "integer", "nullable": True, "maximum": 3, "exclusiveMaximum": True}
                }
            }
        },
        {"parameters": [{"name": "h", "in": "header"}, {"name": "c", "in": "cookie", "required": False}]},
    ],
)
def test_well_formed_block(block):
    assert validate_openapi_block(block, "apis/ok.yaml") is None


# (OpenAPI 3.0 schema, the JSON Schema that validates the same values)
TO_JSON_SCHEMA = [
    ({"type": "integer", "nullable": True}, {"type": ["integer", "null"]}),
    ({"type": ["integer", "null"], "nullable": True}, {"type": ["integer", "null"]}),
    ({"nullable": False, "type": "string"}, {"type": "string"}),
    ({"maximum": 5, "exclusiveMaximum": True}, {"exclusiveMaximum": 5}),
    ({"minimum": 5, "exclusiveMinimum": False}, {"minimum": 5}),
    ({"exclusiveMinimum": 5}, {"exclusiveMinimum": 5}),
    ({"properties": {"nullable": {"type": "boolean"}}}, {"properties": {"nullable": {"type": "boolean"}}}),
    ({"items": {"type": "string", "nullable": True}}, {"items": {"type": ["string", "null"]}}),
    ({"anyOf": [{"type": "string", "nullable": True}]}, {"anyOf": [{"type": ["string", "null"]}]}),
]


@pytest.mark.parametrize(("schema", "expected"), TO_JSON_SCHEMA)
def test_to_json_schema(schema, expected):
    assert to_json_schema(schema) == expected


SCALAR_TYPES = [
    "BIGINT",
    "HUGEINT",
    "DECIMAL(18,3)",
    "DOUBLE",
    "BOOLEAN",
    "VARCHAR",
    "DATE",
    "TIMESTAMP",
    "UUID",
    "INTERVAL",
    "BLOB",
    "ENUM('a', 'b')",
    "JSON",
]
DUCKDB_TYPES = st.recursive(
    st.sampled_from(SCALAR_TYPES),
    lambda inner: st.one_of(
        inner.map(lambda type_: f"{type_}[]"),
        st.tuples(inner, inner).map(lambda pair: f'STRUCT(a {pair[0]}, "b c" {pair[1]})'),
        inner.map(lambda type_: f"MAP(VARCHAR, {type_})"),
    ),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(DUCKDB_TYPES, min_size=1, max_size=4))
def test_inferred_response_schemas_make_valid_documents(types):
    names = [f"c{index}" for index in range(len(types))]
    api = ApiDoc("inferred", {}, response_schema_for_columns(names, types))
    document = build_document([api], title="Rill project API", server_url=SERVER_URL)
    openapi_spec_validator.validate(document)
