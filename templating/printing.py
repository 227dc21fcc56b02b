"""Go's value printing (`%v`, fmt.Sprint, fmt.Sprintln) for template data. A whole JSON number is an integer
in Sluice's data (not Go's float64), so `12345678` prints as written; floats print exactly as in Go."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from .values import MISSING, Tainted


def format_float(value: float) -> str:
    """Go's `%v` of a float64 (strconv 'g', shortest: exponent from 1e+21 and below 1e-4)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, point = float_digits(value)
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def float_digits(value: float) -> tuple[str, str, int]:
    """Sign, shortest round-trip digits and decimal point position of a finite float."""
    text = repr(abs(value))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len((whole + fraction).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    return ("-" if math.copysign(1, value) < 0 else ""), digits, point


def format_value(value: Any) -> str:
    """Go's `%v` of a value nested in data: nil is `<nil>`, lists `[a b]`, maps `map[k:v]` by sorted key."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return format_float(value)
    if isinstance(value, dict) and not hasattr(value, "go_string"):
        return (
            "map["
            + " ".join(
                f"{format_value(key)}:{format_value(value[key])}" for key in sorted(value, key=sort_key)
            )
            + "]"
        )
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_value(item) for item in value) + "]"
    return format_other(value)


def format_other(value: Any) -> str:
    """`%v` of the less common values: nil, no value, taint, times, Stringers and Python subclasses."""
    if value is None:
        return "<nil>"
    if value is MISSING:
        return "<no value>"
    if type(value) is Tainted:
        return format_value(value.value)
    if hasattr(value, "go_string"):
        return value.go_string()
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_value(int(value) if isinstance(value, int) else float(value))
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, complex):
        imaginary = format_float(value.imag)
        return f"({format_float(value.real)}{'' if imaginary[0] in '+-' else '+'}{imaginary}i)"
    if hasattr(value, "go_string"):
        return value.go_string()
    return str(value)


def format_time(value: datetime) -> str:
    """Go's time.Time String(): `2006-01-02 15:04:05.999999999 -0700 MST`."""
    fraction = f".{value.microsecond:06d}".rstrip("0").rstrip(".")
    offset = value.strftime("%z") or "+0000"
    zone = value.tzname() or "UTC"
    if zone.startswith("UTC") and zone != "UTC":
        zone = offset
    return f"{value.year:04d}-{value:%m-%d %H:%M:%S}{fraction} {offset} {zone}"


def sort_key(key: Any) -> Any:
    """Map keys sort like Go's fmt: numbers by value, strings by bytes, mixed kinds by type name."""
    return (type(key).__name__, key) if not isinstance(key, (int, float)) else ("", key)


def print_action(value: Any) -> str:
    """The text of an action's value: Go prints nil and missing values as `<no value>`."""
    if value is None or value is MISSING:
        return "<no value>"
    return format_value(value)


def sprint(*args: Any) -> str:
    """fmt.Sprint: operands joined, with a space between two operands when neither is a string."""
    parts = []
    for index, arg in enumerate(args):
        if index and not isinstance(arg, str) and not isinstance(args[index - 1], str):
            parts.append(" ")
        parts.append(format_value(arg))
    return "".join(parts)


def sprintln(*args: Any) -> str:
    """fmt.Sprintln: operands always separated by spaces, then a newline."""
    return " ".join(format_value(arg) for arg in args) + "\n"
