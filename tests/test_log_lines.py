"""A caller cannot forge or split log lines: every message is one line, whatever the path or the values an
error quotes (a line break, a carriage return, a terminal escape, a Unicode line separator)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from server import create_app
from serving.logs import JsonFormatter, TextFormatter, configure_logging, one_line
from tests.conftest import PROJECTS

API = "/v1/instances/default/api/"
CONTROLS = [chr(code) for code in [*range(0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from project.settings import Settings

    state = tmp_path_factory.mktemp("state")
    return create_app(Settings(project_dir=str(PROJECTS / "basic"), state_dir=str(state)))


@contextlib.contextmanager
def own_logging(log_format: str) -> Iterator[io.StringIO]:
    """Sluice's own handler and formatter, as when nothing else configured logging (pytest's capture
    handler on the root logger is set aside meanwhile); yields what it writes."""
    root = logging.getLogger()
    hosts, root.handlers = root.handlers, []
    stream = io.StringIO()
    try:
        configure_logging(log_format, stream=stream)
        yield stream
    finally:
        root.handlers = hosts
        configure_logging(log_format)  # the host's handlers are back: records propagate to them again


def logged(app, name: str, log_format: str = "text") -> str:
    """What the request log says of one request for the API `name` (percent-encoded as a client sends it)."""
    return logged_raw(app, API + quote(name, safe=""), log_format)


def logged_raw(app, path: str, log_format: str = "text") -> str:
    with own_logging(log_format) as stream:
        Client(app).get(path).close()
    return stream.getvalue()


def assert_one_clean_line(text: str) -> None:
    assert text.endswith("\n") and text.count("\n") == 1, text
    assert not any(character in text[:-1] for character in CONTROLS), repr(text)


FORGED = {
    "a line break": ("x\n2026-12-01 00:00:00,000 INFO sluice.request: GET /admin 200", "x\\n2026-12-01"),
    "a carriage return": ("x\rGET /admin 200", "x\\rGET /admin"),
    "a terminal escape": ("x\x1b[2Jcleared", "x\\x1b[2Jcleared"),
    "a colour": ("x\x1b[31mred", "xred"),
    "a NUL": ("x\x00y", "x\\x00y"),
    "a C1 next-line": ("x\x85y", "x\\x85y"),
    "a Unicode line separator": ("x\u2028y", "x\\u2028y"),
}


@pytest.mark.parametrize("case", FORGED)
def test_a_path_cannot_add_a_line_to_the_log(app, case):
    name, shown = FORGED[case]
    line = logged(app, name)
    assert_one_clean_line(line)
    assert shown in line and " 404 " in line


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=40))
def test_every_path_is_logged_as_one_line_as_the_caller_wrote_it(app, name):
    line = logged(app, name)
    assert_one_clean_line(line)
    assert f"{API}{one_line(name)} 404 " in line or "\x1b" in name  # (a colour sequence is dropped)


@pytest.mark.parametrize("raw", ["caf%C3%A9", "%E2%9C%93", "%FF"])
def test_a_percent_encoded_path_is_logged_as_text(app, raw):
    line = logged_raw(app, API + raw)
    shown = {"caf%C3%A9": "café", "%E2%9C%93": "✓", "%FF": "\ufffd"}[raw]
    assert f"{API}{shown} 404 " in line


@settings(max_examples=30, deadline=None)
@given(name=st.text(min_size=1, max_size=40))
def test_json_logs_are_one_object_per_line_with_the_path_as_sent(app, name):
    text = logged(app, name, "json")
    assert text.count("\n") == 1
    entry = json.loads(text)
    assert entry["status"] == 404 and entry["path"].startswith(API)


def test_a_host_formatter_gets_the_path_as_one_line(app):
    """Embedded in a service that configured logging itself, Sluice's records go to the host's handlers."""
    stream = io.StringIO()
    host = logging.StreamHandler(stream)
    host.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(host)
    try:
        configure_logging("text")  # sees the host's handler: Sluice's records propagate to it
        Client(app).get(API + quote("x\nforged line", safe="")).close()
    finally:
        root.removeHandler(host)
    request_lines = [line for line in stream.getvalue().splitlines() if line.startswith("GET ")]
    assert request_lines and "x\\nforged line 404" in request_lines[0]


@pytest.mark.parametrize("value", ["a\nb", "a\r\nb", "\x1b[1Ahidden", "tab\tok"])
def test_an_error_quoting_a_callers_value_stays_one_line(value):
    record = logging.LogRecord("sluice", logging.ERROR, __file__, 1, "query failed: %s", (value,), None)
    text = TextFormatter(colour=False).format(record)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert text.endswith("query failed: " + one_line(value))


def test_exactly_the_control_characters_are_escaped_among_all_of_unicode():
    """one_line returns a text of printable characters as it is, without its pattern: every character of
    Unicode is checked, so a character that shortcut would let through unescaped fails here."""
    changed = [
        chr(code) for code in range(sys.maxunicode + 1) if one_line(f"a{chr(code)}b") != f"a{chr(code)}b"
    ]
    assert changed == CONTROLS
    assert (
        one_line("a\x1b[31mred\x1b[0m") == "ared" and one_line("a\x1b[31mred", colour=True) == "a\x1b[31mred"
    )


# instants one formatter meets in turn: the kept second must move on with the clock, back and forth too
INSTANTS = [1700000000.0, 1700000000.999, 1700000001.0004, 1700000001.5, 1699999999.25, 0.5, 4102444800.123]


def test_log_times_are_the_standard_ones_as_the_clock_moves():
    text, json_formatter = TextFormatter(colour=False), JsonFormatter()
    standard = logging.Formatter()
    for created in INSTANTS:
        record = logging.LogRecord("sluice", logging.INFO, __file__, 1, "m", (), None)
        record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
        assert text.formatTime(record) == standard.formatTime(record)
        assert text.formatTime(record, "%H:%M") == standard.formatTime(record, "%H:%M")
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert json.loads(json_formatter.format(record))["time"] == expected


def test_a_traceback_keeps_its_lines():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("sluice", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = TextFormatter(colour=False).format(record)
    assert text.splitlines()[0].endswith("failed") and "Traceback (most recent call last):" in text
