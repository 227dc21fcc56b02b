"""Logging for every way Sluice runs (dev server, gunicorn, embedded): plain lines or one JSON object per line.

`create_app()` calls `configure_logging()`. When the host already configured logging (a handler on the root
logger), Sluice's records simply propagate to it; otherwise Sluice installs its own handler on stderr.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

LOGGERS = ("sluice", "werkzeug")  # werkzeug: the dev server's start-up and error lines
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
# A colour sequence, or one character that would break a line or drive a terminal (C0 and C1 controls but
# tab, DEL, the Unicode line and paragraph separators).
COLOUR_OR_CONTROL = re.compile(r"\x1b\[[0-9;]*m|[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
ESCAPES = {"\n": "\\n", "\r": "\\r"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVEL_COLOURS = {"WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}
# Fields a record may carry through `extra=`; the JSON format writes them as keys, the text format as key=value.
FIELDS = (
    "request_id",
    "method",
    "path",
    "api",
    "status",
    "rows",
    "bytes",
    "duration_ms",
    "client",
    "file",
    "line",
    "model",
    "seconds",
    "kind",
)


def one_line(text: str, colour: bool = False) -> str:
    """`text` as one line of a log: a line break or other control character is written as its escape (`\\n`,
    `\\x1b`), so a value from a caller (a path, an argument quoted in an error) can neither start a forged
    line nor drive the terminal. Colour sequences are kept with `colour`, dropped without."""
    if text.isprintable():  # the usual case, and quick: every character the pattern finds is unprintable
        return text

    def replace(match: re.Match[str]) -> str:
        found = match.group()
        if len(found) > 1:
            return found if colour else ""
        return ESCAPES.get(found) or (
            f"\\x{ord(found):02x}" if ord(found) < 0x100 else f"\\u{ord(found):04x}"
        )

    return COLOUR_OR_CONTROL.sub(replace, text)


def _without_colour(text: str) -> str:
    return ANSI_ESCAPE.sub("", text) if "\x1b" in text else text


class SecondStamp:
    """A second's text, formatted once and kept until the clock moves on: formatting the time anew was a
    fifth of a request line's cost. Safe across threads (one tuple, swapped whole)."""

    def __init__(self, format_second: Callable[[int], str]) -> None:
        self._format_second = format_second
        self._last: tuple[int, str] = (-1, "")

    def __call__(self, created: float) -> str:
        second = int(created)
        last = self._last
        if last[0] != second:
            last = self._last = (second, self._format_second(second))
        return last[1]


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`; one line per message (a traceback follows on its own lines),
    colour only on a terminal, and never a stray escape code."""

    def __init__(self, colour: bool) -> None:
        super().__init__(TEXT_FORMAT)
        self.colour = colour
        self._second = SecondStamp(
            lambda second: time.strftime(self.default_time_format, self.converter(second))
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        return f"{self._second(record.created)},{int(record.msecs):03d}"

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.message, self.colour)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if not self.colour:
            return _without_colour(text)
        code = LEVEL_COLOURS.get(record.levelname)
        return f"\x1b[{code}m{text}\x1b[0m" if code else text


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors: time, level, logger, message and the record's fields."""

    def __init__(self) -> None:
        super().__init__()
        self._second = SecondStamp(
            lambda second: datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        )

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": f"{self._second(record.created)}.{int(record.msecs):03d}+00:00",
            "level": record.levelname,
            "pid": record.process,
            "logger": record.name,
            "message": _without_colour(record.getMessage()),
        }
        entry.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class SluiceHandler(logging.StreamHandler):
    """The handler Sluice installs itself (recognised so that a second create_app replaces, not doubles, it)."""


def configure_logging(log_format: str = "text", level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Send Sluice's log records to stderr in `log_format` ("text" or "json"), unless the host logs already."""
    stream = stream or sys.stderr
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level.upper())
        for handler in [h for h in logger.handlers if isinstance(h, SluiceHandler)]:
            logger.removeHandler(handler)
        logger.propagate = True
    if logging.getLogger().handlers:
        return  # the host configured logging: our records propagate to its handlers
    handler = SluiceHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(_is_terminal(stream)))
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).propagate = False


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
