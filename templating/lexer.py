"""Splits template text into tokens like Go's text/template lexer: text, delimiters and action words."""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import Failure
from .values import GoInt

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
        kind, value = match.lastgroup or "", match.group()
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


class Number:
    """A number or character constant as Go's parser reads it: which of int64, uint64 and float64 it fits."""

    __slots__ = (
        "complex_value",
        "float_value",
        "int_value",
        "is_float",
        "is_int",
        "is_rune",
        "is_uint",
        "text",
    )

    def __init__(self, text: str, is_rune: bool = False) -> None:
        self.text, self.is_rune = text, is_rune
        self.complex_value: complex | None = None
        self.is_int = self.is_uint = self.is_float = False
        self.int_value, self.float_value = 0, 0.0

    def ideal(self) -> int | float | complex | None:
        """Go's idealConstant (an argument of type any): float64 when written as one, else int; None when
        it overflows int."""
        if self.complex_value is not None:
            return self.complex_value
        if self.is_float and not self.is_rune and not is_hex_int(self.text) and has_float_mark(self.text):
            return self.float_value
        return GoInt(self.int_value) if self.is_int else None


def has_float_mark(text: str) -> bool:
    return any(char in text for char in ".eEpP")


def is_hex_int(text: str) -> bool:
    """Go's isHexInt: 0x... without a fraction or p exponent."""
    digits = text.lstrip("+-")
    return digits[:2].lower() == "0x" and not any(char in digits for char in ".pP")


INT64_MIN, INT64_MAX, UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1
DECIMAL = re.compile(r"[0-9]+(_[0-9]+)*")


def parse_go_int(text: str) -> int | None:
    """strconv.ParseInt/ParseUint with base 0 (sign, 0x 0o 0b prefixes, a leading 0 for octal, underscores
    between digits), without the range check; None for bad syntax."""
    negative = text.startswith("-")
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.replace("_", "").isalnum():
        return None
    base, body = 10, digits
    prefix = digits[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        base, body = {"0x": 16, "0o": 8, "0b": 2}[prefix], digits[2:].removeprefix("_")
    elif len(digits) > 1 and digits[0] == "0":
        base, body = 8, digits[1:].removeprefix("_")
    if not body or body.startswith("_") or body.endswith("_") or "__" in body:
        return None
    try:
        value = int(body.replace("_", ""), base)
    except ValueError:
        return None
    return -value if negative else value


def parse_go_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64): decimal and hex forms; None for bad syntax or out of range."""
    body = text.lstrip("+-")
    if "_" in body and (body.startswith("_") or body.endswith("_") or "__" in body):
        return None
    try:
        if body[:2].lower() == "0x":
            value = float.fromhex(body.replace("_", ""))
        elif re.fullmatch(r"([0-9_]+\.?[0-9_]*|\.[0-9_]+)([eE][+-]?[0-9_]+)?", body):
            value = float(body.replace("_", ""))
        else:
            return None
    except (ValueError, OverflowError):
        return None
    if value in (float("inf"), float("-inf")):
        return None
    return -value if text.startswith("-") else value


def number_value(token: Token) -> Number:
    """A number or character constant token read as Go's parser does (newNumber); raises Failure for
    what Go refuses at parse time."""
    if token.kind == "char":
        text = unquote(token)
        if len(text) != 1:
            raise Failure(f"malformed character constant: {token.value}", token.pos)
        number = Number(token.value, is_rune=True)
        number.is_int = number.is_uint = number.is_float = True
        number.int_value, number.float_value = ord(text), float(ord(text))
        return number
    text = token.value
    number = Number(text)
    if text.endswith("i"):
        imaginary = parse_go_float(text[:-1]) if has_float_mark(text[:-1]) else parse_go_int(text[:-1])
        if imaginary is None:
            raise Failure(f'illegal number syntax: "{text}"', token.pos)
        number.complex_value = complex(0, float(imaginary))
        return number
    whole = parse_go_int(text) if not (has_float_mark(text) and not is_hex_int(text)) else None
    if whole is not None and INT64_MIN <= whole <= UINT64_MAX:
        number.is_uint = 0 <= whole
        number.is_int = whole <= INT64_MAX
        number.is_float, number.int_value, number.float_value = True, whole, float(whole)
        return number
    value = parse_go_float(text)
    if value is not None:
        if not has_float_mark(text):
            raise Failure(f'integer overflow: "{text}"', token.pos)
        number.is_float, number.float_value = True, value
        if value.is_integer():
            whole = int(value)
            number.is_int = INT64_MIN <= whole <= INT64_MAX
            number.is_uint = 0 <= whole <= UINT64_MAX
            number.int_value = whole
        return number
    if whole is not None:
        raise Failure(f'integer overflow: "{text}"', token.pos)
    raise Failure(f'illegal number syntax: "{text}"', token.pos)
