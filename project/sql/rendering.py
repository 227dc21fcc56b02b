"""Rendering project templates: the data they see and the markers that stand for caller values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from project.errors import ArgumentError, ProjectError, ProjectQueryError
from project.sql import sentinels
from project.sql.template_functions import RILL_FUNCTIONS
from templating import Tainted, Template, TemplateError, parse


@dataclass
class Markers:
    """Caller values printed by the templates of one request, in marker order, and where each came from."""

    values: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def emit(self, text: str, source: str) -> str:
        self.values.append(text)
        self.sources.append(source)
        return sentinels.marker(len(self.values) - 1)


def compile_template(text: str, path: str, line_offset: int = 0, column_offset: int = 0) -> Template:
    """Parse a project template once, at load time; syntax errors and unknown functions are ProjectErrors
    placed in the file (offsets: where the template's text starts in it)."""
    try:
        return parse(text, name=path, functions=RILL_FUNCTIONS, line_offset=line_offset)
    except TemplateError as error:
        column = error.column + column_offset if error.column is not None else None
        raise ProjectError(error.message, path=path, line=error.line, column=column) from None


def template_data(
    env: Mapping[str, str],
    environment: str,
    args: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What `.args`, `.user`, `.env`, `.vars`, `.environment` and `.export` mean in a template."""
    return {
        "args": Tainted(dict(args or {}), "args"),
        "user": Tainted(dict(user or {}), "user"),
        "env": dict(env),
        "vars": dict(env),
        "environment": environment,
        "export": False,
    }


def render_sql(template: Template, data: Mapping[str, Any], markers: Markers) -> str:
    """Render with every caller value replaced by a marker (kept in `markers`); errors are QueryErrors, but
    a render stopped by a size or work limit is an ArgumentError: sizes that grow come from the request."""
    try:
        return template.render(data, emit=markers.emit)
    except TemplateError as error:
        if error.over_limit:
            raise ArgumentError(f"the request makes the template too costly: {error}") from None
        raise ProjectQueryError(
            f"failed to render template: {error.message}",
            path=error.name or None,
            line=error.line,
            column=error.column,
        ) from None


def render_text(template: Template, data: Mapping[str, Any], path: str) -> str:
    """Render a trusted project template (a model) to plain text; errors are ProjectErrors."""
    try:
        return template.render(data)
    except TemplateError as error:
        raise ProjectError(error.message, path=path, line=error.line, column=error.column) from None
