"""Placing an engine's SQL error in the project file the SQL came from: `file:line:column`, quoting the line
as the author wrote it (the engine quotes the rendered and bound text, which the author never wrote).

The engine counts lines of the rendered query; a template keeps the text between its actions, so rendered
line n is the template's line n unless an action spanning lines came before it (the place is then approximate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ENGINE_LINE = re.compile(r"\n*LINE (\d+):(?P<quote>[^\n]*)\n(?P<caret> *)\^[^\n]*", re.MULTILINE)
NAMED = re.compile(r'(?:at or near|column|with name)\s+"?([A-Za-z_][A-Za-z0-9_.]*)"?')
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Place:
    line: int  # in the file
    column: int | None  # in the file
    text: str  # the template's line (the file's line without the YAML block's indentation)
    text_column: int | None  # the column in `text`


def place_engine_error(
    message: str, template_text: str, line_offset: int, column_offset: int
) -> tuple[str, Place | None]:
    """The message without the engine's own quote, and where in the file the error is (None: unknown).
    Without a `LINE n:` from the engine, the first line of the template holding the name it complains
    about is the place."""
    lines = template_text.splitlines()
    match = ENGINE_LINE.search(message)
    bare = message if match is None else (message[: match.start()] + message[match.end() :]).rstrip()
    named = NAMED.search(bare)
    words = [named.group(1).split(".")[-1]] if named else []
    if match is not None:
        number = int(match.group(1))
        pointed = _word_at("LINE " + match.group(1) + ":" + match.group("quote"), len(match.group("caret")))
        candidates = [number] if 1 <= number <= len(lines) else []
        words = [word for word in (pointed, *words) if word]
    else:
        candidates = [number for number, text in enumerate(lines, 1) if _find(words, text)]
    if not candidates:
        return bare, None
    number = candidates[0]
    text = lines[number - 1]
    column = _caret_column(match, text) if match is not None else None
    column = column or _find(words, text)
    return bare, Place(line_offset + number, None if column is None else column + column_offset, text, column)


def place_line(
    template_text: str, number: int, column: int | None, line_offset: int, column_offset: int
) -> Place | None:
    """A place the checker already counted in the rendered query (line, column), moved into the file."""
    lines = template_text.splitlines()
    if not 1 <= number <= len(lines):
        return None
    file_column = None if column is None else column + column_offset
    return Place(line_offset + number, file_column, lines[number - 1], column)


def _caret_column(match: re.Match, text: str) -> int | None:
    """The caret's column when the engine quoted the line exactly as the template has it."""
    prefix = len("LINE " + match.group(1) + ": ")
    if match.group("quote")[1:] != text:
        return None
    return len(match.group("caret")) - prefix + 1


def _find(words: list[str], text: str) -> int | None:
    """1-based column of the first of the words found in the line (as a whole word, any case)."""
    for word in words:
        if not (word[0].isalnum() or word[0] == "_"):
            return text.find(word) + 1 if word in text else None
        found = re.search(r"(?<![A-Za-z0-9_])" + re.escape(word) + r"(?![A-Za-z0-9_])", text, re.IGNORECASE)
        if found:
            return found.start() + 1
    return None


def _word_at(line: str, index: int) -> str | None:
    """The token the engine's caret points at (a word, or a single symbol such as a comma)."""
    if 0 <= index < len(line) and not (line[index].isalnum() or line[index] == "_"):
        return line[index] if not line[index].isspace() else None
    for found in WORD.finditer(line):
        if found.start() <= index < found.end():
            return found.group(0)
    return None


def with_quote(message: str, place: Place) -> str:
    """The message followed by the file's line and a caret under the column."""
    caret = "" if place.text_column is None else "\n" + " " * (place.text_column - 1) + "^"
    return f"{message}\n\n{place.text}{caret}"
