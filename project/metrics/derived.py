"""The grouped query of a metrics SQL SELECT, with derived and window measures computed after grouping.

As Rill's metrics layer does: when a selected measure is derived (`requires:` other measures) or a window
measure (`window:`), the measures it needs are grouped in an inner query `t0`, and its own expression is
computed over that query's rows, with `OVER (PARTITION BY <other dimensions> ORDER BY <order> <frame>)`
for a window measure.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from project.errors import QueryError
from project.metrics.fields import Field, unnest_alias
from project.metrics.scope import Scope, field_sql
from project.metrics.views import Measure
from project.metrics.where import compile_where

_GROUPED = "t0"


def measure_field(measure: Measure) -> Field:
    """The output field computing `measure` (a derived measure's SQL is built when the query is planned)."""
    check_queryable(measure, measure)
    return Field(measure.name, field_sql(measure), grouped=False, measure=measure)


def check_queryable(measure: Measure, queried: Measure) -> None:
    """Refuse, as Rill does, a measure no query can compute (`queried` selected it, maybe through others)."""
    if measure.unsupported:
        raise QueryError(f'can\'t query measure "{queried.name}": {measure.unsupported}')


def measures_query(fields: list[Field], scope: Scope, where: exp.Where | None) -> exp.Select:
    """SELECT <fields> over the model, grouped by the grouped fields, derived measures computed last."""
    if not any(field.measure is not None and field.measure.derived for field in fields):
        return _grouped_query(fields, scope, where)
    for field in fields:
        if field.measure is not None:
            _check_required_dimensions(field.measure, fields)
    inner_fields = [field for field in fields if field.measure is None or not field.measure.derived]
    for measure in _referenced_simple_measures(fields, scope):
        if not any(field.name == measure.name for field in inner_fields):
            inner_fields.append(measure_field(measure))
    inner = _grouped_query(inner_fields, scope, where)
    columns = [exp.alias_(_outer_sql(field, fields, scope), field.name, quoted=True) for field in fields]
    alias = exp.TableAlias(this=exp.to_identifier(_GROUPED))
    return exp.select(*columns).from_(exp.Subquery(this=inner, alias=alias))


def _grouped_query(fields: list[Field], scope: Scope, where: exp.Where | None) -> exp.Select:
    """SELECT <fields> FROM <model> [WHERE ...] GROUP BY <positions of the grouped fields>."""
    projections = [exp.alias_(field.sql.copy(), field.name, quoted=True) for field in fields]
    query = exp.select(*projections).from_(scope.table())
    for field in fields:
        if field.unnested is not None:
            query = query.join(_lateral_unnest(field))
    condition = compile_where(where.this if where is not None else None, scope)
    if condition is not None:
        query.set("where", exp.Where(this=condition))
    positions = [exp.Literal.number(index) for index, field in enumerate(fields, 1) if field.grouped]
    return query.group_by(*positions) if positions else query


def _lateral_unnest(field: Field) -> exp.Lateral:
    assert field.unnested is not None
    alias = exp.TableAlias(
        this=exp.to_identifier(unnest_alias(field.name), quoted=True),
        columns=[exp.to_identifier(field.name, quoted=True)],
    )
    return exp.Lateral(this=exp.Unnest(expressions=[field.unnested.copy()]), alias=alias)


def _referenced_simple_measures(fields: list[Field], scope: Scope) -> list[Measure]:
    """The plain measures that the derived fields are computed from, following derived references down."""
    found: list[Measure] = []
    pending = [(m, m) for field in fields if (m := field.measure) is not None and m.derived]
    while pending:
        measure, queried = pending.pop(0)
        for name in measure.references:
            referenced = scope.view.measure(name)
            if referenced is None:
                raise QueryError(f'referenced measure "{name}" not found')
            check_queryable(referenced, queried)
            if referenced.derived:
                pending.append((referenced, queried))
            elif referenced not in found:
                found.append(referenced)
    return found


def _check_required_dimensions(measure: Measure, fields: list[Field]) -> None:
    for name in measure.required_dimensions:
        if _dimension_field(name, fields) is None:
            raise QueryError(f'can\'t query measure "{measure.name}": missing required dimension "{name}"')


def _dimension_field(name: str, fields: list[Field]) -> Field | None:
    """The grouped field showing dimension `name`: by its own name, or a time floor over it."""
    for field in fields:
        if field.grouped and (
            field.name.lower() == name.lower() or (field.dimension or "").lower() == name.lower()
        ):
            return field
    return None


def _outer_sql(field: Field, fields: list[Field], scope: Scope) -> exp.Expression:
    measure = field.measure
    if measure is None or not measure.derived:
        return exp.column(field.name, table=_GROUPED, quoted=True)
    return _parse_expression(_derived_text(measure, fields, scope))


def _derived_text(measure: Measure, fields: list[Field], scope: Scope) -> str:
    """The measure's expression over the grouped rows, with Rill's OVER clause for a window measure."""
    expression = _inline_derived_references(measure, scope)
    window = measure.window
    if window is None:
        return expression
    if not window.partition:
        return f"{expression} OVER ()"
    order = []
    for name, descending in window.order:
        order_field = _dimension_field(name, fields)
        assert order_field is not None  # required dimensions were checked
        order.append((order_field, descending))
    ordered = {order_field.name for order_field, _ in order}
    partition = [field for field in fields if field.grouped and field.name not in ordered]
    clauses = []
    if partition:
        clauses.append("PARTITION BY " + ", ".join(_column_text(field.name) for field in partition))
    if order:
        terms = [_column_text(field.name) + (" DESC" if descending else "") for field, descending in order]
        clauses.append("ORDER BY " + ", ".join(terms))
    if window.frame:
        clauses.append(window.frame)
    return f"{expression} OVER ({' '.join(clauses)})"


def _inline_derived_references(measure: Measure, scope: Scope) -> str:
    """The expression with each reference to a derived (not window) measure replaced by that measure's
    own expression, so every name left refers to a plain measure grouped in the inner query."""
    tree = exp.paren(_parse_expression(measure.expression), copy=False)
    derived = {
        name.lower(): found
        for name in measure.references
        if (found := scope.view.measure(name)) is not None and found.derived
    }
    if not derived:
        return measure.expression
    for column in list(tree.find_all(exp.Column)):
        referenced = derived.get(column.name.lower()) if not column.table else None
        if referenced is None:
            continue
        if referenced.window is not None:
            raise QueryError(
                f'can\'t query measure "{measure.name}": a measure computed from the window measure '
                f'"{referenced.name}" is not supported'
            )
        column.replace(exp.paren(_parse_expression(_inline_derived_references(referenced, scope))))
    return tree.this.sql(dialect="duckdb")


def _column_text(name: str) -> str:
    return exp.column(name, table=_GROUPED, quoted=True).sql(dialect="duckdb")


def _parse_expression(text: str) -> exp.Expression:
    select = sqlglot.parse_one(f"SELECT {text}", dialect="duckdb")
    return select.expressions[0]
