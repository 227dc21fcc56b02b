"""Sprig's conversion, math, JSON, encoding, regex and semver functions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .printing import float_digits

INTEGER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]*|[1-9][0-9_]*)")
SEMVER = re.compile(
    r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
GROUP_REFERENCE = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))")


def parse_int(text: str) -> int:
    """strconv.ParseInt(s, 0, 64) after cast's trimming of `.000`; raises ValueError."""
    text = re.sub(r"\.0*$", "", text) if re.fullmatch(r"[^.]*\.0+", text) else text
    if not INTEGER.fullmatch(text):
        raise ValueError(text)
    digits = text.lstrip("+-").replace("_", "")
    value = int(digits, 8) if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit() else int(digits, 0)
    return -value if text.startswith("-") else value


def to_int64(value: Any) -> int:
    """cast.ToInt64: numbers truncated, bools 1/0, strings parsed (0x, 0o, 0b, leading 0 octal), else 0."""
    if isinstance(value, (bool, int)):
        return int(value)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        try:
            return parse_int(value)
        except ValueError:
            return 0
    return 0


def to_float64(value: Any) -> float:
    """cast.ToFloat64: numbers, bools 1/0, strings parsed as floats, else 0."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return 0.0
    return 0.0


def atoi(text: str) -> int:
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else 0


def go_div(left: int, right: int) -> int:
    """Go's integer division: truncates toward zero."""
    if right == 0:
        raise ZeroDivisionError("runtime error: integer divide by zero")
    quotient = abs(left) // abs(right)
    return quotient if (left < 0) == (right < 0) else -quotient


def add(*values: Any) -> int:
    return sum(to_int64(value) for value in values)


def sub(left: Any, right: Any) -> int:
    return to_int64(left) - to_int64(right)


def mul(first: Any, *values: Any) -> int:
    return math.prod((to_int64(first), *(to_int64(value) for value in values)))


def div(left: Any, right: Any) -> int:
    return go_div(to_int64(left), to_int64(right))


def mod(left: Any, right: Any) -> int:
    left, right = to_int64(left), to_int64(right)
    return left - go_div(left, right) * right


def biggest(first: Any, *values: Any) -> int:
    return max(to_int64(value) for value in (first, *values))


def smallest(first: Any, *values: Any) -> int:
    return min(to_int64(value) for value in (first, *values))


def floor(value: Any) -> float:
    return float(math.floor(to_float64(value)))


def ceil(value: Any) -> float:
    return float(math.ceil(to_float64(value)))


def round_(value: Any, places: int, *round_on: float) -> float:
    """Sprig's round: half up at `round_on` (default .5) of the digit after `places`."""
    power = math.pow(10, places)
    digit = power * to_float64(value)
    fraction = math.modf(digit)[0]
    return (math.ceil(digit) if fraction >= (round_on[0] if round_on else 0.5) else math.floor(digit)) / power


def json_float(value: float) -> str:
    """encoding/json's float64: shortest digits, exponent only below 1e-6 or from 1e21."""
    if not math.isfinite(value):
        raise ValueError(f"json: unsupported value: {value}")
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        sign, digits, point = float_digits(value) if value else ("", "0", 1)
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        whole, fraction = (digits + "0" * point)[:point], digits[point:]
        return sign + whole + ("." + fraction if fraction else "")
    text = repr(value).replace("e-0", "e-")
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa.removesuffix('.0')}e{'' if exponent.startswith('-') else '+'}{exponent.lstrip('+')}"


def go_json(value: Any) -> str:
    """encoding/json.Marshal: sorted map keys, no spaces, `<>&` escaped."""
    if value is None or isinstance(value, (bool, int)):
        return json.dumps(value)
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, str):
        return "".join(JSON_ESCAPES.get(char, char) for char in json.dumps(value, ensure_ascii=False))
    if isinstance(value, datetime):
        return go_json(value.isoformat().replace("+00:00", "Z"))
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_json(str(key))}:{go_json(value[key])}" for key in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    raise ValueError(f"json: unsupported type: {type(value).__name__}")


def to_json(value: Any) -> str:
    """`toJson`: the JSON text, or "" when the value cannot be encoded (as Sprig)."""
    try:
        return go_json(value)
    except ValueError:
        return ""


def from_json(text: str) -> Any:
    """`fromJson`: the decoded value, or nil for bad JSON (as Sprig)."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def b64dec(text: str) -> str:
    """`b64dec`: the decoded text, or Go's error message as the text (as Sprig)."""
    try:
        return base64.b64decode(text, validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        bad = next((i for i, char in enumerate(text) if not (char.isalnum() or char in "+/=")), len(text))
        return f"illegal base64 data at input byte {bad}"


def regex_replace_all(pattern: str, text: str, replacement: str) -> str:
    """`regexReplaceAll`: Go's `$1`/`${name}` references in the replacement."""
    return re.sub(
        pattern, lambda found: GROUP_REFERENCE.sub(lambda ref: expand_in(found, ref), replacement), text
    )


def expand_in(found: re.Match, reference: re.Match) -> str:
    """One `$name` of a replacement for one match (unknown groups are empty, as in Go)."""
    if reference.group(3):
        return "$"
    name = reference.group(1) or reference.group(2)
    try:
        return found.group(int(name) if name.isdigit() else name) or ""
    except (IndexError, re.error):
        return ""


def regex_find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return match.group() if match else ""


class SemVer(dict):
    """A parsed semantic version: fields Major, Minor, Patch, Prerelease, Metadata, Original."""

    def go_string(self) -> str:
        text = f"{self['Major']}.{self['Minor']}.{self['Patch']}"
        text += f"-{self['Prerelease']}" if self["Prerelease"] else ""
        return text + (f"+{self['Metadata']}" if self["Metadata"] else "")


def semver(version: str) -> SemVer:
    """`semver "1.2.3-beta"`: Masterminds semver's NewVersion (missing minor/patch are 0)."""
    match = SEMVER.fullmatch(version)
    if match is None:
        raise ValueError("Invalid Semantic Version")
    major, minor, patch, prerelease, metadata = match.groups()
    return SemVer(
        Major=int(major),
        Minor=int((minor or ".0")[1:]),
        Patch=int((patch or ".0")[1:]),
        Prerelease=prerelease or "",
        Metadata=metadata or "",
        Original=version,
    )


def to_int(value: Any) -> int:
    return to_int64(value)


def b64enc(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sha256sum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def regex_match(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


def uuidv4() -> str:
    return str(uuid.uuid4())


DATA: dict[str, Callable] = {
    "int": to_int,
    "int64": to_int64,
    "float64": to_float64,
    "atoi": atoi,
    "add": add,
    "sub": sub,
    "mul": mul,
    "div": div,
    "mod": mod,
    "max": biggest,
    "min": smallest,
    "floor": floor,
    "ceil": ceil,
    "round": round_,
    "toJson": to_json,
    "fromJson": from_json,
    "b64enc": b64enc,
    "b64dec": b64dec,
    "sha256sum": sha256sum,
    "uuidv4": uuidv4,
    "regexMatch": regex_match,
    "regexFind": regex_find,
    "regexReplaceAll": regex_replace_all,
    "semver": semver,
}
