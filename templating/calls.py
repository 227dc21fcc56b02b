"""How a template calls a function: Go's arity and argument-type checks, and taint propagation.

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
from typing import Any

from .errors import Failure, TemplateError
from .values import MISSING, NoValue, SafeText, Tainted, find_taint, go_type, unwrap_deep

EXACT = {"str": str, "int": int, "float": float, "bool": bool, "dict": dict, "list": list}
SPECIAL = frozenset((Tainted, NoValue, dict, list, tuple))
GO_NAMES = {
    "str": "string",
    "int": "int",
    "float": "float64",
    "bool": "bool",
    "dict": "map[string]interface {}",
    "list": "[]interface {}",
}


def accepts(annotation: str, value: Any) -> bool:
    """True when a plain value may be passed where Go expects the annotated type."""
    if annotation == "str":
        return isinstance(value, str)
    if annotation == "bool":
        return isinstance(value, bool)
    if annotation == "dict":
        return isinstance(value, dict)
    if annotation == "list":
        return isinstance(value, (list, tuple))
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (annotation == "float" and isinstance(value, float))


class FunctionSpec:
    """A function as templates see it: its name, arity, Go parameter types and calling convention."""

    __slots__ = ("function", "max_args", "min_args", "name", "raw_args", "rest_type", "types", "wants_state")

    def __init__(self, name: str, function: Callable) -> None:
        self.name = name
        self.function = function
        self.raw_args = getattr(function, "template_raw_args", False)
        self.wants_state = getattr(function, "template_wants_state", False)
        params = list(inspect.signature(function).parameters.values())[1 if self.wants_state else 0 :]
        fixed = [param for param in params if param.kind != param.VAR_POSITIONAL]
        rest = [param for param in params if param.kind == param.VAR_POSITIONAL]
        self.min_args = sum(1 for param in fixed if param.default is param.empty)
        self.max_args = None if rest else len(fixed)
        self.types = tuple(typed(param.annotation) for param in fixed)
        self.rest_type = typed(rest[0].annotation) if rest else None
        if not any(self.types) and self.rest_type is None:
            self.types = ()

    def call(self, state: Any, args: list, pos: int) -> Any:
        """Calls the function on evaluated arguments; unwraps and re-wraps taint unless raw_args."""
        count = len(args)
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            self.check_arity(count, pos)
        source = None
        if self.raw_args:
            args = [raw_argument(arg) for arg in args]
        else:
            for arg in args:
                if type(arg) in SPECIAL:
                    source = plain_arguments(args)
                    break
            if self.types or self.rest_type:
                self.check_types(args, pos)
        if self.wants_state:
            args.insert(0, state)
        try:
            result = self.function(*args)
        except Failure:
            raise
        except TemplateError as error:
            raise Failure(f"error calling {self.name}: {error.message}", pos) from None
        except Exception as error:  # noqa: BLE001 - any failure of a function is a template error
            raise Failure(f"error calling {self.name}: {error}", pos) from None
        if source is None or type(result) is Tainted or (self.raw_args and isinstance(result, SafeText)):
            return result
        if isinstance(result, SafeText) and any(result is arg for arg in args):
            return result  # project SQL passed through (`default (as_sql_list .args.v) ...`)
        return Tainted(result, source)

    def check_arity(self, count: int, pos: int) -> None:
        """Go's `wrong number of args` error."""
        if self.max_args is None and count < self.min_args:
            raise Failure(
                f"wrong number of args for {self.name}: want at least {self.min_args} got {count}", pos
            )
        if self.max_args is not None and not self.min_args <= count <= self.max_args:
            want = self.max_args if self.min_args == self.max_args else f"{self.min_args}-{self.max_args}"
            raise Failure(f"wrong number of args for {self.name}: want {want} got {count}", pos)

    def check_types(self, args: list, pos: int) -> None:
        """Go's errors for an argument of the wrong type (Go functions have typed parameters)."""
        for index, arg in enumerate(args):
            annotation = self.types[index] if index < len(self.types) else self.rest_type
            if annotation and type(arg) is not EXACT[annotation] and not accepts(annotation, arg):
                expected = GO_NAMES[annotation]
                if arg is None:
                    raise Failure(f"invalid value; expected {expected}", pos)
                raise Failure(f"wrong type for value; expected {expected}; got {go_type(arg)}", pos)


def typed(annotation: Any) -> str | None:
    """The Go type a parameter annotation names (`str`, `int`, `float`, `bool`), or None for any value."""
    return annotation if annotation in GO_NAMES else None


def plain_arguments(args: list) -> str | None:
    """Replaces tainted and missing arguments by plain values in place; returns the first taint's source.
    With any taint, every container argument becomes a copy: no project value can take in caller data."""
    source = None
    for arg in args:
        kind = type(arg)
        if kind is Tainted:
            source = arg.source
            break
        if kind is dict or kind is list or kind is tuple:
            found = find_taint(arg)
            if found is not None:
                source = found.source
                break
    for index, arg in enumerate(args):
        if arg is MISSING:
            args[index] = None
        elif source is not None and (type(arg) is Tainted or isinstance(arg, (dict, list, tuple))):
            args[index] = unwrap_deep(arg)
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
