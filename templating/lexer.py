"""Splits template text into tokens like Go's text/template lexer: text, delimiters and action words."""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import Failure

SPACES = " \t\r\n"
LEFT_TRIMS = frozenset("-" + space for space in SPACES)
RIGHT_TRIMS = frozenset(space + "-}}" for space in SPACES)
KEYWORDS = frozenset(
    ("block", "break", "continue", "define", "else", "end", "if", "range", "template", "with")
)
CONSTANT_WORDS = {"true": "bool", "false": "bool", "nil": "nil"}

ACTION_TOKEN = re.compile(
    r"""
  (?P<space>[ \t\r\n]+)
| (?P<declare>:=)
| (?P<assign>=)
| (?P<pipe>\|)
| (?P<lparen>\()
| (?P<rparen>\))
| (?P<comma>,)
| (?P<string>"(?:[^"\\\n]|\\.)*")
| (?P<raw>`[^`]*`)
| (?P<char>'(?:[^'\\\n]|\\.)+')
| (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+
    |(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?)i?)
| (?P<field>\.[^\W\d]\w*)
| (?P<dot>\.)
| (?P<variable>\$\w*)
| (?P<word>[^\W\d]\w*)
""",
    re.VERBOSE,
)
UNTERMINATED = {
    '"': "unterminated quoted string",
    "`": "unterminated raw quoted string",
    "'": "unterminated character constant",
}


class Token(NamedTuple):
    """One lexical item: its kind, its text and its offset in the template."""

    kind: str
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """All tokens of a template, ending with an `eof` token; raises Failure on a lexical error."""
    tokens: list[Token] = []
    pos, trim_next = 0, False
    while True:
        start = text.find("{{", pos)
        chunk = text[pos:] if start < 0 else text[pos:start]
        trim_left = start >= 0 and text[start + 2 : start + 4] in LEFT_TRIMS
        if trim_next:
            chunk = chunk.lstrip(SPACES)
        if trim_left:
            chunk = chunk.rstrip(SPACES)
        if chunk:
            tokens.append(Token("text", chunk, pos))
        if start < 0:
            tokens.append(Token("eof", "", len(text)))
            return tokens
        tokens.append(Token("left", "{{", start))
        inside = start + (4 if trim_left else 2)
        if text.startswith("/*", inside):
            pos, trim_next = lex_comment(text, inside, start)
            tokens.pop()
        else:
            pos, trim_next = lex_action(text, inside, start, tokens)


def lex_comment(text: str, pos: int, start: int) -> tuple[int, bool]:
    """Skips `/* ... */` and its closing delimiter; returns where text resumes and whether to trim."""
    end = text.find("*/", pos + 2)
    if end < 0:
        raise Failure("unclosed comment", start)
    end += 2
    if text.startswith("}}", end):
        return end + 2, False
    if text[end : end + 4] in RIGHT_TRIMS:
        return end + 4, True
    raise Failure("comment ends before closing delimiter", start)


def lex_action(text: str, pos: int, start: int, tokens: list[Token]) -> tuple[int, bool]:
    """Tokens of one action up to its `}}`; returns where text resumes and whether to trim what follows."""
    size = len(text)
    while pos < size:
        if text.startswith("}}", pos):
            tokens.append(Token("right", "}}", pos))
            return pos + 2, False
        if text[pos] in SPACES and text.startswith("-}}", pos + 1):
            tokens.append(Token("right", "}}", pos))
            return pos + 4, True
        match = ACTION_TOKEN.match(text, pos)
        if match is None:
            raise Failure(bad_character(text[pos]), pos)
        kind, value = match.lastgroup, match.group()
        end = match.end()
        if kind == "space" and text.startswith("-}}", end) and end - 1 > pos:
            end -= 1
            value = value[:-1]
        elif kind == "number" and end < size and (text[end].isalnum() or text[end] == "_"):
            raise Failure(f'bad number syntax: "{text[pos : end + 1]}"', pos)
        elif kind == "word":
            kind = value if value in KEYWORDS else CONSTANT_WORDS.get(value, "identifier")
        tokens.append(Token(kind, value, pos))
        pos = end
    raise Failure("unclosed action", start)


def bad_character(char: str) -> str:
    """Go's message for a character that cannot start a token."""
    if char in UNTERMINATED:
        return UNTERMINATED[char]
    return f"unrecognized character in action: U+{ord(char):04X} '{char}'"


ESCAPE = re.compile(
    r"""\\(?:([abfnrtv\\"'])|x([0-9a-fA-F]{2})|([0-7]{3})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))"""
)
SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


def unquote(token: Token) -> str:
    """The value of a string or character literal, with Go's escapes; raises Failure on a bad escape."""
    body = token.value[1:-1]
    if token.kind == "raw":
        return body.replace("\r", "")
    quote = token.value[0]

    def replace(match: re.Match) -> str:
        simple, hex_byte, octal, short, long, bad = match.groups()
        if bad is not None or (simple is not None and simple in "\"'" and simple != quote):
            raise Failure("invalid syntax", token.pos)
        if simple is not None:
            return SIMPLE_ESCAPES[simple]
        return chr(int(hex_byte or short or long or "0", 16) if octal is None else int(octal, 8))

    return ESCAPE.sub(replace, body)


def number_value(token: Token) -> int | float:
    """The value of a number or character constant as Go's idealConstant gives it (int or float64)."""
    if token.kind == "char":
        text = unquote(token)
        if len(text) != 1:
            raise Failure(f"malformed character constant: {token.value}", token.pos)
        return ord(text)
    text = token.value.replace("_", "")
    if text.endswith("i"):
        raise Failure(f"complex constants are not supported: {token.value}", token.pos)
    digits = text.lstrip("+-")
    negative = text.startswith("-")
    is_hex = digits[:2].lower() == "0x"
    if is_hex and any(char in digits for char in ".pP"):
        value: int | float = float.fromhex(digits)
    elif is_hex or digits[:2].lower() in ("0b", "0o"):
        value = int(digits, 0)
    elif len(digits) > 1 and digits.startswith("0") and digits.isdigit():
        value = int(digits, 8)
    elif any(char in digits for char in ".eE"):
        value = float(digits)
    else:
        value = int(digits)
    return -value if negative else value
