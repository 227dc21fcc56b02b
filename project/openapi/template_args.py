"""Which caller arguments a parsed template reads, found by walking its node tree (read-only).

An API without declared parameters still takes `?name=value` for every `.args.<name>` its SQL reads; the
OpenAPI document lists those as optional string query parameters so that "Try it out" can send them.
Recognised reads: `.args.x` (and `.args.x.y`, which reads x), `$.args.x`, a variable holding `.args`
(`$a := .args` then `$a.x`), `(.args).x`, and the key functions `index .args "x"`, `hasKey .args "x"`,
`get .args "x"` and `dig "x" ... .args`. A key computed at run time cannot be known and is left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from templating import Template
from templating.nodes import Call, Chain, Const, Field, Operand, Pipeline, Variable

ARGS = "args"
MAP_FIRST = frozenset({"index", "hasKey", "get"})  # f .args "x"
MAP_LAST = frozenset({"dig"})  # dig "x" "y" default .args
TREE_MODULES = ("templating.nodes", "templating.render")


def argument_names(template: Template) -> tuple[str, ...]:
    """The `.args` keys the template (and the templates it defines) reads, in order of first appearance."""
    nodes = list(_walk((template.root, *template.templates.values())))
    reader = _Reader()
    for node in nodes:  # first the variables that hold `.args`, wherever they are declared
        reader.note_alias(node)
    first_read: dict[str, int] = {}
    for node in nodes:
        name = reader.read_by(node)
        if name is not None:
            first_read[name] = min(first_read.get(name, node.pos), node.pos)
    return tuple(sorted(first_read, key=lambda name: (first_read[name], name)))


class _Reader:
    """Tells which argument a node reads; knows the variables declared to hold `.args` itself."""

    def __init__(self) -> None:
        self.aliases: set[str] = set()

    def note_alias(self, node: Any) -> None:
        """`$a := .args` (or `= $.args`): `$a.x` then reads x."""
        if type(node) is Pipeline and node.decls and not node.rest and self.is_args(node.first):
            self.aliases.update(node.decls)

    def read_by(self, node: Any) -> str | None:
        """The argument one node reads, if it is a read of one."""
        kind = type(node)
        if kind is Field and len(node.names) > 1 and node.names[0] == ARGS:
            return node.names[1]
        if kind is Variable:
            if node.name == "$" and len(node.names) > 1 and node.names[0] == ARGS:
                return node.names[1]
            if node.name in self.aliases and node.names:
                return node.names[0]
        if kind is Chain and node.names and self.is_args(node.node):
            return node.names[0]
        if kind is Call:
            return self.key_read_by(node)
        return None

    def key_read_by(self, call: Call) -> str | None:
        """`index .args "x"` and its kin: the literal key they look up in `.args`."""
        args, name = call.args, call.spec.name
        if name in MAP_FIRST and len(args) >= 2 and self.is_args(args[0]):
            return _literal(args[1])
        if name in MAP_LAST and len(args) >= 2 and self.is_args(args[-1]):
            return _literal(args[0])
        return None

    def is_args(self, node: Any) -> bool:
        """Whether a node's value is the `.args` map itself."""
        if type(node) is Operand:
            node = node.node
        if type(node) is Field:
            return node.names == (ARGS,)
        if type(node) is Variable:
            return (node.name == "$" and node.names == (ARGS,)) or (
                node.name in self.aliases and not node.names
            )
        return False


def _literal(node: Any) -> str | None:
    return node.value if type(node) is Const and isinstance(node.value, str) else None


def _walk(value: Any) -> Iterator[Any]:
    """Every node below `value` (its own too); the order is the classes' attribute order, not the source's."""
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _walk(item)
        return
    if not type(value).__module__.startswith(TREE_MODULES):
        return
    yield value
    for slot in _slots(type(value)):
        yield from _walk(getattr(value, slot, None))


def _slots(kind: type) -> Iterator[str]:
    """The node's attributes (`__slots__` up its classes)."""
    for klass in reversed(kind.__mro__):
        slots = klass.__dict__.get("__slots__", ())
        yield from (slots,) if isinstance(slots, str) else slots
