"""Reading project files: YAML documents with the line where each key's value starts, and `.env` files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from project.errors import ProjectError


@dataclass(frozen=True)
class Document:
    """A parsed YAML mapping plus, for each top-level key, the 1-based line and column of its value."""

    path: str
    data: Mapping[str, Any]
    value_places: Mapping[str, tuple[int, int]]

    def template_offset(self, key: str) -> int:
        """Lines before the first line of a templated value, so template errors point into the file."""
        line, _ = self.value_places.get(key, (1, 1))
        return line - 1

    def template_indent(self, key: str) -> int:
        """Columns before a block scalar's text (YAML strips that indentation from every line)."""
        _, column = self.value_places.get(key, (1, 1))
        return column - 1


def read_text(path: str, relative_path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"cannot read file: {error}", path=relative_path) from None


def parse_yaml(text: str, relative_path: str) -> Document:
    """Parse one YAML mapping; syntax errors carry the file's line and column."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ProjectError(
            f"invalid YAML: {error.problem or error}", path=relative_path, line=line, column=column
        ) from None
    except yaml.YAMLError as error:
        raise ProjectError(f"invalid YAML: {error}", path=relative_path) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProjectError("expected a YAML mapping at the top level", path=relative_path, line=1, column=1)
    return Document(relative_path, data, _value_places(node, text.splitlines()))


def _value_places(node: yaml.Node | None, lines: list[str]) -> dict[str, tuple[int, int]]:
    """Where each top-level value starts, and each value of a top-level mapping (as `outer.inner`)."""
    places: dict[str, tuple[int, int]] = {}
    if not isinstance(node, yaml.MappingNode):
        return places
    for key_node, value_node in node.value:
        places[str(key_node.value)] = _value_place(value_node, lines)
        if isinstance(value_node, yaml.MappingNode):
            for inner_key, inner_value in value_node.value:
                places[f"{key_node.value}.{inner_key.value}"] = _value_place(inner_value, lines)
    return places


def _value_place(value_node: yaml.Node, lines: list[str]) -> tuple[int, int]:
    line, column = value_node.start_mark.line + 1, value_node.start_mark.column + 1
    if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
        line = line + 1  # block scalars start on the line after the indicator
        first = lines[line - 1] if line <= len(lines) else ""
        column = len(first) - len(first.lstrip(" ")) + 1
    return line, column


def parse_dotenv(text: str) -> dict[str, str]:
    """KEY=VALUE lines; `#` comments, `export ` prefixes and surrounding quotes are accepted."""
    variables: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        variables[key.strip()] = value
    return variables


def list_files(root: str, folder: str, extensions: tuple[str, ...]) -> list[str]:
    """Project-relative paths of the files under `folder` with one of the extensions, sorted."""
    base = os.path.join(root, folder)
    found = []
    for directory, subfolders, names in os.walk(base):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in names:
            if name.endswith(extensions) and not name.startswith("."):
                found.append(os.path.relpath(os.path.join(directory, name), root))
    return sorted(found)


def file_stamps(
    root: str, skip_folders: tuple[str, ...] = (), hidden_files: bool = True
) -> list[tuple[str, int, int]]:
    """Project-relative path, size and modification time of every file below `root`, in a stable order.

    Hidden folders are skipped, and so are top-level folders named in `skip_folders`; a file that vanishes
    or cannot be read while walking (a dangling link) is left out rather than failing the walk.
    """
    stamps = []
    for directory, subfolders, names in os.walk(root):
        relative = os.path.relpath(directory, root)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".") and not (relative == "." and name in skip_folders)
        )
        for name in sorted(names):
            if name.startswith(".") and not hidden_files:
                continue
            try:
                info = os.stat(os.path.join(directory, name))
            except OSError:
                continue
            stamps.append((os.path.join(relative, name), info.st_size, info.st_mtime_ns))
    return stamps
