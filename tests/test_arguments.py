"""Typed arguments: query strings coerced, query over body, defaults, and every violation reported at once."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from project.calls.arguments import compile_argument_schema
from project.errors import ArgumentError, ProjectError

TOP = {
    "request_schema": {
        "type": "object",
        "required": ["domain"],
        "properties": {
            "domain": {"type": "string", "minLength": 3, "maxLength": 20, "pattern": "^[a-z.]+$"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 25},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "debug": {"type": "boolean"},
            "ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
            "tags": {"type": "array", "items": {"type": "string"}},
            "sort": {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
            "day": {"type": "string", "format": "date"},
            "since": {"type": "string", "format": "date-time"},
            "maybe": {"type": ["integer", "null"]},
        },
    }
}
PARAMETERS = {
    "parameters": [
        {"name": "limit", "in": "query", "required": True, "schema": {"type": "integer", "maximum": 10}},
        {"name": "flag", "in": "query", "schema": {"type": "boolean", "default": False}},
        {"name": "x-trace", "in": "header", "required": True, "schema": {"type": "string"}},
    ]
}
CLOSED = {
    "request_schema": {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "additionalProperties": False,
    }
}
OPENAPI_STYLE = {
    "request_schema": {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "nullable": True, "maximum": 5, "exclusiveMaximum": True},
            "m": {"type": "number", "minimum": 0, "exclusiveMinimum": False},
        },
    }
}
SCHEMAS = {"top": TOP, "parameters": PARAMETERS, "closed": CLOSED, "openapi_style": OPENAPI_STYLE}
DEFAULTS = {"limit": 25, "sort": "desc"}

# (schema, query, body, expected args)
ACCEPTED = [
    ("top", {"domain": ["a.com"]}, {}, {"domain": "a.com", **DEFAULTS}),
    ("top", {}, {"domain": "a.com", "limit": 7}, {"domain": "a.com", "limit": 7, "sort": "desc"}),
    ("top", {"domain": ["a.com"], "limit": ["10"]}, {}, {"domain": "a.com", "limit": 10, "sort": "desc"}),
    ("top", {"domain": ["a.com"], "limit": ["+10"]}, {}, {"domain": "a.com", "limit": 10, "sort": "desc"}),
    (
        "top",
        {"domain": ["q.com"]},
        {"domain": "b.com", "limit": 5},
        {"domain": "q.com", "limit": 5, "sort": "desc"},
    ),
    ("top", {"domain": ["a.com", "b.com"]}, {}, {"domain": "a.com", **DEFAULTS}),
    ("top", {"domain": ["a.com"], "ratio": ["0.5"]}, {}, {"domain": "a.com", "ratio": 0.5, **DEFAULTS}),
    ("top", {"domain": ["a.com"], "ratio": [".25"]}, {}, {"domain": "a.com", "ratio": 0.25, **DEFAULTS}),
    ("top", {"domain": ["a.com"], "debug": ["true"]}, {}, {"domain": "a.com", "debug": True, **DEFAULTS}),
    ("top", {"domain": ["a.com"], "debug": ["FALSE"]}, {}, {"domain": "a.com", "debug": False, **DEFAULTS}),
    ("top", {"domain": ["a.com"], "debug": ["1"]}, {}, {"domain": "a.com", "debug": True, **DEFAULTS}),
    ("top", {"domain": ["a.com"], "debug": ["0"]}, {}, {"domain": "a.com", "debug": False, **DEFAULTS}),
    ("top", {"domain": ["a.com"], "ids": ["1", "2"]}, {}, {"domain": "a.com", "ids": [1, 2], **DEFAULTS}),
    ("top", {"domain": ["a.com"], "ids": ["1,2,3"]}, {}, {"domain": "a.com", "ids": [1, 2, 3], **DEFAULTS}),
    ("top", {"domain": ["a.com"], "ids": ["4"]}, {}, {"domain": "a.com", "ids": [4], **DEFAULTS}),
    ("top", {"domain": ["a.com"], "ids": [""]}, {}, {"domain": "a.com", "ids": [], **DEFAULTS}),
    ("top", {"domain": ["a.com"], "tags": ["x,y"]}, {}, {"domain": "a.com", "tags": ["x", "y"], **DEFAULTS}),
    (
        "top",
        {"domain": ["a.com"], "tags": ["x,y", "z"]},
        {},
        {"domain": "a.com", "tags": ["x,y", "z"], **DEFAULTS},
    ),
    ("top", {"domain": ["a.com"]}, {"ids": [1, 2]}, {"domain": "a.com", "ids": [1, 2], **DEFAULTS}),
    ("top", {"domain": ["a.com"], "sort": ["asc"]}, {}, {"domain": "a.com", "limit": 25, "sort": "asc"}),
    (
        "top",
        {"domain": ["a.com"], "day": ["2024-02-29"]},
        {},
        {"domain": "a.com", "day": "2024-02-29", **DEFAULTS},
    ),
    (
        "top",
        {"domain": ["a.com"], "since": ["2024-02-29T10:00:00.5+01:00"]},
        {},
        {"domain": "a.com", "since": "2024-02-29T10:00:00.5+01:00", **DEFAULTS},
    ),
    ("top", {"domain": ["a.com"], "maybe": ["null"]}, {}, {"domain": "a.com", "maybe": None, **DEFAULTS}),
    ("top", {"domain": ["a.com"], "maybe": ["3"]}, {}, {"domain": "a.com", "maybe": 3, **DEFAULTS}),
    (
        "top",
        {"domain": ["a.com"], "other": ["x", "y"]},
        {"more": 1},
        {"domain": "a.com", "other": "x", "more": 1, **DEFAULTS},
    ),
    ("parameters", {"limit": ["3"]}, {}, {"limit": 3, "flag": False}),
    ("parameters", {"limit": ["3"], "flag": ["true"]}, {}, {"limit": 3, "flag": True}),
    ("closed", {"a": ["x"]}, {}, {"a": "x"}),
    ("openapi_style", {"n": ["4"], "m": ["0"]}, {}, {"n": 4, "m": 0}),
    ("openapi_style", {}, {"n": None}, {"n": None}),
]


@pytest.mark.parametrize(("schema", "query", "body", "expected"), ACCEPTED)
def test_accepted_arguments(schema, query, body, expected):
    assert compile_argument_schema(SCHEMAS[schema]).coerce_and_validate(query, body) == expected


# (schema, query, body, expected details as (arg, message) in order)
REJECTED = [
    ("top", {}, {}, [("domain", "is required")]),
    ("top", {"domain": ["a.com"], "limit": ["5000"]}, {}, [("limit", "must be <= 1000")]),
    ("top", {"domain": ["a.com"], "limit": ["0"]}, {}, [("limit", "must be >= 1")]),
    ("top", {"domain": ["a.com"], "limit": ["abc"]}, {}, [("limit", "must be an integer")]),
    ("top", {"domain": ["a.com"], "limit": ["1.5"]}, {}, [("limit", "must be an integer")]),
    ("top", {"domain": ["a.com"]}, {"limit": "10"}, [("limit", "must be an integer")]),
    ("top", {"domain": ["a.com"], "ratio": ["1"]}, {}, [("ratio", "must be < 1")]),
    ("top", {"domain": ["a.com"], "ratio": ["0"]}, {}, [("ratio", "must be > 0")]),
    ("top", {"domain": ["a.com"], "ratio": ["nan"]}, {}, [("ratio", "must be a number")]),
    (
        "top",
        {"domain": ["a.com"], "debug": ["yes"]},
        {},
        [("debug", "must be a boolean (true, false, 1 or 0)")],
    ),
    ("top", {"domain": ["ab"]}, {}, [("domain", "must be at least 3 characters long")]),
    ("top", {"domain": ["a" * 21]}, {}, [("domain", "must be at most 20 characters long")]),
    ("top", {"domain": ["A.COM"]}, {}, [("domain", "must match the pattern ^[a-z.]+$")]),
    ("top", {"domain": ["a.com"], "sort": ["up"]}, {}, [("sort", "must be one of: asc, desc")]),
    ("top", {"domain": ["a.com"], "day": ["2024-02-30"]}, {}, [("day", "must be a date (YYYY-MM-DD)")]),
    ("top", {"domain": ["a.com"], "day": ["29/02/2024"]}, {}, [("day", "must be a date (YYYY-MM-DD)")]),
    (
        "top",
        {"domain": ["a.com"], "since": ["2024-02-29T10:00:00"]},
        {},
        [("since", "must be a date-time (RFC 3339, e.g. 2024-01-31T10:00:00Z)")],
    ),
    ("top", {"domain": ["a.com"], "ids": ["1,x"]}, {}, [("ids", "[1] must be an integer")]),
    ("top", {"domain": ["a.com"], "ids": ["1,2,3,4"]}, {}, [("ids", "must have at most 3 items")]),
    ("top", {"domain": ["a.com"]}, {"ids": [1, "2"]}, [("ids", "[1] must be an integer")]),
    ("top", {"domain": ["a.com"]}, {"maybe": "x"}, [("maybe", "must be an integer or null")]),
    (
        "top",
        {"limit": ["5000"], "ratio": ["2"], "sort": ["up"]},
        {},
        [
            ("domain", "is required"),
            ("limit", "must be <= 1000"),
            ("ratio", "must be < 1"),
            ("sort", "must be one of: asc, desc"),
        ],
    ),
    ("top", {"limit": ["x"]}, {}, [("domain", "is required"), ("limit", "must be an integer")]),
    ("parameters", {}, {}, [("limit", "is required")]),
    ("parameters", {"limit": ["11"]}, {}, [("limit", "must be <= 10")]),
    ("closed", {"a": ["x"], "b": ["y"]}, {"c": 1}, [("b", "is not allowed"), ("c", "is not allowed")]),
    ("openapi_style", {"n": ["5"], "m": ["-1"]}, {}, [("m", "must be >= 0"), ("n", "must be < 5")]),
]


@pytest.mark.parametrize(("schema", "query", "body", "expected"), REJECTED)
def test_rejected_arguments(schema, query, body, expected):
    with pytest.raises(ArgumentError) as caught:
        compile_argument_schema(SCHEMAS[schema]).coerce_and_validate(query, body)
    details = [(detail["arg"], detail["message"]) for detail in caught.value.details]
    assert details == expected


def test_error_message_joins_all_violations():
    with pytest.raises(ArgumentError) as caught:
        compile_argument_schema(TOP).coerce_and_validate({"limit": ["5000"], "ids": ["1,x"]}, {})
    assert caught.value.message == (
        "invalid arguments: domain is required; ids[1] must be an integer; limit must be <= 1000"
    )
    assert caught.value.details[0] == {"arg": "domain", "message": "is required"}


@pytest.mark.parametrize("block", [{}, {"summary": "x"}, {"response_schema": {"type": "object"}}, None])
def test_no_schema_means_args_as_they_come(block):
    assert compile_argument_schema(block) is None


def test_request_schema_property_wins_over_parameter():
    block = {
        "request_schema": {"type": "object", "properties": {"limit": {"type": "integer", "maximum": 5}}},
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "string"}}],
    }
    with pytest.raises(ArgumentError, match="limit must be <= 5"):
        compile_argument_schema(block).coerce_and_validate({"limit": ["6"]}, {})


def test_defaults_are_copies():
    schema = compile_argument_schema(
        {"request_schema": {"properties": {"tags": {"type": "array", "default": []}}}}
    )
    schema.coerce_and_validate({}, {})["tags"].append("x")
    assert schema.coerce_and_validate({}, {}) == {"tags": []}


def test_refs_into_defs_are_followed():
    block = {
        "request_schema": {
            "type": "object",
            "properties": {"day": {"$ref": "#/$defs/Day"}},
            "$defs": {"Day": {"type": "string", "format": "date"}},
        }
    }
    with pytest.raises(ArgumentError, match="day must be a date"):
        compile_argument_schema(block).coerce_and_validate({"day": ["tomorrow"]}, {})


def test_invalid_request_schema_is_a_project_error():
    with pytest.raises(ProjectError, match="not a valid JSON Schema") as caught:
        compile_argument_schema(
            {"request_schema": {"type": "object", "properties": {"a": {"type": "int"}}}}, path="apis/a.yaml"
        )
    assert caught.value.path == "apis/a.yaml"


BOUNDED = compile_argument_schema(
    {
        "parameters": [
            {"name": "n", "in": "query", "schema": {"type": "integer", "minimum": -10, "maximum": 1000}}
        ]
    }
)
LISTED = compile_argument_schema(
    {"request_schema": {"properties": {"ids": {"type": "array", "items": {"type": "integer"}}}}}
)


@given(st.integers())
def test_integer_round_trips_and_bounds_hold(number):
    try:
        assert BOUNDED.coerce_and_validate({"n": [str(number)]}, {}) == {"n": number}
        assert -10 <= number <= 1000
    except ArgumentError as error:
        assert not -10 <= number <= 1000
        assert error.details == [
            {"arg": "n", "message": "must be <= 1000" if number > 0 else "must be >= -10"}
        ]


@given(st.lists(st.integers(), min_size=1))
def test_integer_list_from_repeated_or_comma_separated_values(numbers):
    texts = [str(number) for number in numbers]
    assert LISTED.coerce_and_validate({"ids": texts}, {}) == {"ids": numbers}
    assert LISTED.coerce_and_validate({"ids": [",".join(texts)]}, {}) == {"ids": numbers}


@given(st.text())
@example("0\x1f")  # whitespace to str.strip, not to int(): was a 500
def test_any_text_for_an_integer_is_a_value_or_one_violation(text):
    try:
        BOUNDED.coerce_and_validate({"n": [text]}, {})
    except ArgumentError as error:
        assert len(error.details) == 1 and error.details[0]["arg"] == "n"


@pytest.mark.parametrize("text", ["١٢", "１２", "0x10", "1_000", "1e3", ""])
def test_only_ascii_integer_literals_are_integers(text):
    with pytest.raises(ArgumentError, match="n must be an integer"):
        BOUNDED.coerce_and_validate({"n": [text]}, {})
