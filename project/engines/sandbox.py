"""The files SQL may read: the project folder without its hidden files, plus folders the operator allows.

DuckDB checks every path a query opens against `allowed_directories` (a prefix) and `allowed_paths` (exact
files), both absolute, after resolving `..` and symbolic links; with external access off nothing else opens.
A prefix would also let in hidden files below it (`data/.secret/`), so a folder is allowed whole only when
nothing below it is hidden; otherwise its visible files are listed one by one and its folders looked into.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb

from project.errors import SettingsError
from project.sql.quoting import quote_literal


@dataclass(frozen=True)
class Sandbox:
    """Absolute folders (ending in `/`) and single files that SQL may read; `root` is the project folder,
    against which relative paths in SQL are resolved."""

    root: str
    directories: tuple[str, ...]
    paths: tuple[str, ...]

    def describe(self) -> str:
        """A stable text of the rules, for the build fingerprint."""
        return "\0".join(("root", self.root, "dirs", *self.directories, "paths", *self.paths))


def project_sandbox(
    project_dir: str, allowed_dirs: Sequence[str] = (), excluded: Iterable[str] = ()
) -> Sandbox:
    """The project's visible files (hidden ones and the `excluded` folders, e.g. the state dir, left out),
    and the operator's folders. A folder the operator allows may not contain the project or an excluded one."""
    root = os.path.realpath(project_dir)
    shut = {os.path.realpath(path) for path in excluded}
    directories, paths, whole = _visible(root, shut)
    if whole:
        directories = [os.path.join(root, "")]
    extra = [_operator_dir(folder, [root, *shut]) for folder in allowed_dirs]
    return Sandbox(root, tuple(directories + extra), tuple(paths))


def _visible(folder: str, shut: set[str]) -> tuple[list[str], list[str], bool]:
    """(folders allowed whole, single files, whether all of `folder` may be read) below `folder`."""
    directories: list[str] = []
    paths: list[str] = []
    whole = not any(path.startswith(os.path.join(folder, "")) for path in shut)  # may not exist yet
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return [], [], False
    for entry in entries:
        if entry.name.startswith(".") or entry.path in shut:
            whole = False
        elif entry.is_dir(follow_symlinks=False):
            below, files, below_whole = _visible(entry.path, shut)
            directories += [os.path.join(entry.path, "")] if below_whole else below
            paths += [] if below_whole else files
            whole = whole and below_whole
        elif not entry.is_symlink():  # a link is read through its target, which must be allowed itself
            paths.append(entry.path)
    return directories, paths, whole


def _operator_dir(folder: str, protected: Sequence[str]) -> str:
    real = os.path.realpath(folder)
    if not os.path.isdir(real):
        raise SettingsError(f"allowed directory not found: {folder}")
    for inside in protected:
        if inside == real or inside.startswith(os.path.join(real, "")):
            raise SettingsError(
                f"allowed directory {folder} contains {inside}, whose hidden files must stay unreadable"
            )
    return os.path.join(real, "")


def apply_sandbox(connection: duckdb.DuckDBPyConnection, sandbox: Sandbox) -> None:
    """Limit the connection's database to the sandbox's files, turn external access off, lock settings."""
    locked = connection.execute("SELECT current_setting('lock_configuration')").fetchone()
    if locked and locked[0]:
        return  # DuckDB shares one instance per file in a process: a reload reopens one already sandboxed
    for setting, values in (("allowed_directories", sandbox.directories), ("allowed_paths", sandbox.paths)):
        if values:
            connection.execute(f"SET {setting} = [{', '.join(quote_literal(value) for value in values)}]")
    connection.execute("SET GLOBAL TimeZone = 'UTC'")  # naive timestamps are UTC in every cursor
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
