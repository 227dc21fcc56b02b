"""Metrics SQL: one SELECT over a metrics view, compiled with sqlglot into DuckDB SQL over the view's model.

Dimensions are grouped implicitly, measures become their aggregates, HAVING filters an outer query, and the
caller's security (access, row filter, hidden fields) is applied through a `Policy`. Error messages follow
Rill's metrics SQL compiler (runtime/metricsview/metricssql) wherever Rill has one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.parsers.duckdb import DuckDBParser

from project.errors import QueryError
from project.metrics.derived import measure_field, measures_query
from project.metrics.fields import Field, unnest_alias
from project.metrics.scope import Policy, Scope, column_name, field_sql, is_marker, resolve_scope
from project.metrics.time_floors import time_floor_sql
from project.metrics.time_grains import truncations_for_clickhouse
from project.metrics.views import Dimension, Measure, MetricsView
from project.metrics.where import compile_condition
from project.sql import sentinels

GRAINS = ("millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year")
_INNER = "t1"
_REFUSED_CLAUSES = {
    "with_": "metrics sql: WITH clause is not supported",
    "joins": "metrics sql: join is not supported",
    "laterals": "metrics sql: LATERAL is not supported",
    "windows": "metrics sql: WINDOW clause is not supported",
    "qualify": "metrics sql: QUALIFY is not supported",
}


class _MetricsSQLInput(DuckDB):
    """DuckDB syntax, but `date_trunc(...)` stays an anonymous call so its arguments are seen as written."""

    class Parser(DuckDBParser):
        FUNCTIONS: ClassVar[dict] = {
            name: build for name, build in DuckDB.Parser.FUNCTIONS.items() if name != "DATE_TRUNC"
        }


class _MetricsSQLOutput(DuckDB):
    """DuckDB, printing `NULLS LAST` explicitly (as Rill does) instead of relying on DuckDB's default."""

    class Generator(DuckDBGenerator):
        def ordered_sql(self, expression: exp.Ordered) -> str:
            text = super().ordered_sql(expression)
            if expression.args.get("nulls_first") is False and not text.endswith(" NULLS LAST"):
                return f"{text} NULLS LAST"
            return text


def metrics_view_for(sql: str, views: Mapping[str, MetricsView]) -> MetricsView:
    """The metrics view that rendered metrics SQL reads (QueryError as compiling would raise)."""
    return _view(_parse(sql), views)


@lru_cache(maxsize=1024)
def in_dialect(compiled_sql: str, dialect: str) -> str:
    """Compiled metrics SQL (DuckDB's) written in another engine's dialect; markers stay where they are."""
    if dialect == "duckdb":
        return compiled_sql
    with _quiet_sqlglot():
        tree = sqlglot.parse_one(compiled_sql, read="duckdb")
        if dialect == "clickhouse":
            for select in tree.find_all(exp.Select):
                _expand_positional_group_by(select)
            tree = truncations_for_clickhouse(tree)
        return tree.sql(dialect=dialect)


def _expand_positional_group_by(select: exp.Select) -> None:
    """`GROUP BY 1` as the selected expression itself: ClickHouse 18.16 lacks positions. (Elsewhere positions
    stay: PostgreSQL does not see two bound parameters as one grouped expression.)"""
    group = select.args.get("group")
    if group is None:
        return
    expanded = []
    for item in group.expressions:
        if isinstance(item, exp.Literal) and item.is_int and 0 < int(item.this) <= len(select.expressions):
            target = select.expressions[int(item.this) - 1]
            item = (target.this if isinstance(target, exp.Alias) else target).copy()
        expanded.append(item)
    group.set("expressions", expanded)


def compile_metrics_sql(
    sql: str, views: Mapping[str, MetricsView], policy: Policy | None, time_zone: str = ""
) -> str:
    """Compile rendered metrics SQL into DuckDB SQL; raise QueryError with Rill's wording when it is invalid.

    `policy` None means no security applies (auth off, or the API sets `skip_nested_security: true`);
    `time_zone` is the resolver's `time_zone` property: `date_trunc` truncates in that zone.
    """
    select = _parse(sql)
    scope = resolve_scope(_view(select, views), policy)
    for key, message in _REFUSED_CLAUSES.items():
        if select.args.get(key):
            raise QueryError(message)
    fields = [_select_field(node, scope, time_zone) for node in select.expressions]
    having, where = select.args.get("having"), select.args.get("where")
    if having is None:
        query = measures_query(fields, scope, where)
    else:
        query = _outer_query(fields, having.this, scope, where)
    query = _order(query, select, fields)
    return _limit(query, select).sql(dialect=_MetricsSQLOutput)


def _parse(sql: str) -> exp.Select:
    try:
        with _quiet_sqlglot():
            statements = [
                statement
                for statement in sqlglot.parse(sql, dialect=_MetricsSQLInput)
                if statement is not None
            ]
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        near = f' near "{first["highlight"]}"' if first.get("highlight") else ""
        raise QueryError(
            f"metrics sql: syntax error{near}", line=first.get("line"), column=first.get("col")
        ) from None
    except SqlglotError as error:
        raise QueryError(f"metrics sql: syntax error: {error}") from None
    if len(statements) != 1:
        raise QueryError("metrics sql: expected exactly one SQL statement")
    if not isinstance(statements[0], exp.Select):
        raise QueryError("metrics sql: expected a SELECT statement")
    return statements[0]


class _CommandFallbackFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


@contextlib.contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """Hide sqlglot's Command-fallback warning: such input is refused with a clear error anyway."""
    logger, quiet = logging.getLogger("sqlglot"), _CommandFallbackFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _view(select: exp.Select, views: Mapping[str, MetricsView]) -> MetricsView:
    source = select.args.get("from_") or select.args.get("from")
    if source is None:
        raise QueryError("metrics sql: need `FROM metrics_view` clause")
    if select.args.get("joins"):
        raise QueryError("metrics sql: join is not supported")
    table = source.this
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier) or table.args.get("db"):
        raise QueryError("metrics sql: only FROM `metrics_view` is supported")
    name = table.name
    folded = {key.lower(): view for key, view in views.items()}
    view = views.get(name) or folded.get(name.lower())
    if view is None:
        raise QueryError(f"metrics sql: metrics view `{name}` not found")
    return view


def _select_field(node: exp.Expression, scope: Scope, time_zone: str) -> Field:
    alias = node.alias if isinstance(node, exp.Alias) else None
    node = node.this if isinstance(node, exp.Alias) else node
    if isinstance(node, exp.Column):
        field = _selected(node, scope)
        if isinstance(field, Dimension) and field.unnest:
            return _unnested_field(field)
        if isinstance(field, Dimension):
            return Field(field.name, field_sql(field), True, dimension=field.name)
        return measure_field(field)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "date_trunc":
        return _time_floor(node, alias, scope, time_zone)
    if isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        raise QueryError(f"metrics sql: function `{name.lower()}` not supported in select field")
    raise QueryError("metrics sql: unsupported expression in select field")


def _unnested_field(dimension: Dimension) -> Field:
    """An unnest dimension: the list is joined as `LATERAL UNNEST(list) AS alias(name)` (as Rill joins it
    for DuckDB) and the field is that join's column."""
    column = exp.column(dimension.name, table=unnest_alias(dimension.name), quoted=True)
    return Field(dimension.name, column, True, dimension=dimension.name, unnested=field_sql(dimension))


def _selected(node: exp.Column, scope: Scope) -> Dimension | Measure:
    if is_marker(node):
        raise QueryError("metrics sql: a request value cannot be used as a dimension or measure name")
    name = column_name(node)
    field = scope.lookup(name)
    if field is None:
        raise QueryError(
            f"metrics sql: selected column `{name}` not found in dimensions/measures in metrics view"
        )
    return scope.allow(field)


def _time_floor(node: exp.Anonymous, alias: str | None, scope: Scope, time_zone: str) -> Field:
    """`date_trunc('<grain>', <dimension>)`, named by its alias or, as Rill does, by its own text; truncated
    in the query's time zone, weeks and years starting where the view says (see `time_floors`)."""
    if len(node.expressions) != 2:
        raise QueryError("metrics sql: expected 2 arguments in date_trunc function")
    grain, column = node.expressions
    if not (isinstance(grain, exp.Literal) and grain.is_string):
        raise QueryError(f"metrics sql: expected string for grain, got {_value_type(grain)}")
    field = _selected(column, scope) if isinstance(column, exp.Column) else None
    if not isinstance(field, Dimension) or field.unnest:
        raise QueryError("metrics sql: expected dimension in date_trunc function")
    name = alias or f"DATE_TRUNC('{grain.this}', \"{column.name}\")"
    if sentinels.marker_indexes(name):
        raise QueryError("metrics sql: a date_trunc grain from the request needs an alias (AS name)")
    if not sentinels.marker_indexes(grain.this) and grain.this.lower() not in GRAINS:
        raise QueryError(f'invalid dimension "{name}": invalid "grain"')
    # LOWER() keeps a caller's grain a string literal when the SQL checker re-parses this SQL with sqlglot
    # (a bare literal there becomes an upper-cased unit name, which would hide the marker).
    unit = exp.Lower(this=grain.copy()) if sentinels.marker_indexes(grain.this) else grain.this.lower()
    view = scope.view
    floor = time_floor_sql(
        field_sql(field), unit, time_zone, view.first_day_of_week, view.first_month_of_year
    )
    return Field(name, floor, grouped=True, dimension=field.name)


def _outer_query(
    fields: list[Field], having: exp.Expression, scope: Scope, where: exp.Where | None
) -> exp.Select:
    """HAVING as a WHERE over the grouped query; measures used only in HAVING are computed but not output."""
    inner_fields = list(fields)

    def resolve(name: str) -> exp.Expression:
        field = _output_field(fields, name) or _output_field(inner_fields, name)
        if field is None:
            found = scope.lookup(name)
            if not isinstance(found, Measure):
                raise QueryError(
                    f'name "{name}" in expression is not a dimension or measure available in the current context'
                )
            scope.allow(found)
            field = measure_field(found)
            inner_fields.append(field)
        return exp.column(field.name, table=_INNER, quoted=True)

    condition = compile_condition(having, resolve)
    inner = measures_query(inner_fields, scope, where)
    columns = [exp.alias_(exp.column(f.name, table=_INNER, quoted=True), f.name, quoted=True) for f in fields]
    return (
        exp.select(*columns)
        .from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(_INNER, quoted=True))))
        .where(condition)
    )


def _output_field(fields: list[Field], name: str) -> Field | None:
    exact = [field for field in fields if field.name == name]
    folded = [field for field in fields if field.name.lower() == name.lower()]
    return (exact or folded)[0] if exact or folded else None


def _order(query: exp.Select, select: exp.Select, fields: list[Field]) -> exp.Select:
    order = select.args.get("order")
    if order is None:
        return query
    terms = []
    for ordered in order.expressions:
        if is_marker(ordered.this):
            raise QueryError("metrics sql: a request value cannot be used as a dimension or measure name")
        name = column_name(ordered.this)
        field = _output_field(fields, name)
        if field is None:
            raise QueryError(f'can\'t sort by "{name}": name not present in context')
        column = exp.column(field.name, quoted=True)
        terms.append(
            exp.Ordered(this=column, desc=True if ordered.args.get("desc") else None, nulls_first=False)
        )
    return query.order_by(*terms)


def _limit(query: exp.Select, select: exp.Select) -> exp.Select:
    for key in ("limit", "offset"):
        clause = select.args.get(key)
        if clause is not None:
            query.set(key, type(clause)(expression=_count(clause.expression, key)))
    return query


def _count(node: exp.Expression | None, key: str) -> exp.Expression:
    """An integer literal, or a caller marker that the SQL checker binds as a number."""
    if node is not None and is_marker(node):
        return node.copy()
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return exp.Literal.number(int(node.this))
    raise QueryError(f"metrics sql: expected int for {key}, got {_value_type(node)}")


def _value_type(node: exp.Expression | None) -> str:
    if isinstance(node, exp.Literal):
        return "string" if node.is_string else "float64"
    if isinstance(node, exp.Null):
        return "<nil>"
    return type(node).__name__
