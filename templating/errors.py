"""Template errors: one public exception printed as Go prints it, and the internal signals of the renderer.

Parse errors read `template: NAME:LINE: MESSAGE` (Go gives no column; `column` still holds ours, 1-based);
execution errors read `template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE` with Go's 0-based
byte column of the failing node. NAME is the template's file name where Rill would print "".
"""

from __future__ import annotations

from bisect import bisect_right


class TemplateError(Exception):
    """A template that cannot be parsed or rendered; `message` is Go's text after the place."""

    def __init__(
        self,
        message: str,
        name: str | None = None,
        line: int | None = None,
        column: int | None = None,
        executing: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.line = line
        self.column = column
        self.executing = executing
        self.over_limit = False  # a render stopped by a limit of templating.budget (sizes, work)

    def __str__(self) -> str:
        if self.line is None:
            return f"template: {self.name}: {self.message}" if self.name is not None else self.message
        place = f"{self.name or ''}:{self.line}"
        if self.executing:
            place += f":{self.column}"
        return f"template: {place}: {self.message}"


class Failure(Exception):
    """Raised inside the engine with a text offset; turned into a TemplateError by its Source. `context` is
    the Go text of the failing node (execution errors); `executing` the defined template being run."""

    def __init__(self, message: str, pos: int | None = None, context: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.context = context
        self.executing: str | None = None

    def claim(self, context: str, pos: int) -> None:
        """Places an execution error at a node, unless an inner node already did."""
        if self.context is None:
            self.context, self.pos = context, pos


class LimitFailure(Failure):
    """A render over a limit of templating.budget: a value too large or the work budget spent."""


class BreakLoop(Exception):
    """`{{break}}`: leaves the innermost range."""


class ContinueLoop(Exception):
    """`{{continue}}`: goes on with the next iteration of the innermost range."""


class Source:
    """The text of one parse: turns offsets into lines and columns for errors."""

    def __init__(self, text: str, name: str | None, line_offset: int = 0) -> None:
        self.text = text
        self.name = name
        self.line_offset = line_offset
        self.line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]

    def error(self, failure: Failure) -> TemplateError:
        """The TemplateError of a parse failure (1-based column) or an execution failure (Go's text)."""
        pos = failure.pos
        if pos is None:
            return TemplateError(failure.message, self.name)
        index = bisect_right(self.line_starts, pos) - 1
        line = index + 1 + self.line_offset
        if failure.context is None:
            return TemplateError(failure.message, self.name, line, pos - self.line_starts[index] + 1)
        column = len(self.text[self.line_starts[index] : pos].encode())
        executing = self.name if failure.executing is None else failure.executing
        message = f'executing "{executing or ""}" at <{failure.context}>: {failure.message}'
        return TemplateError(message, self.name, line, column, executing=True)
