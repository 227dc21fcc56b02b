"""Sprig's numbers: cast's conversions, int64 math that wraps like Go, decimal float math, ranges."""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .budget import check_size
from .lexer import parse_go_int
from .printing import format_value
from .values import INT64_MAX, INT64_MIN, GoInt, IntList, wrap64


def trim_zero_decimal(text: str) -> str:
    """cast's trimZeroDecimal: `12.000` -> `12`."""
    found_zero = False
    for index in range(len(text), 0, -1):
        char = text[index - 1]
        if char == ".":
            return text[: index - 1] if found_zero else text
        if char != "0":
            return text
        found_zero = True
    return text


def float_to_int64(value: float) -> int:
    """Go's int64(f) on amd64: truncation; NaN, infinities and out-of-range give the minimum int64."""
    if not math.isfinite(value) or not INT64_MIN <= value < 2.0**63:
        return INT64_MIN
    return int(value)


def parse_int64(text: str) -> int | None:
    """strconv.ParseInt(s, 0, 64): None when the text is not an integer or is out of range."""
    value = parse_go_int(text)
    return value if value is not None and INT64_MIN <= value <= INT64_MAX else None


def to_int64(value: Any) -> int:
    """cast.ToInt64: numbers truncated, bools 1/0, strings parsed with base 0, anything else 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return wrap64(int(value))
    if isinstance(value, float):
        return float_to_int64(value)
    if isinstance(value, str):
        return parse_int64(trim_zero_decimal(value)) or 0
    return 0


def parse_float64(text: str) -> float | None:
    """strconv.ParseFloat(s, 64), with Go's spellings of infinity and NaN; None when invalid."""
    body = text.lstrip("+-")
    if body.lower() in ("inf", "infinity", "nan"):
        value = float(body)
        return -value if text.startswith("-") else value
    from .lexer import parse_go_float

    if body[:2].lower() == "0x" and "p" not in body.lower():
        return None
    return parse_go_float(text)


def to_float64(value: Any) -> float:
    """cast.ToFloat64: numbers, bools 1/0, strings parsed as floats, anything else 0."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        parsed = parse_float64(value)
        return 0.0 if parsed is None else parsed
    return 0.0


def to_int(value: Any) -> GoInt:
    """`int`: cast.ToInt, a Go int."""
    return GoInt(to_int64(value))


def atoi(text: str) -> GoInt:
    """strconv.Atoi: decimal digits with an optional sign; 0 when invalid or out of range."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return GoInt(0)
    value = int(text)
    return GoInt(value if INT64_MIN <= value <= INT64_MAX else 0)


def go_div(left: int, right: int) -> int:
    """Go's integer division: truncates toward zero; the minimum divided by -1 wraps."""
    if right == 0:
        raise ZeroDivisionError("runtime error: integer divide by zero")
    quotient = abs(left) // abs(right)
    return wrap64(quotient if (left < 0) == (right < 0) else -quotient)


def add(*values: Any) -> int:
    return wrap64(sum(to_int64(value) for value in values))


def add1(value: Any) -> int:
    return wrap64(to_int64(value) + 1)


def sub(left: Any, right: Any) -> int:
    return wrap64(to_int64(left) - to_int64(right))


def mul(first: Any, *values: Any) -> int:
    product = to_int64(first)
    for value in values:
        product = wrap64(product * to_int64(value))
    return product


def div(left: Any, right: Any) -> int:
    return go_div(to_int64(left), to_int64(right))


def mod(left: Any, right: Any) -> int:
    left, right = to_int64(left), to_int64(right)
    return wrap64(left - go_div(left, right) * right)


def biggest(first: Any, *values: Any) -> int:
    return max(to_int64(value) for value in (first, *values))


def smallest(first: Any, *values: Any) -> int:
    return min(to_int64(value) for value in (first, *values))


def go_max(left: float, right: float) -> float:
    """math.Max: NaN wins, +0 beats -0."""
    if math.isnan(left) or math.isnan(right):
        return math.nan
    if left == right == 0:
        return left if math.copysign(1, left) > 0 else right
    return max(left, right)


def go_min(left: float, right: float) -> float:
    if math.isnan(left) or math.isnan(right):
        return math.nan
    if left == right == 0:
        return left if math.copysign(1, left) < 0 else right
    return min(left, right)


def maxf(first: Any, *values: Any) -> float:
    result = to_float64(first)
    for value in values:
        result = go_max(result, to_float64(value))
    return result


def minf(first: Any, *values: Any) -> float:
    result = to_float64(first)
    for value in values:
        result = go_min(result, to_float64(value))
    return result


def decimal_of(value: Any) -> Fraction:
    """shopspring's NewFromFloat: the shortest decimal that reads back as the float (panics on NaN/Inf)."""
    number = to_float64(value)
    if not math.isfinite(number):
        raise ValueError(f"Cannot create a Decimal from {format_value(number)}")
    return Fraction(repr(number))


def divide(left: Fraction, right: Fraction) -> Fraction:
    """shopspring's Div: the quotient rounded half away from zero to 16 decimal places."""
    if right == 0:
        raise ZeroDivisionError("decimal division by 0")
    scaled = left / right * 10**16
    whole = math.floor(abs(scaled) + Fraction(1, 2))
    return Fraction(whole if scaled >= 0 else -whole, 10**16)


def decimal_op(first: Any, rest: tuple, operation: Callable[[Fraction, Fraction], Fraction]) -> float:
    """Sprig's execDecimalOp: exact decimal arithmetic, then the nearest float64."""
    result = decimal_of(first)
    for value in rest:
        result = operation(result, decimal_of(value))
    return float(result)


def addf(*values: Any) -> float:
    return decimal_op(0.0, values, lambda a, b: a + b)


def add1f(value: Any) -> float:
    return decimal_op(value, (1,), lambda a, b: a + b)


def subf(first: Any, *values: Any) -> float:
    return decimal_op(first, values, lambda a, b: a - b)


def mulf(first: Any, *values: Any) -> float:
    return decimal_op(first, values, lambda a, b: a * b)


def divf(first: Any, *values: Any) -> float:
    return decimal_op(first, values, divide)


def floor(value: Any) -> float:
    number = to_float64(value)
    return float(math.floor(number)) if math.isfinite(number) else number


def ceil(value: Any) -> float:
    number = to_float64(value)
    return float(math.ceil(number)) if math.isfinite(number) else number


def round_(value: Any, places: int, *round_on: float) -> float:
    """Sprig's round: up when the fraction after `places` digits reaches round_on (default .5)."""
    power = math.pow(10, places)
    digit = power * to_float64(value)
    if not math.isfinite(digit):
        return digit / power if math.isfinite(power) and power else math.nan
    fraction = math.modf(digit)[0]
    rounded = math.ceil(digit) if fraction >= (round_on[0] if round_on else 0.5) else math.floor(digit)
    return rounded / power


def to_decimal(value: Any) -> int:
    """`toDecimal`: the value's text read as an octal number (0 when it is not one)."""
    text = format_value(value)
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not all(char in "01234567" for char in digits):
        return 0
    number = int(digits, 8) * (-1 if text.startswith("-") else 1)
    return number if INT64_MIN <= number <= INT64_MAX else 0


def until_step(start: int, stop: int, step: int) -> IntList:
    """`untilStep 0 10 3`: [0 3 6 9]; an empty list when the step goes the wrong way."""
    if step != 0:
        check_size(len(range(start, stop, step)))
    if stop < start:
        return IntList(GoInt(i) for i in range(start, stop, step)) if step < 0 else IntList()
    return IntList(GoInt(i) for i in range(start, stop, step)) if step > 0 else IntList()


def until(count: int) -> IntList:
    return until_step(0, count, 1 if count >= 0 else -1)


def seq(*params: int) -> str:
    """`seq 5`, `seq 2 5`, `seq 0 2 10`: the numbers like GNU seq, space separated."""
    if len(params) == 1:
        end, start = params[0], 1
        step = -1 if end < start else 1
        return " ".join(str(i) for i in until_step(start, end + step, step))
    if len(params) == 2:
        start, end = params
        step = -1 if end < start else 1
        return " ".join(str(i) for i in until_step(start, end + step, step))
    if len(params) == 3:
        start, step, end = params
        increment = 1
        if end < start:
            increment = -1
            if step > 0:
                return ""
        return " ".join(str(i) for i in until_step(start, end + increment, step))
    return ""


def rand_int(low: int, high: int) -> GoInt:
    """`randInt 3 7`: a random int in [low, high) (Go's rand.Intn panics for an empty range)."""
    if high - low <= 0:
        raise ValueError("invalid argument to Intn")
    return GoInt(low + secrets.randbelow(high - low))


def int64_(value: Any) -> int:
    return to_int64(value)


MATH: dict[str, Callable] = {
    "int": to_int,
    "int64": int64_,
    "float64": to_float64,
    "atoi": atoi,
    "add": add,
    "add1": add1,
    "sub": sub,
    "mul": mul,
    "div": div,
    "mod": mod,
    "max": biggest,
    "biggest": biggest,
    "min": smallest,
    "maxf": maxf,
    "minf": minf,
    "addf": addf,
    "add1f": add1f,
    "subf": subf,
    "mulf": mulf,
    "divf": divf,
    "floor": floor,
    "ceil": ceil,
    "round": round_,
    "toDecimal": to_decimal,
    "until": until,
    "untilStep": until_step,
    "seq": seq,
    "randInt": rand_int,
}
