"""Builds the node tree from tokens, following Go's text/template parser (parse.go)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .building import FunctionRef, argument, build_pipe, make_command, term_constant
from .calls import FunctionSpec
from .errors import BreakLoop, ContinueLoop, Failure
from .lexer import Token, tokenize, unquote
from .nodes import Chain, Const, Dot, Fail, Field, Operand, Paren, Variable
from .printf import go_quote
from .render import Action, If, Jump, Range, TemplateCall, Text

OPERAND_STARTS = frozenset(
    ("bool", "char", "dot", "field", "identifier", "number", "nil", "raw", "string", "variable", "lparen")
)
NOT_EXECUTABLE = (Const, Dot, Fail)


class Stop:
    """`{{end}}` or `{{else}}`, ending a list of nodes."""

    def __init__(self, kind: str, pos: int) -> None:
        self.kind = kind
        self.pos = pos


class Parser:
    """Recursive descent over the tokens of one template text."""

    def __init__(self, text: str, lookup: Callable[[str], FunctionSpec | None]) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.lookup = lookup
        self.vars = ["$"]
        self.range_depth = 0
        self.templates: dict[str, tuple] = {}

    def next(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def next_non_space(self) -> Token:
        token = self.next()
        while token.kind == "space":
            token = self.next()
        return token

    def peek_non_space(self) -> Token:
        token = self.next_non_space()
        self.index -= 1
        return token

    def expect(self, kind: str, context: str) -> Token:
        token = self.next_non_space()
        if token.kind != kind:
            self.unexpected(token, context)
        return token

    def unexpected(self, token: Token, context: str) -> None:
        if token.kind == "eof":
            raise Failure(f"unexpected EOF in {context}", token.pos)
        shown = f"<{token.value}>" if token.kind == token.value else f'"{token.value}"'
        raise Failure(f"unexpected {shown} in {context}", token.pos)

    def parse(self) -> tuple:
        """The root node list; `{{define}}` bodies go to self.templates."""
        root: list = []
        while self.peek_non_space().kind != "eof":
            start = self.index
            if self.next().kind == "left" and self.next_non_space().kind == "define":
                self.define()
                continue
            self.index = start
            node = self.text_or_action()
            if isinstance(node, Stop):
                raise Failure(f"unexpected {{{{{node.kind}}}}}", node.pos)
            root.append(node)
        return self.root_template(tuple(root))

    def root_template(self, root: tuple) -> tuple:
        """Rill's root template is named "": `{{ define "" }}` replaces it when the root has no content."""
        defined = self.templates.get("")
        if defined is not None and is_empty(root):
            return defined
        if defined is not None and not is_empty(defined):
            raise Failure(
                'template: multiple definition of template ""', len(self.tokens) and self.tokens[-1].pos
            )
        self.templates[""] = root
        return root

    def item_list(self) -> tuple[tuple, Stop]:
        """Nodes up to an `{{end}}` or `{{else}}`."""
        nodes: list = []
        while self.peek_non_space().kind != "eof":
            node = self.text_or_action()
            if isinstance(node, Stop):
                return tuple(nodes), node
            nodes.append(node)
        raise Failure("unexpected EOF", self.tokens[-1].pos)

    def text_or_action(self) -> Any:
        token = self.next_non_space()
        if token.kind == "text":
            return Text(token.value)
        if token.kind != "left":
            self.unexpected(token, "input")
        token = self.next_non_space()
        control = CONTROLS.get(token.kind)
        if control is not None:
            return control(self, token)
        self.index -= 1
        cmds, decls, is_assign, pos = self.pipeline("command", "right")
        return Action(build_pipe(cmds, decls, is_assign, pos), prints=not decls)

    def end(self, token: Token) -> Stop:
        self.expect("right", "end")
        return Stop("end", token.pos)

    def else_(self, token: Token) -> Stop:
        if self.peek_non_space().kind not in ("if", "with"):
            self.expect("right", "else")
        return Stop("else", token.pos)

    def jump(self, token: Token) -> Jump:
        self.expect("right", f"{{{{{token.kind}}}}}")
        if not self.range_depth:
            raise Failure(f"{{{{{token.kind}}}}} outside {{{{range}}}}", token.pos)
        return Jump(BreakLoop if token.kind == "break" else ContinueLoop)

    def control(self, context: str) -> tuple:
        """The pipeline, body and else body of if/with/range; `else if` and `else with` chain."""
        mark = len(self.vars)
        pipe = self.pipeline(context, "right")
        self.range_depth += context == "range"
        body, stop = self.item_list()
        self.range_depth -= context == "range"
        else_body: tuple = ()
        if stop.kind == "else":
            chained = self.tokens[self.index]
            if context in ("if", "with") and chained.kind == context:
                self.index += 1
                else_body = (CONTROLS[context](self, chained),)
            else:
                else_body, stop = self.item_list()
                if stop.kind != "end":
                    raise Failure("expected end; found {{else}}", stop.pos)
        del self.vars[mark:]
        return pipe, body, else_body

    def if_(self, token: Token) -> If:
        pipe, body, else_body = self.control("if")
        return If(build_pipe(*pipe), body, else_body, sets_dot=False)

    def with_(self, token: Token) -> If:
        pipe, body, else_body = self.control("with")
        return If(build_pipe(*pipe), body, else_body, sets_dot=True)

    def range_(self, token: Token) -> Range:
        (cmds, decls, is_assign, pos), body, else_body = self.control("range")
        return Range(build_pipe(cmds, (), False, pos), tuple(decls), is_assign, body, else_body, pos)

    def template(self, token: Token) -> TemplateCall:
        name_token = self.peek_non_space()
        name = self.template_name("template clause")
        if self.next_non_space().kind == "right":
            return TemplateCall(name, None, name_token.pos, name_token.value)
        self.index -= 1
        pipe = build_pipe(*self.pipeline("template clause", "right"))
        return TemplateCall(name, pipe, name_token.pos, name_token.value)

    def block(self, token: Token) -> TemplateCall:
        name_token = self.peek_non_space()
        name = self.template_name("block clause")
        pipe = build_pipe(*self.pipeline("block clause", "right"))
        self.define_body(name, "block clause")
        return TemplateCall(name, pipe, name_token.pos, name_token.value)

    def define(self) -> None:
        name = self.template_name("define clause")
        self.expect("right", "define clause")
        self.define_body(name, "define clause")

    def define_body(self, name: str, context: str) -> None:
        saved, self.vars = self.vars, ["$"]
        body, stop = self.item_list()
        if stop.kind != "end":
            raise Failure(f"unexpected {{{{else}}}} in {context}", stop.pos)
        self.vars = saved
        if not is_empty(body) and not is_empty(self.templates.get(name, ())):
            raise Failure(f'template: multiple definition of template "{name}"', stop.pos)
        if name not in self.templates or not is_empty(body):
            self.templates[name] = body

    def template_name(self, context: str) -> str:
        token = self.next_non_space()
        if token.kind not in ("string", "raw"):
            self.unexpected(token, context)
        return unquote(token)

    def pipeline(self, context: str, end: str) -> tuple:
        """Commands up to `end`: (commands, declared variables, is assignment, position)."""
        pos = self.peek_non_space().pos
        decls, is_assign = self.declarations(context)
        cmds: list = []
        while True:
            token = self.next_non_space()
            if token.kind == end:
                return self.check_pipeline(cmds, context, token), decls, is_assign, pos
            if token.kind in OPERAND_STARTS:
                self.index -= 1
                cmds.append(self.command())
            elif token.kind == "right" and end == "rparen":
                raise Failure("unclosed left paren", token.pos)
            elif token.kind == "rparen":
                self.unexpected(token, context)
            else:
                self.unexpected(token, context)

    def declarations(self, context: str) -> tuple[list[str], bool]:
        """`$x :=`, `$x =` or (in range) `$i, $v :=` at the start of a pipeline."""
        decls: list[str] = []
        while True:
            start = self.index
            variable = self.next_non_space()
            after = self.next_non_space() if variable.kind == "variable" else variable
            if after.kind in ("declare", "assign"):
                return [*decls, self.declare(variable)], after.kind == "assign"
            if variable.kind != "variable" or after.kind != "comma":
                self.index = start
                return decls, False
            decls.append(self.declare(variable))
            if context != "range" or len(decls) >= 2:
                raise Failure(f"too many declarations in {context}", after.pos)
            if self.peek_non_space().kind not in ("variable", "right", "rparen"):
                raise Failure("range can only initialize variables", after.pos)

    def declare(self, token: Token) -> str:
        self.vars.append(token.value)
        return token.value

    def check_pipeline(self, cmds: list, context: str, token: Token) -> list:
        if not cmds:
            raise Failure(f"missing value for {context}", token.pos)
        for stage, cmd in enumerate(cmds[1:], start=2):
            if isinstance(cmd.node if isinstance(cmd, Operand) else cmd, NOT_EXECUTABLE):
                raise Failure(f"non executable command in pipeline stage {stage}", token.pos)
        return cmds

    def command(self) -> Any:
        """One command: operands separated by spaces, ending at `|`, `}}` or `)`."""
        args: list = []
        pos = self.peek_non_space().pos
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            token = self.next()
            if token.kind == "space":
                continue
            if token.kind in ("right", "rparen"):
                self.index -= 1
            elif token.kind != "pipe":
                self.unexpected(token, "operand")
            break
        if not args:
            raise Failure("empty command", pos)
        return make_command(args, pos)

    def operand(self) -> Any:
        """A term with optional `.field` chain."""
        token = self.tokens[self.index]
        node = self.term()
        if node is None or self.tokens[self.index].kind != "field":
            return node
        names, chain_pos = [], self.tokens[self.index].pos  # Go places a chain at its first `.field`
        while self.tokens[self.index].kind == "field":
            names.append(self.next().value[1:])
        if isinstance(node, Field):
            return Field(node.names + tuple(names), chain_pos)
        if isinstance(node, Variable):
            return Variable(node.name, tuple(names), chain_pos)
        if isinstance(node, NOT_EXECUTABLE):
            raise Failure(f"unexpected . after term {go_quote(node.text)}", token.pos)
        return Chain(argument(node), tuple(names), chain_pos)

    def term(self) -> Any:
        token = self.next_non_space()
        kind = token.kind
        if kind == "identifier":
            spec = self.lookup(token.value)
            if spec is None:
                raise Failure(f'function "{token.value}" not defined', token.pos)
            return FunctionRef(spec, token.pos)
        if kind == "variable":
            if token.value not in self.vars:
                raise Failure(f'undefined variable "{token.value}"', token.pos)
            return Variable(token.value, (), token.pos)
        if kind == "lparen":
            return Paren(build_pipe(*self.pipeline("parenthesized pipeline", "rparen")))
        value = term_constant(token)
        if value is not None:
            return value
        self.index -= 1
        return None


def is_empty(body: tuple) -> bool:
    """Go's IsEmptyTree: only whitespace text."""
    return all(isinstance(node, Text) and not node.text.strip() for node in body)


CONTROLS: dict[str, Callable] = {
    "block": Parser.block,
    "break": Parser.jump,
    "continue": Parser.jump,
    "else": Parser.else_,
    "end": Parser.end,
    "if": Parser.if_,
    "range": Parser.range_,
    "template": Parser.template,
    "with": Parser.with_,
}
