"""Statement nodes (text, actions, if, with, range, template calls) and the compiled Template."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .budget import MAX_RENDER_WORK, STEP_UNITS, over_budget
from .errors import BreakLoop, ContinueLoop, Failure, LimitFailure, Source
from .nodes import last_visited, truth
from .printing import format_value, print_action
from .values import MISSING, Tainted, child_source, find_taint, unwrap_deep

MAX_DEPTH = 100


class State:
    """One render: the output, the emit callback, the root data and the variable stack."""

    __slots__ = ("data", "depth", "emit", "out", "templates", "vars", "work")

    def __init__(self, data: Any, emit: Callable | None, templates: dict) -> None:
        self.out: list[str] = []
        self.emit = emit
        self.data = data
        self.vars: list[list] = [["$", data]]
        self.templates = templates
        self.depth = 0
        self.work = 0  # units spent of MAX_RENDER_WORK (see budget)

    def charge(self, units: int, pos: int | None, context: str | None = None) -> None:
        """Counts work done by the render; over the budget the render stops with a LimitFailure placed at
        the node doing the work."""
        self.work += units
        if self.work > MAX_RENDER_WORK:
            raise LimitFailure(str(over_budget()), pos, context)

    def lookup(self, name: str, pos: int) -> Any:
        """The value of the innermost variable called name."""
        for variable in reversed(self.vars):
            if variable[0] == name:
                return variable[1]
        raise Failure(f"undefined variable: {name}", pos)

    def assign(self, name: str, value: Any, pos: int) -> None:
        """`$x = value`: changes the innermost variable called name."""
        for variable in reversed(self.vars):
            if variable[0] == name:
                variable[1] = value
                return
        raise Failure(f"undefined variable: {name}", pos)

    def print_tainted(self, value: Tainted) -> str:
        """The text for a caller's value: its Go printing, passed through emit when there is one."""
        inner = value.value
        text = inner if type(inner) is str else print_action(inner)
        return text if self.emit is None else self.emit(text, value.source)


def static_size(nodes: tuple) -> int:
    """The most literal text one pass over the nodes can print (a nested range or call charges its own)."""
    size = 0
    for node in nodes:
        if type(node) is Text:
            size += len(node.text)
        elif type(node) is If:
            size += max(static_size(node.body), static_size(node.else_body))
    return size


def render_nodes(nodes: tuple, state: State, dot: Any) -> None:
    """Renders a list of statement nodes in order (text inline: it is half of most templates)."""
    append = state.out.append
    for node in nodes:
        if type(node) is Text:
            append(node.text)
        else:
            node.render(state, dot)


class Text:
    """Literal text between actions."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, state: State, dot: Any) -> None:
        state.out.append(self.text)


class Action:
    """`{{ pipeline }}`: prints the value unless the pipeline declares variables."""

    __slots__ = ("pipe", "prints")

    def __init__(self, pipe: Any, prints: bool) -> None:
        self.pipe = pipe
        self.prints = prints

    def render(self, state: State, dot: Any) -> None:
        value = self.pipe.evaluate(state, dot)
        if not self.prints:
            return
        kind = type(value)
        if kind is str:
            text = value
        elif kind is Tainted:
            text = state.print_tainted(value)
        else:
            found = find_taint(value) if isinstance(value, (dict, list, tuple)) else None
            if found is None:
                text = print_action(value)
            else:  # project data holding a caller's value prints as one caller value
                text = state.print_tainted(Tainted(unwrap_deep(value), found.source))
        state.charge(len(text), self.pipe.pos, self.pipe.text)
        state.out.append(text)


class If:
    """`{{if}}` and `{{with}}`: one branch by the truth of the pipeline (with also sets dot)."""

    __slots__ = ("body", "else_body", "pipe", "sets_dot")

    def __init__(self, pipe: Any, body: tuple, else_body: tuple, sets_dot: bool) -> None:
        self.pipe = pipe
        self.body = body
        self.else_body = else_body
        self.sets_dot = sets_dot

    def render(self, state: State, dot: Any) -> None:
        mark = len(state.vars)
        value = self.pipe.evaluate(state, dot)
        if truth(value):
            render_nodes(self.body, state, value if self.sets_dot else dot)
        else:
            render_nodes(self.else_body, state, dot)
        del state.vars[mark:]


class Range:
    """`{{range}}` over lists, maps (sorted keys) and integers, with `else`, `break` and `continue`."""

    __slots__ = ("body", "cost", "decls", "else_body", "is_assign", "pipe", "pos", "text")

    def __init__(
        self, pipe: Any, decls: tuple, is_assign: bool, body: tuple, else_body: tuple, pos: int
    ) -> None:
        self.pipe, self.decls, self.is_assign = pipe, decls, is_assign
        self.body, self.else_body, self.pos = body, else_body, pos
        self.text = pipe.text
        self.cost = STEP_UNITS + static_size(body)  # work charged per iteration

    def render(self, state: State, dot: Any) -> None:
        try:
            items = self.items(self.pipe.evaluate(state, dot), state)
        except Failure as failure:
            place = last_visited(self.pipe)
            failure.claim(place.text, place.pos)
            raise
        if not items:
            render_nodes(self.else_body, state, dot)
            return
        variables = state.vars
        mark = len(variables)
        for key, element in items:
            state.charge(self.cost, self.pos, self.text)
            self.bind(state, key, element)
            try:
                render_nodes(self.body, state, element)
            except ContinueLoop:
                pass
            except BreakLoop:
                break
            finally:
                del variables[mark:]

    def bind(self, state: State, key: Any, element: Any) -> None:
        """Sets the range variables: one gets the element; two get the key then the element."""
        values = (element,) if len(self.decls) == 1 else (key, element)
        for name, value in zip(self.decls, values):
            if self.is_assign:
                state.assign(name, value, self.pos)
            else:
                state.vars.append([name, value])

    def items(self, value: Any, state: State) -> list:
        """(key, element) pairs of a value, or an error for what Go cannot range over."""
        if type(value) is Tainted:
            return self.tainted_items(value, state)
        if isinstance(value, (list, tuple)):
            return list(enumerate(value))
        if isinstance(value, dict):
            return [(key, value[key]) for key in sorted(value)]
        if value is None or value is MISSING:
            return []
        if isinstance(value, int) and not isinstance(value, bool):
            if len(self.decls) > 1:
                raise Failure(f"can't use {value} to iterate over more than one variable", self.pos)
            if value * self.cost > MAX_RENDER_WORK - state.work:  # refused before the list is made
                raise LimitFailure(str(over_budget()), self.pos, self.text)
            return [(index, index) for index in range(value)]
        raise Failure(f"range can't iterate over {format_value(value)}", self.pos)

    def tainted_items(self, value: Tainted, state: State) -> list:
        """Pairs of a caller's list or map: elements tainted, and a map's keys too (they are caller data)."""
        source, inner = value.source, value.value
        keyed = isinstance(inner, dict)
        pairs = []
        for key, element in self.items(inner, state):
            text = key.value if type(key) is Tainted else key
            child = f"{source}.{text}" if type(text) is int else child_source(source, text)
            if keyed and type(key) is not Tainted:
                key = Tainted(key, child)
            pairs.append((key, element if type(element) is Tainted else Tainted(element, child)))
        return pairs


class Jump:
    """`{{break}}` or `{{continue}}`."""

    __slots__ = ("signal",)

    def __init__(self, signal: type) -> None:
        self.signal = signal

    def render(self, state: State, dot: Any) -> None:
        raise self.signal()


class TemplateCall:
    """`{{template "name" pipeline}}`: renders a defined template with a new dot and `$`."""

    __slots__ = ("name", "pipe", "pos", "text")

    def __init__(self, name: str, pipe: Any, pos: int, quoted: str) -> None:
        self.name = name
        self.pipe = pipe
        self.pos = pos
        self.text = f"{{{{template {quoted}{'' if pipe is None else ' ' + pipe.text}}}}}"

    def render(self, state: State, dot: Any) -> None:
        body = state.templates.get(self.name)
        if body is None:
            raise Failure(f'template "{self.name}" not defined', self.pos, self.text)
        if state.depth >= MAX_DEPTH:
            raise Failure(f"exceeded maximum template depth ({MAX_DEPTH})", self.pos, self.text)
        value = MISSING if self.pipe is None else self.pipe.evaluate(state, dot)
        state.charge(STEP_UNITS + static_size(body), self.pos, self.text)
        saved = state.vars
        state.vars, state.depth = [["$", value]], state.depth + 1
        try:
            render_nodes(body, state, value)
        except Failure as failure:
            if failure.executing is None:
                failure.executing = self.name
            raise
        finally:
            state.vars, state.depth = saved, state.depth - 1


class Template:
    """A parsed template: render it many times with different data."""

    def __init__(self, name: str | None, root: tuple, templates: dict, source: Source) -> None:
        self.name = name
        self.root = root
        self.templates = templates
        self.source = source

    def render(self, data: Any, emit: Callable[[str, str], str] | None = None) -> str:
        """The text of the template for data; caller values (Tainted) are printed through emit."""
        state = State(data, emit, self.templates)
        try:
            render_nodes(self.root, state, data)
        except Failure as failure:
            error = self.source.error(failure)
            error.over_limit = isinstance(failure, LimitFailure)
            raise error from None
        return "".join(state.out)
