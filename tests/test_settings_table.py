"""One declaration per setting: the environment, the flags, `--help` and the README's table all come from it,
and these tests keep them from drifting apart."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.options import COMMANDS, settings_table, shown_default
from cli.tokens import build_parser
from project.errors import SettingsError
from project.settings import declarations, default_of, settings_from_env
from server import parse_command_line, settings_from_command_line
from tests.conftest import ROOT

DECLARED = declarations()
FLAGGED = [(item, declared) for item, declared in DECLARED if declared.flag]


def readme_table() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- settings table: begin -->\n(.*?)<!-- settings table: end -->", text, re.DOTALL)
    assert match, "README.md has no settings table"
    return match.group(1)


def test_the_readme_table_is_the_declared_settings():
    """If this fails, paste the output of `python -m cli.options` into README.md between the markers."""
    assert readme_table() == settings_table()


def test_the_readme_table_has_a_row_for_every_setting():
    rows = readme_table().splitlines()[2:]
    assert len(rows) == len(DECLARED)
    for row, (item, declared) in zip(rows, DECLARED, strict=True):
        assert (declared.variable or "-") in row and (declared.flag or "-") in row, (item.name, row)


def sample(item, declared, other: bool = False) -> tuple[str, object]:
    """A text for the setting's variable (or flag) and the value it must give: never the default, and
    with `other`, another one again (for a variable that a flag must win over)."""
    default = default_of(item, declared, "embed")
    if declared.choices:
        choice = default if other else next(choice for choice in declared.choices if choice != default)
        return choice.lower(), choice
    if isinstance(default, bool):
        return ("off", False) if default != other else ("on", True)
    if declared.parse in (int, float):
        text = "5" if other else "7"
        return text, declared.parse(text)
    if item.name == "env_overrides":
        return "key=value", {"key": "value"}
    if declared.repeated:
        return ("other", ("other",)) if other else ("item", ("item",))
    return ("/other/text", "/other/text") if other else ("/some/text", "/some/text")


def ids(rows) -> list[str]:
    return [item.name for item, _ in rows]


VARIABLES = [row for row in DECLARED if row[1].variable]


@pytest.mark.parametrize(("item", "declared"), VARIABLES, ids=ids(VARIABLES))
def test_every_variable_sets_its_setting(item, declared):
    text, value = sample(item, declared)
    assert getattr(settings_from_env({declared.variable: text}), item.name) == value


@pytest.mark.parametrize(("item", "declared"), FLAGGED, ids=ids(FLAGGED))
def test_every_flag_sets_its_setting_over_its_variable(item, declared):
    text, value = sample(item, declared)
    if isinstance(value, bool):
        argv = [declared.flag if value else f"--no-{declared.flag[2:]}"]
    else:
        argv = [text] if not declared.flag.startswith("-") else [declared.flag, text]
    env = {declared.variable: sample(item, declared, other=True)[0]} if declared.variable else {}
    settings = settings_from_command_line(parse_command_line(argv), env)
    assert getattr(settings, item.name) == value


def help_text(*argv: str) -> str:
    """The help of a command as a user sees it, its lines joined (argparse wraps at the terminal width)."""
    result = subprocess.run(
        [sys.executable, "server.py", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("argv", "command"),
    [(["--help"], "serve"), (["serve", "--help"], "serve"), (["check", "--help"], "check")],
)
def test_help_names_every_flag_its_variable_and_its_default(argv, command):
    text = help_text(*argv)
    for item, declared in FLAGGED:
        where = f"env {declared.variable}" if declared.variable else "no environment variable"
        shown = shown_default(item, declared, command)
        assert declared.flag in text, declared.flag
        assert f"{' '.join(declared.help.split())} ({where}; default: {shown})" in text, declared.flag


def test_the_serve_help_shows_the_dev_server_defaults():
    text = help_text("serve", "--help")
    assert "(env SLUICE_RELOAD; default: on)" in text and "(env SLUICE_ENVIRONMENT; default: dev)" in text
    assert "--reload, --no-reload" in text and "--gzip, --no-gzip" in text


def test_sluice_help_lists_the_commands_one_line_each():
    text = help_text("--help")
    for name, line in COMMANDS:
        assert f"{name} {line}" in text


def parsers(parser: argparse.ArgumentParser):
    """The parser and every parser below it (`token issue`, `service create`, ...)."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from parsers(child)


def test_every_token_and_service_command_and_argument_is_explained():
    tree = list(parsers(build_parser()))
    assert {parser.prog for parser in tree} >= {
        f"sluice {group} {command}"
        for group, commands in (("token", "issue list revoke edit"), ("service", "create list revoke edit"))
        for command in commands.split()
    }
    for parser in tree:
        assert parser.description, parser.prog
        for action in parser._actions:
            assert action.help, (parser.prog, action.dest)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["token", "--help"], ["usage: sluice token", "examples:", "issue issue a user token"]),
        (
            ["service", "--help"],
            ["usage: sluice service", "examples:", "create create a service and its token"],
        ),
        (["service", "create", "--help"], ["(env SLUICE_PROJECT; default: .)", "(default: viewer)"]),
    ],
)
def test_token_and_service_help_is_printed(argv, expected):
    text = help_text(*argv)
    assert all(words in text for words in expected), text


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLUICE_MAX_QUERIES": "lots"}, "error: SLUICE_MAX_QUERIES='lots': not a valid int"),
        ({"SLUICE_RELOAD": "sometimes"}, "error: SLUICE_RELOAD='sometimes': must be on or off"),
        ({"WEB_CONCURRENCY": "0"}, "error: WEB_CONCURRENCY='0': must be 1 or more"),
        ({"SLUICE_BATCH_ROWS": "-2"}, "error: SLUICE_BATCH_ROWS='-2': must be 1 or more"),
        ({"SLUICE_QUERY_TIMEOUT": "nan"}, "error: SLUICE_QUERY_TIMEOUT='nan': must be a finite number"),
        ({"SLUICE_PROXY_HOPS": "-1"}, "error: SLUICE_PROXY_HOPS='-1': must be 0 or more"),
        (
            {"SLUICE_AUTH": "on", "SLUICE_JWT_SECRET": "short"},
            "error: the JWT secret must be at least 32 bytes",
        ),
    ],
)
def test_gunicorn_refuses_a_bad_setting_with_one_error_line(tmp_path, env, message):
    """The shipped gunicorn.conf.py reads the same declarations: no worker boots, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SLUICE_PROJECT": str(tmp_path), **env},
    )
    assert result.returncode == 2
    assert result.stderr.startswith(message) and "Traceback" not in result.stderr, result.stderr


NUMBERS = [(item, declared) for item, declared in declarations() if declared.least is not None]


def test_every_number_setting_declares_its_smallest_value():
    numbers = {item.name for item, declared in declarations() if declared.parse in (int, float)}
    assert numbers == {item.name for item, _ in NUMBERS}


@pytest.mark.parametrize(("item", "declared"), NUMBERS, ids=[item.name for item, _ in NUMBERS])
@given(below=st.integers(min_value=1, max_value=10**12))
def test_a_number_below_its_smallest_value_is_refused_naming_the_variable(item, declared, below):
    least = int(declared.least)
    assert getattr(settings_from_env({declared.variable: str(least)}), item.name) == least
    text = str(least - below)
    with pytest.raises(SettingsError) as refused:
        settings_from_env({declared.variable: text})
    assert str(refused.value) == f"{declared.variable}={text!r}: must be {least} or more"


FLOATS = [(item, declared) for item, declared in NUMBERS if declared.parse is float]


@pytest.mark.parametrize(("item", "declared"), FLOATS, ids=[item.name for item, _ in FLOATS])
@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e999"])
def test_a_number_setting_is_finite(item, declared, text):
    with pytest.raises(SettingsError, match="must be a finite number"):
        settings_from_env({declared.variable: text})


def test_a_flag_below_its_smallest_value_is_an_argparse_error():
    result = subprocess.run(
        [sys.executable, "server.py", "--batch-rows", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert (
        "error: argument --batch-rows: must be 1 or more" in result.stderr
        and "Traceback" not in result.stderr
    )
