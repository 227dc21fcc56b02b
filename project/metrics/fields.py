"""The output columns of a compiled metrics query, shared by the compiler and the measure planner."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from project.metrics.views import Measure


@dataclass(frozen=True)
class Field:
    """One output column: its name, its SQL over the model, whether it is grouped, and what it comes from
    (the dimension a grouped field shows, or the measure it computes)."""

    name: str
    sql: exp.Expression
    grouped: bool
    dimension: str | None = None
    measure: Measure | None = None
    unnested: exp.Expression | None = None  # the list an unnest dimension's values come from


def unnest_alias(name: str) -> str:
    """The name of the lateral join that unnests the dimension called `name`."""
    return f"_sluice_unnest_{name}"
