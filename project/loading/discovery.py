"""Which project file is which resource: by its `type:` wherever it sits, as in Rill.

Every `.yaml`/`.yml` and `.sql` file below the project folder is a resource file, except hidden files and
folders, `rill.yaml` and the paths rill.yaml's `ignore_paths` lists. A YAML file's kind is its `type:` (or
the old `kind:`); without one, the top folder decides (`models/`, `sources/`, `apis/`, `metrics/`,
`dashboards/`, `connectors/`). A `.sql` file is a model, except an API's companion (`apis/<name>.sql` next
to `apis/<name>.yaml`). Kinds Sluice does not serve (explores, canvases, themes, alerts, ...) are warnings.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import yaml

from project.errors import ProjectError
from project.loading.files import read_text

FOLDER_KINDS = {
    "models": "model",
    "sources": "source",
    "apis": "api",
    "metrics": "metrics_view",
    "dashboards": "metrics_view",
    "connectors": "connector",
}
SERVED_KINDS = frozenset({"model", "source", "api", "metrics_view", "connector"})
KIND_ALIASES = {"metricsview": "metrics_view", "metrics": "metrics_view"}
YAML_EXTENSIONS = (".yaml", ".yml")
NO_TYPE = ""


@dataclass
class ProjectFiles:
    """Project-relative paths of the resource files, by kind, sorted; and what was left out and why."""

    by_kind: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def of(self, *kinds: str) -> list[str]:
        return sorted(path for kind in kinds for path in self.by_kind.get(kind, []))


def discover(
    directory: str, ignore_paths: Iterable[str] = (), errors: list[ProjectError] | None = None
) -> ProjectFiles:
    """Classify every resource file of the project folder."""
    found = ProjectFiles()
    ignored = tuple(str(pattern).strip("/") for pattern in ignore_paths if str(pattern).strip("/"))
    for path in _resource_files(directory, ignored):
        try:
            kind = _kind(directory, path)
        except ProjectError as error:
            if errors is not None:
                errors.append(error)
            continue
        if kind is None:
            continue
        if kind == NO_TYPE:
            found.warnings.append(
                f"{path}: no type: (add type: model, api, metrics_view or connector to serve it); ignored"
            )
            continue
        if kind not in SERVED_KINDS:
            found.warnings.append(f"{path}: a {kind!r} resource is not served by Sluice; ignored")
            continue
        found.by_kind.setdefault(kind, []).append(path)
    return found


def _resource_files(directory: str, ignored: tuple[str, ...]) -> list[str]:
    paths = []
    for folder, subfolders, names in os.walk(directory):
        relative_folder = os.path.relpath(folder, directory)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".")
            and not _ignored(os.path.normpath(os.path.join(relative_folder, name)), ignored)
        )
        for name in names:
            path = os.path.normpath(os.path.join(relative_folder, name))
            if name.startswith(".") or path == "rill.yaml" or _ignored(path, ignored):
                continue
            if name.endswith((*YAML_EXTENSIONS, ".sql")):
                paths.append(path)
    return sorted(paths)


def _ignored(path: str, patterns: tuple[str, ...]) -> bool:
    return any(
        path == pattern or path.startswith(pattern + "/") or fnmatch.fnmatch(path, pattern)
        for pattern in patterns
    )


def _kind(directory: str, path: str) -> str | None:
    top = path.split(os.sep, 1)[0] if os.sep in path else ""
    if path.endswith(".sql"):
        return None if _is_api_companion(directory, path) else "model"
    data = _yaml_mapping(directory, path)
    if data is None:  # broken YAML: its folder's reader reports it with line and column
        if top in FOLDER_KINDS:
            return FOLDER_KINDS[top]
        raise ProjectError("invalid YAML: cannot tell which kind of resource this file is", path=path)
    declared = data.get("type", data.get("kind"))
    if declared is None:
        return FOLDER_KINDS.get(top, NO_TYPE)
    kind = KIND_ALIASES.get(str(declared).lower(), str(declared).lower())
    if top == "sources" and kind not in SERVED_KINDS:
        return "source"  # Rill's legacy `type: <connector>` in sources/ (the reader maps it to `connector:`)
    return kind


def _is_api_companion(directory: str, path: str) -> bool:
    stem = os.path.splitext(path)[0]
    return any(
        os.path.exists(os.path.join(directory, stem + extension)) for extension in YAML_EXTENSIONS
    ) and (path.startswith("apis" + os.sep) or _declared_type(directory, stem) == "api")


def _declared_type(directory: str, stem: str) -> str | None:
    for extension in YAML_EXTENSIONS:
        if os.path.exists(os.path.join(directory, stem + extension)):
            data = _yaml_mapping(directory, stem + extension) or {}
            return str(data.get("type", data.get("kind", "")))
    return None


def _yaml_mapping(directory: str, path: str) -> Mapping | None:
    """The file's top-level mapping, read only to learn its kind (the reader of that kind parses it fully and
    reports its errors with line and column); None when it is not valid YAML."""
    try:
        data = yaml.safe_load(read_text(os.path.join(directory, path), path))
    except yaml.YAMLError:
        return None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ProjectError("a resource file must be a YAML mapping (key: value lines)", path=path)
    return data
