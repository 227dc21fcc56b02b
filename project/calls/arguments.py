"""Typed arguments (SPEC §3.2): query strings coerced to declared types, defaults filled, args validated.

An API that declares `openapi.request_schema` or `openapi.parameters` gets an `ArgumentSchema`, compiled once
when the project loads; each request then calls `coerce_and_validate`. All violations are reported at once.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from project.errors import ArgumentError, ProjectError
from project.openapi.document import to_json_schema

_INTEGER = re.compile(r"^[+-]?\d+$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII)
_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "string": "a string",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


class _CoercionError(ValueError):
    """A query string that cannot become the declared type; the message is the user's."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: the top-level argument it concerns and a short message (`must be <= 1000`)."""

    arg: str
    message: str


@dataclass(frozen=True)
class ArgumentSchema:
    """The compiled argument rules of one API: a JSON Schema for the args object and its validator."""

    schema: Mapping[str, Any]
    validator: Validator

    @property
    def properties(self) -> Mapping[str, Any]:
        """The declared arguments, by name."""
        return self.schema.get("properties", {})

    def coerce_and_validate(self, query: Mapping[str, list[str]], body: Mapping[str, Any]) -> dict[str, Any]:
        """Query laid over body, query strings coerced, defaults filled, then validated; raises ArgumentError."""
        args = dict(body)
        violations = []
        for name, values in query.items():
            if not values:
                continue
            try:
                args[name] = self._coerce(name, values)
            except _CoercionError as error:
                args[name] = values[0] if values else ""
                violations.append(Violation(name, str(error)))
        self._fill_defaults(args)
        failed = {violation.arg for violation in violations}
        violations += [v for v in _violations(self.validator, self.schema, args) if v.arg not in failed]
        if violations:
            raise _argument_error(violations)
        return args

    def _coerce(self, name: str, values: list[str]) -> Any:
        """One query key's values as the declared type (the first value unless the type is array)."""
        rule = self.properties.get(name)
        if not isinstance(rule, Mapping):
            return values[0]
        if "array" in _types_of(rule):
            return _coerce_list(values, rule.get("items", {}))
        return _coerce_value(values[0], rule)

    def _fill_defaults(self, args: dict[str, Any]) -> None:
        """Fill in the declared default of each argument the caller left out."""
        for name, rule in self.properties.items():
            if name not in args and isinstance(rule, Mapping) and "default" in rule:
                args[name] = copy.deepcopy(rule["default"])


def compile_argument_schema(block: Mapping[str, Any], *, path: str | None = None) -> ArgumentSchema | None:
    """Compile an API's `openapi:` block into argument rules; None when it declares neither schema nor parameters."""
    block = block or {}
    if not block.get("request_schema") and not block.get("parameters"):
        return None
    schema = _merge_parameters(
        to_json_schema(block.get("request_schema") or {}), block.get("parameters") or []
    )
    schema.setdefault("type", "object")
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as error:
        raise ProjectError(
            f"openapi.request_schema is not a valid JSON Schema: {error.message}", path=path
        ) from None
    return ArgumentSchema(schema, validator_class(schema, format_checker=_format_checker()))


def _merge_parameters(schema: dict[str, Any], parameters: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Add each `in: query` parameter with a schema as a property (the request_schema's own wins)."""
    properties = schema.setdefault("properties", {})
    required = list(schema.get("required", []))
    for parameter in parameters:
        if parameter.get("in") != "query" or "name" not in parameter:
            continue
        name = parameter["name"]
        if "schema" in parameter:
            properties.setdefault(name, to_json_schema(parameter["schema"]))
        if parameter.get("required") is True and name not in required:
            required.append(name)
    if required:
        schema["required"] = required
    return schema


def _types_of(rule: Any) -> list[str]:
    """The declared type names of a property, [] when it declares none."""
    declared = rule.get("type") if isinstance(rule, Mapping) else None
    if isinstance(declared, str):
        return [declared]
    return [name for name in declared or [] if isinstance(name, str)]


def _coerce_list(values: list[str], items: Any) -> list[Any]:
    """All values of a repeated key, or the parts of one comma-separated value, each coerced."""
    parts = values[0].split(",") if len(values) == 1 else values
    if values == [""]:
        parts = []
    coerced = []
    for index, part in enumerate(parts):
        try:
            coerced.append(_coerce_value(part, items))
        except _CoercionError as error:
            raise _CoercionError(f"[{index}] {error}") from None
    return coerced


def _coerce_value(text: str, rule: Any) -> Any:
    """A query string as the (first non-null) declared scalar type; unchanged for other types."""
    types = _types_of(rule)
    if "null" in types and text == "null":
        return None
    if "string" in types or not types:
        return text
    kind = types[0] if types[0] != "null" or len(types) == 1 else types[1]
    return _SCALAR_COERCIONS.get(kind, lambda value: value)(text)


def _to_integer(text: str) -> int:
    """Integer query value: optional sign and digits only."""
    stripped = text.strip()  # Python's whitespace, which is more than int() skips (e.g. "\x1f")
    if not _INTEGER.match(stripped):
        raise _CoercionError("must be an integer")
    return int(stripped)


def _to_number(text: str) -> int | float:
    """Number query value; an integer literal stays an int so that `5` renders as `5`, not `5.0`."""
    stripped = text.strip()
    if _INTEGER.match(stripped):
        return int(stripped)
    if not _NUMBER.match(stripped):
        raise _CoercionError("must be a number")
    return float(stripped)


def _to_boolean(text: str) -> bool:
    """Boolean query value: true/false/1/0, any letter case."""
    try:
        return _BOOLEANS[text.strip().lower()]
    except KeyError:
        raise _CoercionError("must be a boolean (true, false, 1 or 0)") from None


_SCALAR_COERCIONS = {"integer": _to_integer, "number": _to_number, "boolean": _to_boolean}


def _format_checker() -> jsonschema.FormatChecker:
    """jsonschema's format checks, with date and date-time checked here (no optional packages needed)."""
    checker = jsonschema.FormatChecker()
    checker.checks("date", raises=ValueError)(_is_date)
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


def _is_date(value: Any) -> bool:
    """A full-date of RFC 3339: `2024-02-29`."""
    return not isinstance(value, str) or bool(_DATE.match(value) and datetime.date.fromisoformat(value))


def _is_date_time(value: Any) -> bool:
    """A date-time of RFC 3339, with its offset: `2024-02-29T10:00:00Z`."""
    if not isinstance(value, str):
        return True
    return bool(_DATE_TIME.match(value) and datetime.datetime.fromisoformat(value.upper().replace(" ", "T")))


def _violations(
    validator: Validator, schema: Mapping[str, Any], args: Mapping[str, Any]
) -> Iterator[Violation]:
    """Each schema violation of the args, one per argument and rule."""
    for error in validator.iter_errors(args):
        if error.path:
            arg, *rest = error.path
            yield Violation(str(arg), _located(rest, _message(error)))
        elif error.validator == "required":
            yield from (Violation(name, "is required") for name in error.validator_value if name not in args)
        elif error.validator == "additionalProperties":
            yield from (Violation(name, "is not allowed") for name in _unexpected(schema, args))
        else:
            yield Violation("", _message(error))


def _unexpected(schema: Mapping[str, Any], args: Mapping[str, Any]) -> list[str]:
    """Args neither declared as properties nor matched by patternProperties."""
    patterns = list(schema.get("patternProperties", {}))
    declared = schema.get("properties", {})
    return [name for name in args if name not in declared and not any(re.search(p, name) for p in patterns)]


def _located(path: list[Any], message: str) -> str:
    """Prefix a message with the place inside the argument: `[1] must be an integer`, `.a must be ...`."""
    place = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
    return f"{place} {message}" if place else message


def _message(error: jsonschema.ValidationError) -> str:
    """A short human message for one broken keyword."""
    keyword, value = error.validator, error.validator_value
    describe = _KEYWORD_MESSAGES.get(str(keyword))
    return describe(value) if describe else error.message


def _type_message(value: Any) -> str:
    """`must be an integer`, or `must be an integer or null` for a list of types."""
    names = [value] if isinstance(value, str) else value
    return "must be " + " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def _format_message(value: str) -> str:
    """What a value of a format looks like."""
    examples = {
        "date": "a date (YYYY-MM-DD)",
        "date-time": "a date-time (RFC 3339, e.g. 2024-01-31T10:00:00Z)",
    }
    return f"must be {examples.get(value, 'a valid ' + value)}"


def _literal(value: Any) -> str:
    """A value as it appears in a message: strings bare, others as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


_KEYWORD_MESSAGES = {
    "type": _type_message,
    "enum": lambda value: "must be one of: " + ", ".join(_literal(item) for item in value),
    "const": lambda value: f"must be {_literal(value)}",
    "minimum": lambda value: f"must be >= {value}",
    "maximum": lambda value: f"must be <= {value}",
    "exclusiveMinimum": lambda value: f"must be > {value}",
    "exclusiveMaximum": lambda value: f"must be < {value}",
    "multipleOf": lambda value: f"must be a multiple of {value}",
    "minLength": lambda value: f"must be at least {value} characters long",
    "maxLength": lambda value: f"must be at most {value} characters long",
    "pattern": lambda value: f"must match the pattern {value}",
    "format": _format_message,
    "minItems": lambda value: f"must have at least {value} items",
    "maxItems": lambda value: f"must have at most {value} items",
    "uniqueItems": lambda value: "must not contain duplicates",
}


def _argument_error(violations: list[Violation]) -> ArgumentError:
    """One ArgumentError listing every violation, ordered by argument name."""
    ordered = sorted(dict.fromkeys(violations), key=lambda violation: violation.arg)
    summary = "; ".join(_sentence(violation) for violation in ordered)
    details = [{"arg": violation.arg, "message": violation.message} for violation in ordered]
    return ArgumentError(f"invalid arguments: {summary}", details=details)


def _sentence(violation: Violation) -> str:
    """`limit must be <= 1000`, `ids[1] must be an integer`, or the bare message for the whole object."""
    if not violation.arg:
        return violation.message
    joiner = "" if violation.message[:1] in "[." else " "
    return f"{violation.arg}{joiner}{violation.message}"
