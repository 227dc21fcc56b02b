"""Expression nodes of a parsed template: operands, commands and pipelines; each evaluates itself. `text` is
Go's String() of the node (what an execution error prints as `at <...>`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import Failure
from .values import MISSING, Tainted, go_type

if TYPE_CHECKING:
    from .calls import FunctionSpec
    from .render import State


class NoFinal:
    """Marks a command that is the first of its pipeline (no piped value)."""

    __slots__ = ()


NO_FINAL = NoFinal()


def truth(value: Any) -> bool:
    """Go's truth: empty values (false, 0, "", nil, no value, empty list or map) are false."""
    if type(value) is Tainted:
        value = value.value
    return bool(value)


def is_map(kind: type, value: Any) -> bool:
    """Whether a value is a map (a field of it is then Go's interface {})."""
    return kind is dict or (kind is Tainted and isinstance(value.value, dict)) or isinstance(value, dict)


def last_visited(node: Any) -> Any:
    """The node Go's executor visited last in an argument (where it places an error about the argument)."""
    while True:
        args = getattr(node, "args", None)
        if isinstance(node, Pipeline):
            node = node.rest[-1] if node.rest else node.first
        elif args:
            node = args[-1]
        else:
            return node


def field(value: Any, name: str, pos: int, from_map: bool = False) -> Any:
    """`value.name` with Go's rules for maps and nil, keeping taint (`args` -> `args.name`). `from_map`:
    the value was read from a map (its Go type is then interface {}, as Go's errors say)."""
    kind = type(value)
    if kind is dict:
        return value.get(name, MISSING)
    if kind is Tainted:
        child = field(value.value, name, pos, from_map)
        return child if type(child) is Tainted else Tainted(child, f"{value.source}.{name}")
    if isinstance(value, dict):
        return value.get(name, MISSING)
    if value is MISSING:
        return MISSING
    if value is None:
        raise Failure(f"nil pointer evaluating interface {{}}.{name}", pos)
    return call_method(value, name, [], pos, from_map=from_map)


def call_method(
    value: Any, name: str, args: list, pos: int, has_args: bool = False, from_map: bool = False
) -> Any:
    """Go's evalField for a value that is not a map: its method `name`, or Go's error."""
    from .methods import find_method

    method = find_method(value, name)
    if method is not None:
        return method.call(None, args, pos, receiver=value)
    if name in getattr(type(value), "go_fields", ()):
        if has_args:
            raise Failure(f"{name} has arguments but cannot be invoked as function", pos)
        return getattr(value, name)
    if has_args and isinstance(value, dict):
        raise Failure(f"{name} is not a method but has arguments", pos)
    raise Failure(
        f"can't evaluate field {name} in type {'interface {}' if from_map else go_type(value)}", pos
    )


class Const:
    """A literal: string, number, bool or nil; `text` as written, `number` the parsed Number (typed
    parameters convert literals by their own rules)."""

    __slots__ = ("kind", "number", "pos", "text", "value")

    def __init__(self, value: Any, kind: str = "", text: str = "", number: Any = None, pos: int = 0) -> None:
        self.value = value
        self.kind = kind
        self.text = text
        self.number = number
        self.pos = pos

    def evaluate(self, state: State, dot: Any) -> Any:
        return self.value


class Fail:
    """A literal Go refuses when it is evaluated (`9223372036854775808` overflows int)."""

    __slots__ = ("message", "pos", "text")

    def __init__(self, message: str, pos: int, text: str) -> None:
        self.message = message
        self.pos = pos
        self.text = text

    def evaluate(self, state: State, dot: Any) -> Any:
        raise Failure(self.message, self.pos, self.text)


class Dot:
    """`.`: the current value."""

    __slots__ = ("pos",)
    text = "."

    def __init__(self, pos: int = 0) -> None:
        self.pos = pos

    def evaluate(self, state: State, dot: Any) -> Any:
        return dot


class Field:
    """`.a.b.c`: a chain of keys from dot."""

    __slots__ = ("names", "pos", "steps", "text")

    def __init__(self, names: tuple[str, ...], pos: int) -> None:
        self.names = names
        self.pos = pos
        self.steps = tuple((name, "." + name) for name in names)
        self.text = "".join(suffix for _, suffix in self.steps)

    def evaluate(self, state: State, dot: Any) -> Any:
        value, from_map = dot, False
        for name, suffix in self.steps:
            kind = type(value)
            if kind is dict:
                value = value.get(name, MISSING)
                from_map = True
            elif kind is Tainted and type(value.value) is dict:
                child = value.value.get(name, MISSING)
                value = child if type(child) is Tainted else Tainted(child, value.source + suffix)
                from_map = True
            else:
                receiver = value
                try:
                    value = field(value, name, self.pos, from_map)
                except Failure as failure:
                    failure.claim(self.text, self.pos)
                    raise
                from_map = is_map(kind, receiver)
        return value


class Variable:
    """`$x` or `$x.a.b`: a variable and an optional chain of keys."""

    __slots__ = ("name", "names", "pos", "text")

    def __init__(self, name: str, names: tuple[str, ...], pos: int) -> None:
        self.name = name
        self.names = names
        self.pos = pos
        self.text = name + "".join("." + part for part in names)

    def evaluate(self, state: State, dot: Any) -> Any:
        try:
            value = state.lookup(self.name, self.pos)
            from_map = False
            for name in self.names:
                receiver = value
                value = field(value, name, self.pos, from_map)
                from_map = is_map(type(receiver), receiver)
        except Failure as failure:
            failure.claim(self.text, self.pos)
            raise
        return value


class Chain:
    """`(pipeline).a.b` or `func.a`: keys taken from the value of another node."""

    __slots__ = ("names", "node", "pos", "text")

    def __init__(self, node: Any, names: tuple[str, ...], pos: int) -> None:
        self.node = unwrap((node,))[0]
        self.names = names
        self.pos = pos
        self.text = node.text + "".join("." + part for part in names)

    def evaluate(self, state: State, dot: Any) -> Any:
        value = self.node.evaluate(state, dot)
        try:
            from_map = False
            for name in self.names:
                receiver = value
                value = field(value, name, self.pos, from_map)
                from_map = is_map(type(receiver), receiver)
        except Failure as failure:
            place = last_visited(self.node)
            failure.claim(place.text, place.pos)
            raise
        return value


class Call:
    """`f a b` (or `x | f a b`, where x comes last): a function call."""

    __slots__ = ("args", "fields", "pos", "spec", "text", "typed")

    def __init__(self, spec: FunctionSpec, args: tuple, pos: int) -> None:
        self.spec = spec
        self.text = command_text(spec.name, args)
        self.args, self.fields = spec.prepare(unwrap(args), pos)
        self.pos = pos
        self.typed = bool(spec.types or spec.rest_type)

    def evaluate(self, state: State, dot: Any, final: Any = NO_FINAL) -> Any:
        spec = self.spec
        if self.typed:
            return spec.call(state, self.checked_arguments(state, dot, final), self.pos, self.fields, self)
        args = []
        for arg in self.args:
            args.append(arg.evaluate(state, dot))
        if final is not NO_FINAL:
            args.append(final)
        return spec.call(state, args, self.pos, self.fields, self)

    def checked_arguments(self, state: State, dot: Any, final: Any) -> list:
        """Go's order for typed parameters: the arity first, then each argument evaluated and checked."""
        spec = self.spec
        count = len(self.args) + (final is not NO_FINAL)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            spec.check_arity(count, self.pos, spec.name)
        args = []
        for index, arg in enumerate(self.args):
            value = arg.evaluate(state, dot)
            spec.validate(index, value, arg, index in self.fields)
            args.append(value)
        if final is not NO_FINAL:
            spec.validate(len(args), final, self.args[-1] if self.args else self, False)
            args.append(final)
        return args


class Logic:
    """`and`/`or`: evaluate arguments in order, stop at the deciding one and return it (Go 1.18+)."""

    __slots__ = ("args", "name", "pos", "stop_when", "text")

    def __init__(self, name: str, args: tuple, pos: int) -> None:
        self.name = name
        self.args = unwrap(args)
        self.pos = pos
        self.stop_when = name == "or"
        self.text = command_text(name, args)

    def evaluate(self, state: State, dot: Any, final: Any = NO_FINAL) -> Any:
        if not self.args and final is NO_FINAL:
            raise Failure(f"wrong number of args for {self.name}: want at least 1 got 0", self.pos, self.name)
        value = None
        for arg in self.args:
            value = arg.evaluate(state, dot)
            if truth(value) is self.stop_when:
                return value
        return value if final is NO_FINAL else final


class MethodCall:
    """`.x.Method a b` or `(value).Method a`: a method of a Go value called with arguments."""

    __slots__ = ("args", "field_text", "name", "pos", "receiver", "text")

    def __init__(self, receiver: Any, name: str, args: tuple, pos: int, text: str) -> None:
        self.receiver = unwrap((receiver,))[0]
        self.name = name
        self.args = unwrap(args)
        self.pos = pos
        self.field_text = text
        self.text = command_text(text, args)

    def evaluate(self, state: State, dot: Any, final: Any = NO_FINAL) -> Any:
        try:
            return self.call(state, dot, final)
        except Failure as failure:
            if isinstance(self.receiver, (Call, Chain, Pipeline)):
                place = last_visited(self.receiver)
                failure.claim(place.text, place.pos)
            failure.claim(self.field_text, self.pos)
            raise

    def call(self, state: State, dot: Any, final: Any) -> Any:
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

    def argument(self, index: int, node: Any, state: State, dot: Any, receiver: Any) -> Any:
        """An argument; a literal is converted to the method's parameter type first, as Go does."""
        from .calls import literal_argument
        from .methods import find_method

        method = find_method(receiver, self.name)
        annotation = method.annotation(index) if method is not None else None
        if annotation and isinstance(node, Const):
            node = literal_argument(annotation, node)
        return node.evaluate(state, dot)


class Operand:
    """A command that is not a function (`.a`, `$x`, `"s"`): an error when given arguments."""

    __slots__ = ("error", "node", "pos", "text")

    def __init__(self, node: Any, error: str | None, pos: int, args: tuple = ()) -> None:
        self.node = unwrap((node,))[0]
        self.error = error
        self.pos = pos
        self.text = command_text(node.text, args)

    def evaluate(self, state: State, dot: Any, final: Any = NO_FINAL) -> Any:
        if self.error is not None:
            raise Failure(self.error, self.pos, self.node.text)
        return self.node.evaluate(state, dot)


class Pipeline:
    """Commands joined by `|`, optionally declaring (`:=`) or assigning (`=`) variables."""

    __slots__ = ("decls", "first", "is_assign", "pos", "rest", "text")

    def __init__(self, cmds: list, decls: tuple[str, ...], is_assign: bool, pos: int) -> None:
        self.first = unwrap((cmds[0],))[0]
        self.rest = unwrap(tuple(cmds[1:]))
        self.decls = decls
        self.is_assign = is_assign
        self.pos = pos
        self.text = pipe_text(cmds, decls, is_assign)

    def evaluate(self, state: State, dot: Any) -> Any:
        value = self.first.evaluate(state, dot)
        for cmd in self.rest:
            value = cmd.evaluate(state, dot, value)
        for name in self.decls:
            if self.is_assign:
                try:
                    state.assign(name, value, self.pos)
                except Failure as failure:
                    place = last_visited(self.rest[-1] if self.rest else self.first)
                    failure.claim(place.text, place.pos)
                    raise
            else:
                state.vars.append([name, value])
        return value


class Paren:
    """A parenthesized pipeline while parsing: prints as `(...)` in its parent's text, then unwrapped."""

    __slots__ = ("node", "pos", "text")

    def __init__(self, node: Any) -> None:
        self.node = node
        self.pos = node.pos
        self.text = f"({node.text})"

    def evaluate(self, state: State, dot: Any) -> Any:
        return self.node.evaluate(state, dot)


def unwrap(nodes: tuple) -> tuple:
    """Argument nodes with parentheses dropped (they only matter for error texts)."""
    return tuple(node.node if type(node) is Paren else node for node in nodes)


def command_text(first: str, args: tuple) -> str:
    """Go's CommandNode.String: the words separated by spaces."""
    return " ".join((first, *(arg.text for arg in args)))


def pipe_text(cmds: list, decls: tuple[str, ...], is_assign: bool) -> str:
    """Go's PipeNode.String: declarations, then the commands joined by ` | `."""
    text = " | ".join(cmd.text for cmd in cmds)
    if decls:
        text = f"{', '.join(decls)} {'=' if is_assign else ':='} {text}"
    return text
