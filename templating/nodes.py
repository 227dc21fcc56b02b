"""Expression nodes of a parsed template: operands, commands and pipelines; each evaluates itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import Failure
from .values import MISSING, Tainted, go_type

if TYPE_CHECKING:
    from .calls import FunctionSpec


class NoFinal:
    """Marks a command that is the first of its pipeline (no piped value)."""

    __slots__ = ()


NO_FINAL = NoFinal()


def truth(value: Any) -> bool:
    """Go's truth: empty values (false, 0, "", nil, no value, empty list or map) are false."""
    if type(value) is Tainted:
        value = value.value
    return bool(value)


def field(value: Any, name: str, pos: int) -> Any:
    """`value.name` with Go's rules for maps and nil, keeping taint (`args` -> `args.name`)."""
    kind = type(value)
    if kind is dict:
        return value.get(name, MISSING)
    if kind is Tainted:
        child = field(value.value, name, pos)
        return child if type(child) is Tainted else Tainted(child, f"{value.source}.{name}")
    if isinstance(value, dict):
        return value.get(name, MISSING)
    if value is MISSING:
        return MISSING
    if value is None:
        raise Failure(f"nil pointer evaluating interface {{}}.{name}", pos)
    return call_method(value, name, [], pos)


def call_method(value: Any, name: str, args: list, pos: int, has_args: bool = False) -> Any:
    """Go's evalField for a value that is not a map: its method `name`, or Go's error."""
    from .methods import find_method

    method = find_method(value, name)
    if method is not None:
        return method.call(value, args, pos)
    if name in getattr(type(value), "go_fields", ()):
        if has_args:
            raise Failure(f"{name} has arguments but cannot be invoked as function", pos)
        return getattr(value, name)
    if has_args and isinstance(value, dict):
        raise Failure(f"{name} is not a method but has arguments", pos)
    raise Failure(f"can't evaluate field {name} in type {go_type(value)}", pos)


class Const:
    """A literal: string, number, bool or nil; `text` as written, `number` the parsed Number (typed
    parameters convert literals by their own rules)."""

    __slots__ = ("kind", "number", "text", "value")

    def __init__(self, value: Any, kind: str = "", text: str = "", number: Any = None) -> None:
        self.value = value
        self.kind = kind
        self.text = text
        self.number = number

    def evaluate(self, state: Any, dot: Any) -> Any:
        return self.value


class Fail:
    """A literal Go refuses when it is evaluated (`9223372036854775808` overflows int)."""

    __slots__ = ("message", "pos")

    def __init__(self, message: str, pos: int) -> None:
        self.message = message
        self.pos = pos

    def evaluate(self, state: Any, dot: Any) -> Any:
        raise Failure(self.message, self.pos)


class Dot:
    """`.`: the current value."""

    __slots__ = ()

    def evaluate(self, state: Any, dot: Any) -> Any:
        return dot


class Field:
    """`.a.b.c`: a chain of keys from dot."""

    __slots__ = ("names", "pos", "steps")

    def __init__(self, names: tuple[str, ...], pos: int) -> None:
        self.names = names
        self.pos = pos
        self.steps = tuple((name, "." + name) for name in names)

    def evaluate(self, state: Any, dot: Any) -> Any:
        value = dot
        for name, suffix in self.steps:
            kind = type(value)
            if kind is dict:
                value = value.get(name, MISSING)
            elif kind is Tainted and type(value.value) is dict:
                child = value.value.get(name, MISSING)
                value = child if type(child) is Tainted else Tainted(child, value.source + suffix)
            else:
                value = field(value, name, self.pos)
        return value


class Variable:
    """`$x` or `$x.a.b`: a variable and an optional chain of keys."""

    __slots__ = ("name", "names", "pos")

    def __init__(self, name: str, names: tuple[str, ...], pos: int) -> None:
        self.name = name
        self.names = names
        self.pos = pos

    def evaluate(self, state: Any, dot: Any) -> Any:
        value = state.lookup(self.name, self.pos)
        for name in self.names:
            value = field(value, name, self.pos)
        return value


class Chain:
    """`(pipeline).a.b` or `func.a`: keys taken from the value of another node."""

    __slots__ = ("names", "node", "pos")

    def __init__(self, node: Any, names: tuple[str, ...], pos: int) -> None:
        self.node = node
        self.names = names
        self.pos = pos

    def evaluate(self, state: Any, dot: Any) -> Any:
        value = self.node.evaluate(state, dot)
        for name in self.names:
            value = field(value, name, self.pos)
        return value


class Call:
    """`f a b` (or `x | f a b`, where x comes last): a function call."""

    __slots__ = ("args", "fields", "pos", "spec")

    def __init__(self, spec: FunctionSpec, args: tuple, pos: int) -> None:
        self.spec = spec
        self.args, self.fields = spec.prepare(args, pos)
        self.pos = pos

    def evaluate(self, state: Any, dot: Any, final: Any = NO_FINAL) -> Any:
        args = []
        for arg in self.args:
            args.append(arg.evaluate(state, dot))
        if final is not NO_FINAL:
            args.append(final)
        return self.spec.call(state, args, self.pos, self.fields)


class Logic:
    """`and`/`or`: evaluate arguments in order, stop at the deciding one and return it (Go 1.18+)."""

    __slots__ = ("args", "name", "pos", "stop_when")

    def __init__(self, name: str, args: tuple, pos: int) -> None:
        self.name = name
        self.args = args
        self.pos = pos
        self.stop_when = name == "or"

    def evaluate(self, state: Any, dot: Any, final: Any = NO_FINAL) -> Any:
        if not self.args and final is NO_FINAL:
            raise Failure(f"wrong number of args for {self.name}: want at least 1 got 0", self.pos)
        value = None
        for arg in self.args:
            value = arg.evaluate(state, dot)
            if truth(value) is self.stop_when:
                return value
        return value if final is NO_FINAL else final


class MethodCall:
    """`.x.Method a b` or `(value).Method a`: a method of a Go value called with arguments."""

    __slots__ = ("args", "name", "pos", "receiver")

    def __init__(self, receiver: Any, name: str, args: tuple, pos: int) -> None:
        self.receiver = receiver
        self.name = name
        self.args = args
        self.pos = pos

    def evaluate(self, state: Any, dot: Any, final: Any = NO_FINAL) -> Any:
        value = self.receiver.evaluate(state, dot)
        source = None
        if type(value) is Tainted:
            source, value = value.source, value.value
        if value is MISSING or value is None or isinstance(value, dict):
            if value is None:
                raise Failure(f"nil pointer evaluating interface {{}}.{self.name}", self.pos)
            raise Failure(f"{self.name} is not a method but has arguments", self.pos)
        args = [self.argument(index, node, state, dot, value) for index, node in enumerate(self.args)]
        if final is not NO_FINAL:
            args.append(final)
        result = call_method(value, self.name, args, self.pos, has_args=True)
        return result if source is None else Tainted(result, source)

    def argument(self, index: int, node: Any, state: Any, dot: Any, receiver: Any) -> Any:
        """An argument; a literal is converted to the method's parameter type first, as Go does."""
        from .calls import literal_argument
        from .methods import find_method

        method = find_method(receiver, self.name)
        annotation = method.annotation(index) if method is not None else None
        if annotation and isinstance(node, Const):
            node = literal_argument(annotation, node, self.pos)
        return node.evaluate(state, dot)


class Operand:
    """A command that is not a function (`.a`, `$x`, `"s"`): an error when given arguments."""

    __slots__ = ("error", "node", "pos")

    def __init__(self, node: Any, error: str | None, pos: int) -> None:
        self.node = node
        self.error = error
        self.pos = pos

    def evaluate(self, state: Any, dot: Any, final: Any = NO_FINAL) -> Any:
        if self.error is not None:
            raise Failure(self.error, self.pos)
        return self.node.evaluate(state, dot)


class Pipeline:
    """Commands joined by `|`, optionally declaring (`:=`) or assigning (`=`) variables."""

    __slots__ = ("decls", "first", "is_assign", "pos", "rest")

    def __init__(self, cmds: list, decls: tuple[str, ...], is_assign: bool, pos: int) -> None:
        self.first = cmds[0]
        self.rest = tuple(cmds[1:])
        self.decls = decls
        self.is_assign = is_assign
        self.pos = pos

    def evaluate(self, state: Any, dot: Any) -> Any:
        value = self.first.evaluate(state, dot)
        for cmd in self.rest:
            value = cmd.evaluate(state, dot, value)
        for name in self.decls:
            if self.is_assign:
                state.assign(name, value, self.pos)
            else:
                state.vars.append([name, value])
        return value
