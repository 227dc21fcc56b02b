"""Command-line flags, their `--help` texts and the README's table of settings, all made from the one
declaration of each setting on `Settings` (project/settings.py), so that none of them can disagree.

`python -m cli.options` prints the README's table.
"""

from __future__ import annotations

import argparse
import dataclasses
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from project.settings import Declared, Settings, declarations, default_of, setting_value

COMMANDS = (
    ("serve", "serve a project's APIs over HTTP with the dev server (the command when none is named)"),
    ("check", "print every problem of a project (files, models, SQL) and exit 1 if there is one"),
    ("refresh", "rebuild models now, incremental ones with only their new partitions (--full: from scratch)"),
    ("token", "issue, list, edit and revoke user tokens (for development)"),
    ("service", "create, list, edit and revoke service tokens (for production)"),
)
COMMAND_LINE_ONLY = "(command line only)"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, but a line never breaks inside a word (`comma-separated`, `X-Forwarded-For`)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        text = " ".join(text.split())
        return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False)


def shown_default(item: dataclasses.Field, declared: Declared, command: str) -> str:
    """A default in words: `on`/`off`, a number, or the declaration's own words for an empty default."""
    value = default_of(item, declared, command)
    if isinstance(value, bool):
        return "on" if value else "off"
    if value in (None, (), {}):
        return declared.shown or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def flag_help(item: dataclasses.Field, declared: Declared, command: str) -> str:
    """`what it means (env SLUICE_X; default: Y)`; `%` doubled, as argparse formats help texts."""
    where = f"env {declared.variable}" if declared.variable else "no environment variable"
    text = f"{declared.help} ({where}; default: {shown_default(item, declared, command)})"
    return text.replace("%", "%%")


def add_setting_flags(parser: argparse.ArgumentParser, command: str) -> None:
    """A flag for each declared setting that has one. A flag not given leaves no attribute (the value
    then comes from the environment or the default: see `settings_from_flags`)."""
    flags = parser.add_argument_group("settings (a flag wins over its environment variable)")
    for item, declared in declarations():
        if declared.flag is None:
            continue
        if not declared.flag.startswith("-"):  # the project folder
            parser.add_argument(
                item.name, metavar=declared.flag, nargs="?", default=argparse.SUPPRESS,
                help=flag_help(item, declared, command),
            )  # fmt: skip
            continue
        help = flag_help(item, declared, command)
        kind = _flag_kind(item, declared)
        flags.add_argument(declared.flag, dest=item.name, default=argparse.SUPPRESS, help=help, **kind)


def _flag_kind(item: dataclasses.Field, declared: Declared) -> dict[str, Any]:
    """How argparse reads the flag: on/off as `--x`/`--no-x`, a repeated one item per use, else one value."""
    default = default_of(item, declared, "embed")
    if isinstance(default, bool):
        return {"action": argparse.BooleanOptionalAction}
    kind: dict[str, Any] = {"type": _converter(declared), "metavar": _metavar(item, declared)}
    if declared.repeated:
        kind["action"] = "append" if isinstance(default, Mapping) else "extend"
    if declared.choices:
        kind["choices"] = declared.choices
        kind.pop("metavar")
    return kind


def _metavar(item: dataclasses.Field, declared: Declared) -> str:
    """What the flag takes: N for a count, SECONDS for a time, else a word for the thing."""
    if declared.parse in (int, float):
        return "SECONDS" if declared.parse is float else "N"
    return METAVARS.get(item.name, item.name.upper())


METAVARS = {
    "env_overrides": "KEY=VALUE",
    "state_dir": "DIR",
    "cache_dir": "DIR",
    "allow_dirs": "DIR",
    "cors_origins": "ORIGIN",
    "tokens_path": "FILE",
    "jwt_public_key": "FILE",
    "jwt_algorithms": "ALGORITHM",
    "project_name": "NAME",
}


def _converter(declared: Declared) -> Callable[[str], Any]:
    """argparse's `type`: the setting's own parser, its errors as argparse's (`error: argument --port: ...`)."""

    def convert(text: str) -> Any:
        try:
            return setting_value(declared, text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def settings_from_flags(options: argparse.Namespace, defaults: Settings) -> Settings:
    """The flags given, laid over `defaults` (the environment over the command's defaults)."""
    given: dict[str, Any] = {}
    for item, declared in declarations():
        if item.name not in vars(options):
            continue
        value = getattr(options, item.name)
        if declared.repeated:
            value = dict(value) if isinstance(getattr(defaults, item.name), Mapping) else tuple(value)
        given[item.name] = value
    return dataclasses.replace(defaults, **given)


def commands_text() -> str:
    """The commands, one line each (for `sluice --help`)."""
    return "commands:\n" + "\n".join(f"  {name:<9} {text}" for name, text in COMMANDS)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table_default(item: dataclasses.Field, declared: Declared) -> str:
    """The default, and where `sluice serve` or gunicorn differ from it."""
    base = shown_default(item, declared, "embed")
    text = f"`{base}`"
    for command, label in (("serve", "`sluice serve`"), ("gunicorn", "gunicorn")):
        if shown_default(item, declared, command) != base:
            text += f" ({label}: `{shown_default(item, declared, command)}`)"
    return text


def settings_table() -> str:
    """The README's table: every setting's flag, environment variable, default and meaning."""
    rows = ["| flag | environment variable | default | meaning |", "| --- | --- | --- | --- |"]
    for item, declared in declarations():
        flag = f"`{declared.flag}`" if declared.flag else "-"
        if declared.flag and isinstance(default_of(item, declared, "embed"), bool):
            flag = f"`{declared.flag}` / `--no-{declared.flag[2:]}`"
        variable = f"`{declared.variable}`" if declared.variable else "-"
        rows.append(
            f"| {flag} | {variable} | {_cell(table_default(item, declared))} | {_cell(declared.help)} |"
        )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
