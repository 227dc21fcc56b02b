"""Sluice's template engine: Go's text/template with Sprig functions, and taint tracking of caller values.

`parse()` once, `Template.render()` many times; values wrapped in `Tainted` print through `emit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .calls import FunctionSpec, build_specs
from .errors import Failure, Source, TemplateError
from .functions import BUILTINS
from .parser import Parser
from .render import Template
from .sprig_crypto import CRYPTO
from .sprig_data import DATA
from .sprig_encoding import ENCODING
from .sprig_lists import LISTS
from .sprig_math import MATH
from .sprig_misc import MISC
from .sprig_semver import SEMVER
from .sprig_text import TEXT
from .sprig_time import TIME
from .values import SafeText, Tainted, template_function

__all__ = ["SafeText", "Tainted", "Template", "TemplateError", "parse", "template_function"]

STANDARD = build_specs(
    {**BUILTINS, **LISTS, **TEXT, **MATH, **ENCODING, **DATA, **SEMVER, **TIME, **CRYPTO, **MISC}
)


def parse(
    text: str, name: str | None = None, functions: dict[str, Callable] | None = None, line_offset: int = 0
) -> Template:
    """Parses a template once; raises TemplateError (with line and column) for syntax errors and unknown
    functions. `functions` adds or overrides functions (see `template_function`)."""
    extra = functions or {}
    source = Source(text, name, line_offset)

    def lookup(function_name: str) -> FunctionSpec | None:
        if function_name in extra:
            return FunctionSpec(function_name, extra[function_name])
        return STANDARD.get(function_name)

    try:
        parser = Parser(text, lookup)
        root = parser.parse()
    except Failure as failure:
        raise source.error(failure) from None
    return Template(name, root, parser.templates, source)


def render(text: str, data: Any, **options: Any) -> str:
    """Parses and renders in one go (for tests and one-off use)."""
    return parse(text, **options).render(data)
