"""Template errors: one public exception with Go-style places, and the internal signals of the renderer."""

from __future__ import annotations

from bisect import bisect_right


class TemplateError(Exception):
    """A template that cannot be parsed or rendered; `str()` reads like Go: `name:line:column: message`."""

    def __init__(
        self, message: str, name: str | None = None, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.line = line
        self.column = column

    def __str__(self) -> str:
        place = ":".join(str(part) for part in (self.name, self.line, self.column) if part is not None)
        return f"{place}: {self.message}" if place else self.message


class Failure(Exception):
    """Raised inside the engine with a text offset; turned into a TemplateError by its Source."""

    def __init__(self, message: str, pos: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


class BreakLoop(Exception):
    """`{{break}}`: leaves the innermost range."""


class ContinueLoop(Exception):
    """`{{continue}}`: goes on with the next iteration of the innermost range."""


class Source:
    """The text of one parse: turns offsets into 1-based lines and columns for errors."""

    def __init__(self, text: str, name: str | None, line_offset: int = 0) -> None:
        self.name = name
        self.line_offset = line_offset
        self.line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]

    def error(self, message: str, pos: int | None) -> TemplateError:
        """A TemplateError for a message at a text offset (or without a place when the offset is unknown)."""
        if pos is None:
            return TemplateError(message, self.name)
        index = bisect_right(self.line_starts, pos) - 1
        line = index + 1 + self.line_offset
        return TemplateError(message, self.name, line, pos - self.line_starts[index] + 1)
