"""Values the engine knows beyond plain data: caller-controlled (tainted) values, safe text, no value.

Caller data is whatever arrives wrapped in `Tainted` (Sluice wraps `.args` and `.user`). Everything derived
from it stays tainted wherever it flows, and tainted text is only ever printed through `emit`:
- field access, `index` and `range` keep the wrapper: a range over a tainted map gives tainted *keys* as
  well as tainted elements (list positions stay plain ints: the engine made them, they are digits);
- a function called with any tainted argument (at any depth) returns a tainted result (see `calls`);
- nothing plain ever holds caller data: functions get unwrapped *copies*, so one that mutates an argument
  (Sprig's `set`, `merge`) cannot slip caller data into a project value.
Booleans from comparisons of caller data are tainted too (they print as markers); steering `if` by them is
allowed: control flow only chooses among texts the project wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any


class Tainted:
    """A value controlled by the caller, with where it came from (`args.domain`); printing it goes via emit."""

    __slots__ = ("source", "value")

    def __init__(self, value: Any, source: str) -> None:
        self.value = value
        self.source = source

    def __repr__(self) -> str:
        return f"Tainted({self.value!r}, {self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tainted) and (self.value, self.source) == (other.value, other.source)

    __hash__ = None  # type: ignore[assignment]  # unhashable, as Python makes a class with __eq__; typeshed wants a method


class SafeText(str):
    """Text a function returns to be printed verbatim: trusted only from a raw_args function (which saw the
    caller's data wrapped and printed it through emit); from any other function tainted input taints it."""

    __slots__ = ()


class NoValue:
    """Go's invalid value: what a missing map key gives; false, prints `<no value>`."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<no value>"


MISSING = NoValue()

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class GoInt(int):
    """Go's `int` (number literals, len, atoi, range indexes). A plain Python int is Go's int64: whole JSON
    numbers of the data and Sprig's integer math. The two print alike; types, DeepEqual and typed parameters
    tell them apart, as in Go."""

    __slots__ = ()


class StringList(list):
    """Go's []string (splitList, sortAlpha, regexFindAll, keys, toStrings)."""

    __slots__ = ()
    go_name = "[]string"


class IntList(list):
    """Go's []int (until, untilStep)."""

    __slots__ = ()
    go_name = "[]int"


class ListList(list):
    """Go's [][]interface {} (chunk)."""

    __slots__ = ()
    go_name = "[][]interface {}"


class NilMap(dict):
    """Go's nil map (nil passed for a map parameter): reads as empty, writing to it is Go's panic."""

    __slots__ = ()
    go_name = "map[string]interface {}"

    def __setitem__(self, key: Any, value: Any) -> None:
        raise ValueError("assignment to entry in nil map")


class StringMap(dict):
    """Go's map[string]string (split, splitn)."""

    __slots__ = ()
    go_name = "map[string]string"


class Uint64(int):
    """Go's uint64 (a version's Major, Minor and Patch)."""

    __slots__ = ()
    go_name = "uint64"
    go_kind = "uint64"


class Uint32(int):
    """Marks a parameter of Go type uint32 (derivePassword's counter)."""

    __slots__ = ()


def wrap64(value: int) -> int:
    """An integer wrapped to int64 as Go's arithmetic does (9223372036854775807 + 1 is the minimum)."""
    if INT64_MIN <= value <= INT64_MAX:
        return value
    return (value - INT64_MIN) % (1 << 64) + INT64_MIN


def template_function(raw_args: bool = False, wants_state: bool = False) -> Callable:
    """Mark a function given through `functions=`: raw_args gets Tainted wrappers; wants_state gets the state."""

    def mark(function: Callable) -> Callable:
        return marked(function, template_raw_args=raw_args, template_wants_state=wants_state)

    return mark


def marked(function: Callable, **flags: bool) -> Callable:
    """The function with flags the engine reads off it (`getattr(function, name, False)`): attributes of a
    function object live in its `__dict__`, which is typed, where `function.flag = ...` is not."""
    function.__dict__.update(flags)
    return function


MAX_SOURCE_KEY = 64


def child_source(source: str, key: Any) -> str:
    """The source of a child of a tainted value (`args.ids` -> `args.ids.0`); long caller keys are cut."""
    text = key if type(key) is str else str(key)
    if len(text) > MAX_SOURCE_KEY:
        text = text[: MAX_SOURCE_KEY - 3] + "..."
    return f"{source}.{text}"


def find_taint(value: Any) -> Tainted | None:
    """The first Tainted value inside a plain value (lists and dicts searched deeply), or None."""
    if type(value) is Tainted:
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    for item in items:
        found = find_taint(item)
        if found is not None:
            return found
    return None


def unwrap_deep(value: Any) -> Any:
    """A copy of value with every Tainted wrapper (at any depth) replaced by its value."""
    if type(value) is Tainted:
        return unwrap_deep(value.value)
    if isinstance(value, dict):
        copied = {key: unwrap_deep(item) for key, item in value.items()}
        return copied if type(value) is dict else type(value)(copied)  # keeps types like SemVer
    if isinstance(value, (list, tuple)):
        items = [unwrap_deep(item) for item in value]
        return items if type(value) in (list, tuple) else type(value)(items)  # keeps []string and the like
    return None if value is MISSING else value


def go_type(value: Any) -> str:
    """The Go type name a value would have in Rill (typeOf, %T and error messages)."""
    if type(value) is Tainted:
        value = value.value
    name = GO_TYPES.get(type(value))
    if name is not None:
        return name
    go_name = getattr(value, "go_name", None)
    if go_name is not None:
        return go_name
    for python_type, name in GO_BASES:
        if isinstance(value, python_type):
            return name
    return "<nil>" if value is None or value is MISSING else type(value).__name__


GO_TYPES = {
    bool: "bool",
    int: "int64",
    GoInt: "int",
    float: "float64",
    complex: "complex128",
    str: "string",
    list: "[]interface {}",
    tuple: "[]interface {}",
    dict: "map[string]interface {}",
}
GO_BASES = (
    (datetime, "time.Time"),
    (bool, "bool"),
    (int, "int64"),
    (float, "float64"),
    (str, "string"),
    ((list, tuple), "[]interface {}"),
    (dict, "map[string]interface {}"),
)


def basic_kind(value: Any) -> str:
    """Go's basic kind of a value, as comparisons and printf verbs see it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "nil" if value is None else "other"
