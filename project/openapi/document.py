"""The project's OpenAPI 3.0.3 document (SPEC §7), in the shape Rill gives its custom APIs.

API files write JSON Schema (2020-12); OpenAPI 3.0 has its own dialect. `to_openapi_schema` converts one way
for the document, `to_json_schema` the other way for validating arguments; `validate_openapi_block` checks an
API's `openapi:` block when the project loads.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import jsonschema

from project.errors import ProjectError

OPENAPI_VERSION = "3.0.3"
_COMPONENTS = "#/components/schemas/"
_LOCAL_DEFS = re.compile(r"^#/(?:\$defs|definitions)/([^/]+)(.*)$")
_COMPONENT_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_PARAMETER_PLACES = ("query", "header", "cookie")
_ERROR_SCHEMA = {"type": "object", "properties": {"error": {"type": "string"}}}

# Keywords whose value is a map of subschemas, a list of subschemas, or one subschema (or a list, for items).
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
# fmt: off
_SCHEMA_SINGLES = (
    "additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames", "additionalItems",
    "unevaluatedItems", "unevaluatedProperties",
)
# The Schema Object of OpenAPI 3.0; anything else but `x-` extensions is dropped from the document.
_OPENAPI_KEYWORDS = frozenset((
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
    "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "enum", "type",
    "not", "allOf", "oneOf", "anyOf", "items", "properties", "additionalProperties", "description", "format",
    "default", "nullable", "discriminator", "readOnly", "writeOnly", "example", "externalDocs", "deprecated", "xml",
    "$ref",
))
# fmt: on

Schema = Any  # a JSON Schema: a mapping, or a boolean
Converter = Callable[[Schema], Schema]


@dataclass(frozen=True)
class ApiDoc:
    """What the document needs of one API: its name, its `openapi:` block, if known its row schema, and the
    `.args` its template reads (documented when the block declares no parameters or request schema)."""

    name: str
    openapi: Mapping[str, Any] = field(default_factory=dict)
    inferred_response_schema: Mapping[str, Any] | None = None
    template_arguments: Sequence[str] = ()


def build_document(apis: Sequence[ApiDoc], *, title: str, server_url: str) -> dict:
    """The OpenAPI 3.0.3 document for a project's APIs: one path `/<name>` each, `$defs` in components."""
    paths: dict[str, dict] = {}
    schemas: dict[str, dict] = {}
    for api in sorted(apis, key=lambda api: api.name):
        paths[f"/{api.name}"] = _path_item(api, schemas)
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": "1.0.0"},
        "servers": [{"url": server_url}],
        "paths": paths,
    }
    if schemas:
        document["components"] = {"schemas": schemas}
    return document


def pascal_case(name: str) -> str:
    """`top-publishers` -> `TopPublishers`, as Rill names an API's components (`_`, `-` and space split words)."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[-_ ]+", name))


def to_openapi_schema(schema: Schema, *, prefix: str) -> tuple[dict, dict]:
    """A JSON Schema as OpenAPI 3.0 with root `$defs` moved out: (schema, {`<prefix><Name>`: definition})."""
    root = dict(schema) if isinstance(schema, Mapping) else {}
    definitions = {**root.pop("definitions", {}), **root.pop("$defs", {})}
    convert = _openapi_converter(prefix)
    components = {prefix + _component_name(name): convert(body) for name, body in definitions.items()}
    return convert(root), components


def to_json_schema(schema: Schema) -> Schema:
    """A copy of a schema with OpenAPI 3.0 spellings made JSON Schema: `nullable`, boolean `exclusive*`."""
    if not isinstance(schema, Mapping):
        return copy.deepcopy(schema)
    result = _map_subschemas(schema, to_json_schema)
    if result.pop("nullable", False) is True and "type" in result:
        types = [result["type"]] if isinstance(result["type"], str) else list(result["type"])
        result["type"] = types if "null" in types else [*types, "null"]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(result.get(exclusive), bool) and result.pop(exclusive) and bound in result:
            result[exclusive] = result.pop(bound)
    return result


def validate_openapi_block(block: Any, path: str) -> None:
    """Raise ProjectError for a malformed `openapi:` block, so that mistakes show when the project loads."""
    if block is None:
        return
    _expect(isinstance(block, Mapping), "openapi must be a mapping", path)
    for key in ("summary", "defs_prefix"):
        _expect(isinstance(block.get(key, ""), str), f"openapi.{key} must be a string", path)
    prefix = block.get("defs_prefix")
    _expect(
        not prefix or _COMPONENT_NAME.match(prefix),
        "openapi.defs_prefix may only hold A-Z a-z 0-9 . - _",
        path,
    )
    parameters = block.get("parameters", [])
    _expect(isinstance(parameters, list), "openapi.parameters must be a list of parameter objects", path)
    for index, parameter in enumerate(parameters):
        _check_parameter(parameter, f"openapi.parameters[{index}]", path)
    for key in ("request_schema", "response_schema"):
        if key in block:
            _check_schema(block[key], f"openapi.{key}", path)
    request_type = (block.get("request_schema") or {}).get("type", "object")
    _expect(request_type == "object", "openapi.request_schema must describe an object (type: object)", path)


def _path_item(api: ApiDoc, schemas: dict) -> dict:
    """The path item of one API: `post` with a request body when it has a request_schema, else `get`."""
    block = api.openapi or {}
    prefix = block.get("defs_prefix") or pascal_case(api.name)
    operation: dict[str, Any] = {"summary": block.get("summary") or f"Query {api.name} resolver"}
    if block.get("parameters"):
        operation["parameters"] = [_parameter(parameter, prefix) for parameter in block["parameters"]]
    elif api.template_arguments and not block.get("request_schema"):
        operation["parameters"] = [_read_argument(name) for name in api.template_arguments]
    if block.get("request_schema"):
        request, components = to_openapi_schema(block["request_schema"], prefix=prefix)
        schemas.update(components)
        operation["requestBody"] = {"content": _json_content(request)}
        if request.get(
            "required"
        ):  # a body without the required args is rejected: say so (3.0's default: optional)
            operation["requestBody"]["required"] = True
    row = block.get("response_schema") or api.inferred_response_schema or {"type": "object"}
    row, components = to_openapi_schema(row, prefix=prefix)
    schemas.update(components)
    operation["responses"] = _responses(api.name, row)
    return {"post" if "requestBody" in operation else "get": operation}


def _responses(name: str, row: dict) -> dict:
    """200 with an array of rows (and the other formats), 400 with the error object, as Rill describes them."""
    return {
        "200": {
            "description": f"Successful response of {name} resolver",
            "content": _answer_content(row),
        },
        "400": {"description": "Bad request", "content": _json_content(copy.deepcopy(_ERROR_SCHEMA))},
    }


def _answer_content(row: dict) -> dict:
    """Every format an answer comes in (SPEC §3.5): JSON first, as Rill documents it; the rest beyond Rill."""
    return {
        **_json_content({"type": "array", "items": row}),
        "application/x-ndjson": {"schema": copy.deepcopy(row)},
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        "application/vnd.apache.arrow.stream": {"schema": {"type": "string", "format": "binary"}},
    }


def _json_content(schema: dict) -> dict:
    """An `application/json` content map holding one schema."""
    return {"application/json": {"schema": schema}}


def _parameter(parameter: Mapping[str, Any], prefix: str) -> dict:
    """A parameter as given, its schemas converted; one without schema or content is documented as a string."""
    result = dict(parameter)
    convert = _openapi_converter(prefix)
    if "schema" in result or "content" not in result:
        result["schema"] = convert(result.get("schema", {"type": "string"}))
    if isinstance(result.get("content"), Mapping):
        result["content"] = {
            media_type: {**media, "schema": convert(media["schema"])} if "schema" in media else media
            for media_type, media in result["content"].items()
        }
    return result


def _read_argument(name: str) -> dict:
    """A query parameter for an argument the template reads: optional, and text, as it arrives undeclared."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": "Read by the API's query (not declared: passed on as text)",
        "schema": {"type": "string"},
    }


def _openapi_converter(prefix: str) -> Converter:
    """A function that converts one schema (and all below it) to OpenAPI 3.0, refs pointing at components."""

    def convert(schema: Schema) -> dict:
        if not isinstance(schema, Mapping):
            return {"not": {}} if schema is False else {}
        result = _map_subschemas(schema, convert)
        _rewrite_ref(result, prefix)
        _convert_keywords(result)
        return {
            key: value for key, value in result.items() if key in _OPENAPI_KEYWORDS or key.startswith("x-")
        }

    return convert


def _convert_keywords(schema: dict) -> None:
    """Rewrite, in place, the JSON Schema keywords that OpenAPI 3.0 spells differently or lacks."""
    if isinstance(schema.get("type"), list) or schema.get("type") == "null":
        _convert_type_list(schema)
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(schema.get(exclusive), (int, float)) and not isinstance(schema[exclusive], bool):
            schema[bound], schema[exclusive] = schema.pop(exclusive), True
    if isinstance(schema.get("examples"), list) and schema["examples"] and "example" not in schema:
        schema["example"] = schema["examples"][0]
    if isinstance(schema.get("items"), list):
        schema["items"] = {"anyOf": schema["items"]} if schema["items"] else {}
    if schema.get("type") == "array" and "items" not in schema:
        schema["items"] = {"anyOf": schema["prefixItems"]} if schema.get("prefixItems") else {}
    if schema.get("required") == []:
        del schema["required"]


def _convert_type_list(schema: dict) -> None:
    """`type: [T, "null"]` -> `type: T, nullable: true`; several types -> `anyOf` of one type each."""
    declared = schema.pop("type")
    types = [declared] if isinstance(declared, str) else list(declared)
    if "null" in types:
        schema["nullable"] = True
        types.remove("null")
    if len(types) == 1:
        schema["type"] = types[0]
    elif types:
        schema["anyOf"] = [*schema.get("anyOf", []), *({"type": name} for name in types)]


def _rewrite_ref(schema: dict, prefix: str) -> None:
    """Point a `$ref` into the schema's own `$defs` at the hoisted component instead."""
    match = _LOCAL_DEFS.match(schema.get("$ref", "")) if isinstance(schema.get("$ref"), str) else None
    if match:
        name = unquote(match[1]).replace("~1", "/").replace("~0", "~")
        schema["$ref"] = f"{_COMPONENTS}{prefix}{_component_name(name)}{match[2]}"


def _component_name(name: str) -> str:
    """A `$defs` name made valid as a component key (OpenAPI allows only A-Z a-z 0-9 . - _)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _map_subschemas(schema: Mapping[str, Any], convert: Converter) -> dict:
    """A shallow copy of a schema with `convert` applied to each direct subschema, wherever keywords hold one."""
    result = dict(schema)
    for key, value in result.items():
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            result[key] = {name: convert(subschema) for name, subschema in value.items()}
        elif key in (*_SCHEMA_LISTS, *_SCHEMA_SINGLES) and isinstance(value, list):
            result[key] = [convert(subschema) for subschema in value]
        elif key in _SCHEMA_SINGLES:
            result[key] = convert(value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _check_parameter(parameter: Any, where: str, path: str) -> None:
    """A parameter object needs a string name, a supported `in`, and, if given, a schema mapping."""
    _expect(isinstance(parameter, Mapping), f"{where} must be a mapping", path)
    _expect(isinstance(parameter.get("name"), str), f"{where}.name must be a string", path)
    place = parameter.get("in")
    _expect(place != "path", f"{where}: path parameters are not supported (an API's URL has none)", path)
    _expect(place in _PARAMETER_PLACES, f"{where}.in must be one of: {', '.join(_PARAMETER_PLACES)}", path)
    _expect(
        isinstance(parameter.get("required", False), bool), f"{where}.required must be true or false", path
    )
    if "schema" in parameter:
        _check_schema(parameter["schema"], f"{where}.schema", path)


def _check_schema(schema: Any, where: str, path: str) -> None:
    """A schema must be a mapping that is valid JSON Schema of its `$schema` draft (default 2020-12)."""
    _expect(isinstance(schema, Mapping), f"{where} must be a mapping (a JSON Schema object)", path)
    try:
        converted = to_json_schema(schema)
        jsonschema.validators.validator_for(converted, default=jsonschema.Draft202012Validator).check_schema(
            converted
        )
    except jsonschema.SchemaError as error:
        place = "".join(f"[{part!r}]" for part in error.absolute_path)
        raise ProjectError(f"{where}{place} is not a valid JSON Schema: {error.message}", path=path) from None


def _expect(condition: Any, message: str, path: str) -> None:
    """Raise a ProjectError with the message unless the condition holds."""
    if not condition:
        raise ProjectError(message, path=path)
