"""Turns parsed operands into evaluation nodes: calls, logic, operands and pipelines."""

from __future__ import annotations

from typing import Any

from .calls import FunctionSpec
from .lexer import Token, number_value, unquote
from .nodes import (
    Call,
    Chain,
    Const,
    Dot,
    Fail,
    Field,
    Logic,
    MethodCall,
    Operand,
    Pipeline,
    Variable,
    unwrap,
)


class FunctionRef:
    """An identifier while parsing: a call when it starts a command, a call without arguments elsewhere."""

    def __init__(self, spec: FunctionSpec, pos: int) -> None:
        self.spec = spec
        self.pos = pos


def term_constant(token: Token) -> Any:
    """The node of a literal, dot or field token, or None for any other token."""
    kind = token.kind
    if kind == "field":
        return Field((token.value[1:],), token.pos)
    if kind == "dot":
        return Dot(token.pos)
    if kind in ("string", "raw"):
        return Const(unquote(token), "string", token.value, pos=token.pos)
    if kind in ("number", "char"):
        number = number_value(token)
        value = number.ideal()
        if value is None:
            return Fail(f"{token.value} overflows int", token.pos, token.value)
        return Const(value, "number", token.value, number, token.pos)
    if kind == "bool":
        return Const(token.value == "true", "bool", token.value, pos=token.pos)
    return Const(None, "nil", "nil", pos=token.pos) if kind == "nil" else None


def argument(node: Any) -> Any:
    """An operand used as a value: a function name there is a call without arguments."""
    return Call(node.spec, (), node.pos) if isinstance(node, FunctionRef) else node


def make_command(args: list, pos: int) -> Any:
    """The node of a command from its operands."""
    first, rest = args[0], tuple(argument(arg) for arg in args[1:])
    if isinstance(first, FunctionRef):
        if getattr(first.spec.function, "short_circuit", False):
            return Logic(first.spec.name, rest, first.pos)
        return Call(first.spec, rest, first.pos)
    if isinstance(first, Const) and first.kind == "nil":
        return Operand(first, "nil is not a command", pos)
    if rest and method_receiver(first) is not None:
        return MethodCall(method_receiver(first), last_name(first), rest, first.pos, first.text)
    return Operand(first, operand_error(first), pos, rest) if rest else first


def last_name(node: Any) -> str:
    return node.names[-1]


def method_receiver(node: Any) -> Any:
    """For `.a.M`, `$x.M` or `(p).M`: the node of the value whose method M is called, else None."""
    if isinstance(node, Field):
        return Field(node.names[:-1], node.pos) if len(node.names) > 1 else Dot(node.pos)
    if isinstance(node, Variable) and node.names:
        return Variable(node.name, node.names[:-1], node.pos)
    if isinstance(node, Chain):
        return Chain(node.node, node.names[:-1], node.pos) if len(node.names) > 1 else node.node
    return None


def operand_error(node: Any) -> str:
    """Go's error for arguments given to something that is not a function."""
    if isinstance(node, Field):
        return f"{node.names[-1]} is not a method but has arguments"
    return "can't give argument to non-function"


def build_pipe(cmds: list, decls: list | tuple, is_assign: bool, pos: int) -> Any:
    """A pipeline node; a lone command without declarations is evaluated directly."""
    later = [
        cmd
        if hasattr(cmd, "spec") or isinstance(cmd, (Operand, Logic, MethodCall))
        else MethodCall(method_receiver(cmd), last_name(cmd), (), cmd.pos, cmd.text)
        if method_receiver(cmd) is not None
        else Operand(cmd, operand_error(cmd), cmd.pos)
        for cmd in cmds[1:]
    ]
    if not later and not decls:
        return unwrap((cmds[0],))[0]
    return Pipeline([cmds[0], *later], tuple(decls), is_assign, pos)
