"""How a template calls a function: Go's arity and argument-type rules (literals converted to the parameter's
type, other values checked for assignability), and taint propagation.

Caller data and functions (the rule every function gets without doing anything): when any argument holds
caller data (a `Tainted` value, at any depth), the function gets plain *copies* of all its container
arguments and its result is wrapped as tainted. So a new function needs no taint code at all: it sees plain
values, cannot change a project value by mutating an argument, and whatever it returns prints as a marker.
Only a function marked `raw_args` sees the wrappers; it must itself keep caller data tainted (return it
wrapped, never mutate arguments, and put caller text into a `SafeText` only through `state.emit`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .budget import EXPENSIVE, MAX_VALUE_BYTES, STEP_UNITS, LimitError, check_size, size_of
from .errors import Failure, LimitFailure, TemplateError
from .nodes import Chain, Const, Fail, Field, Variable, last_visited
from .values import (
    MISSING,
    GoInt,
    NilMap,
    NoValue,
    SafeText,
    Tainted,
    Uint32,
    find_taint,
    go_type,
    unwrap_deep,
)

if TYPE_CHECKING:
    from .render import State

SPECIAL = frozenset((Tainted, NoValue, dict, list, tuple))
# Python annotation -> Go parameter type; anything else is `interface {}`.
GO_NAMES = {
    "str": "string",
    "int": "int",
    "float": "float64",
    "bool": "bool",
    "dict": "map[string]interface {}",
    "list": "[]interface {}",
    "datetime": "time.Time",
    "Uint32": "uint32",
}
NIL_ZERO: dict[str, Callable[[], Any]] = {"dict": NilMap, "list": list}


def assignable(annotation: str, value: Any) -> bool:
    """Whether Go would pass a value to a parameter of the annotated type as it is."""
    kind = type(value)
    if annotation == "str":
        return isinstance(value, str)
    if annotation == "int":
        return kind is GoInt
    if annotation == "float":
        return kind is float
    if annotation == "bool":
        return kind is bool
    if annotation == "dict":
        return kind is dict or kind is NilMap
    if annotation == "list":
        return kind is list or kind is tuple
    if annotation == "datetime":
        return isinstance(value, datetime)
    if annotation == "Uint32":
        return kind is Uint32
    return False


def check_value(annotation: str, value: Any, from_field: bool, pos: int, context: str | None) -> Any:
    """Go's validateType: a value as the parameter gets it, or Go's error."""
    if value is MISSING or (value is None and not from_field):
        if annotation in NIL_ZERO:
            return NIL_ZERO[annotation]()
        raise Failure(f"invalid value; expected {GO_NAMES[annotation]}", pos, context)
    if assignable(annotation, value):
        return value
    got = "interface {}" if value is None else go_type(value)
    raise Failure(f"wrong type for value; expected {GO_NAMES[annotation]}; got {got}", pos, context)


def literal_argument(annotation: str, node: Const) -> Any:
    """A literal given for a typed parameter, converted as Go's evalArg does (or a node that fails)."""
    go_name = GO_NAMES[annotation]
    kind, number, pos = node.kind, node.number, node.pos
    if kind == "nil":
        if annotation in NIL_ZERO:
            return Zero(NIL_ZERO[annotation], pos)
        return Fail(f"cannot assign nil to {go_name}", pos, node.text)
    if annotation == "str" and kind == "string":
        return node
    if annotation == "bool" and kind == "bool":
        return node
    if kind == "number" and annotation == "int" and number.is_int:
        return Const(GoInt(number.int_value), kind, node.text, number, pos)
    if kind == "number" and annotation == "float" and number.is_float:
        return Const(number.float_value, kind, node.text, number, pos)
    if kind == "number" and annotation == "Uint32" and number.is_uint:
        return Const(Uint32(number.int_value & 0xFFFFFFFF), kind, node.text, number, pos)
    expected = {
        "str": "string",
        "int": "integer",
        "float": "float",
        "bool": "bool",
        "Uint32": "unsigned integer",
    }
    if annotation in expected:
        return Fail(f"expected {expected[annotation]}; found {node.text}", pos, node.text)
    return Fail(f"can't handle {node.text} for arg of type {go_name}", pos, node.text)


class Zero:
    """`nil` given for a map or list parameter: Go's nil map or slice, a new one at each evaluation."""

    __slots__ = ("make", "pos")
    text = "nil"

    def __init__(self, make: Callable[[], Any], pos: int) -> None:
        self.make = make
        self.pos = pos

    def evaluate(self, state: State, dot: Any) -> Any:
        return self.make()


def is_field(node: Any) -> bool:
    """Whether an argument reads a map entry directly (a nil there is Go's typed `interface {}` nil)."""
    return isinstance(node, (Field, Chain)) or (isinstance(node, Variable) and bool(node.names))


class FunctionSpec:
    """A function as templates see it: its name, arity, Go parameter types and calling convention."""

    __slots__ = (
        "cost",
        "function",
        "max_args",
        "min_args",
        "name",
        "raw_args",
        "rest_type",
        "takes_receiver",
        "types",
        "wants_state",
    )

    def __init__(self, name: str, function: Callable) -> None:
        self.name = name
        self.function = function
        self.cost = STEP_UNITS + EXPENSIVE.get(name, 0)  # work charged per call, besides the sizes handled
        self.raw_args = getattr(function, "template_raw_args", False)
        self.wants_state = getattr(function, "template_wants_state", False)
        self.takes_receiver = getattr(function, "template_receiver", False)
        skip = 1 if self.wants_state or self.takes_receiver else 0
        params = list(inspect.signature(function).parameters.values())[skip:]
        fixed = [param for param in params if param.kind != param.VAR_POSITIONAL]
        rest = [param for param in params if param.kind == param.VAR_POSITIONAL]
        self.min_args = sum(1 for param in fixed if param.default is param.empty)
        self.max_args = None if rest else len(fixed)
        self.types = tuple(typed(param.annotation) for param in fixed)
        self.rest_type = typed(rest[0].annotation) if rest else None
        if not any(self.types) and self.rest_type is None:
            self.types = ()

    def annotation(self, index: int) -> str | None:
        """The Go type of the index-th argument (None: any value)."""
        if index < len(self.types):
            return self.types[index]
        return self.rest_type

    def prepare(self, args: tuple, pos: int) -> tuple[tuple, frozenset]:
        """Argument nodes with literals converted for typed parameters, and which arguments read fields."""
        if not self.types and self.rest_type is None:
            return args, frozenset()
        prepared = []
        for index, node in enumerate(args):
            annotation = self.annotation(index)
            if annotation and isinstance(node, Const):
                node = literal_argument(annotation, node)
            prepared.append(node)
        return tuple(prepared), frozenset(index for index, node in enumerate(args) if is_field(node))

    def call(
        self,
        state: State | None,
        args: list,
        pos: int,
        fields: frozenset = frozenset(),
        site: Any = None,
        receiver: Any = None,
    ) -> Any:
        """Calls the function on evaluated arguments; unwraps and re-wraps taint unless raw_args. `site` is
        the calling node (errors are placed at it, or at the argument they are about); `receiver` the Go
        value whose method this is."""
        count = len(args)
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            self.check_arity(count, pos, self.name if site is not None else None)
        source = None
        if self.raw_args:
            args = [raw_argument(arg) for arg in args]
        else:
            for arg in args:
                if type(arg) in SPECIAL:
                    source = plain_arguments(args, self.types or self.rest_type)
                    break
            if self.types or self.rest_type:
                self.check_types(args, fields, pos, site)
        context = site.text if site is not None else None
        if state is not None and self.cost > STEP_UNITS:
            state.charge(self.cost, pos, context)  # CPU-heavy: refused before the work is done
        if self.takes_receiver:
            args.insert(0, receiver)
        elif self.wants_state:
            args.insert(0, state)
        try:
            result = self.function(*args)
            if state is not None:
                self.charge_call(state, args, result, pos, context)
        except Failure:
            raise
        except LimitError as error:
            raise LimitFailure(f"error calling {self.name}: {error}", pos, site and site.text) from None
        except TemplateError as error:
            raise Failure(f"error calling {self.name}: {error.message}", pos, site and site.text) from None
        except RecursionError:
            message = f"error calling {self.name}: runtime error: stack overflow"
            raise Failure(message, pos, site and site.text) from None
        except Exception as error:  # noqa: BLE001 - any failure of a function is a template error
            raise Failure(f"error calling {self.name}: {error}", pos, site and site.text) from None
        if source is None or type(result) is Tainted or (self.raw_args and isinstance(result, SafeText)):
            return result
        if isinstance(result, SafeText) and any(result is arg for arg in args):
            return result  # project SQL passed through (`default (as_sql_list .args.v) ...`)
        return Tainted(result, source)

    def charge_call(self, state: State, args: list, result: Any, pos: int, context: str | None) -> None:
        """A call costs STEP_UNITS plus the characters and items it reads and makes; the value made may
        not be over MAX_VALUE_BYTES. (Strings measured inline: this runs for every call.)"""
        units = STEP_UNITS
        for arg in args:
            units += len(arg) if type(arg) is str else size_of(arg)
        size = len(result) if type(result) is str else size_of(result)
        if size > MAX_VALUE_BYTES:
            check_size(size)
        state.charge(units + size, pos, context)

    def validate(self, index: int, value: Any, node: Any, from_field: bool) -> None:
        """Go's check of one argument for a typed parameter, placed at the argument's node."""
        annotation = self.annotation(index)
        if annotation is None:
            return
        inner = value.value if type(value) is Tainted else value
        if not assignable(annotation, inner):
            node = last_visited(node)
            check_value(annotation, inner, from_field, node.pos, getattr(node, "text", self.name))

    def check_arity(self, count: int, pos: int, context: str | None) -> None:
        """Go's `wrong number of args` error."""
        if self.max_args is None and count < self.min_args:
            message = f"wrong number of args for {self.name}: want at least {self.min_args} got {count}"
            raise Failure(message, pos, context)
        if self.max_args is not None and not self.min_args <= count <= self.max_args:
            want = self.max_args if self.min_args == self.max_args else f"{self.min_args}-{self.max_args}"
            raise Failure(f"wrong number of args for {self.name}: want {want} got {count}", pos, context)

    def check_types(self, args: list, fields: frozenset, pos: int, site: Any) -> None:
        """Go's rules for a value passed to a typed parameter (Go functions have typed parameters)."""
        for index, arg in enumerate(args):
            annotation = self.annotation(index)
            if annotation is None:
                if arg is MISSING:
                    args[index] = None
            elif not assignable(annotation, arg):
                node = argument_node(site, index)
                context, at = (node.text, node.pos) if node is not None else (None, pos)
                args[index] = check_value(annotation, arg, index in fields, at, context)


def argument_node(site: Any, index: int) -> Any:
    """The node of the index-th argument at a call site (a piped value: Go blames the last node it visited)."""
    if site is None or not hasattr(site, "args"):
        return None
    if index < len(site.args):
        return site.args[index]
    return site.args[-1] if site.args else NamedNode(site.spec.name, site.pos)


class NamedNode:
    """A function name as an error's place."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos


def typed(annotation: Any) -> str | None:
    """The Go type a parameter annotation names (see GO_NAMES), or None for any value."""
    return annotation if annotation in GO_NAMES else None


def plain_arguments(args: list, typed_call: Any = None) -> str | None:
    """Replaces tainted arguments by plain values in place (missing ones too, unless the function has typed
    parameters, which tell a missing value from nil); returns the first taint's source.
    With any taint, every container argument becomes a copy: no project value can take in caller data."""
    source = None
    containers = []
    for index, arg in enumerate(args):
        kind = type(arg)
        if kind is Tainted:
            source = source or arg.source
            args[index] = unwrap_deep(arg.value)
        elif arg is MISSING:
            if not typed_call:
                args[index] = None
        elif isinstance(arg, (dict, list, tuple)):
            found = find_taint(arg)
            source = source or (found.source if found is not None else None)
            containers.append(index)
    if source is not None:
        for index in containers:
            args[index] = unwrap_deep(args[index])
    return source


def raw_argument(arg: Any) -> Any:
    """An argument for a raw_args function: Tainted kept, the internal no-value marker made None."""
    if arg is MISSING:
        return None
    if type(arg) is Tainted and arg.value is MISSING:
        return Tainted(None, arg.source)
    return arg


def build_specs(functions: dict[str, Callable]) -> dict[str, FunctionSpec]:
    """FunctionSpecs for a table of functions, keyed by template name."""
    return {name: FunctionSpec(name, function) for name, function in functions.items()}
