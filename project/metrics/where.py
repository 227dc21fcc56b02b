"""Filters of metrics SQL (WHERE, HAVING, `IN (SELECT ...)`) rewritten into SQL over the model.

Only a fixed set of node types passes; each is rebuilt with its names replaced by SQL. Literals and caller
markers are copied as they are, so markers stay in value positions for the SQL checker to bind.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from project.errors import QueryError
from project.metrics.scope import Scope, column_name, field_sql, is_marker
from project.metrics.time_ranges import fold_date_arithmetic, now_literal, time_range_sql
from project.metrics.views import Dimension, Measure
from project.sql import sentinels

Resolve = Callable[[str], exp.Expression]

_REBUILT = (
    exp.And,
    exp.Or,
    exp.Not,
    exp.Paren,
    exp.EQ,
    exp.NEQ,
    exp.LT,
    exp.LTE,
    exp.GT,
    exp.GTE,
    exp.Between,
    exp.ILike,
    exp.Is,
)
_VALUES = (exp.Literal, exp.Null, exp.Boolean)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Between)
_TIME_RANGES = ("time_range_start", "time_range_end")
_ON_ELEMENTS = (*_COMPARISONS, exp.In, exp.Like, exp.ILike, exp.Is)
_ELEMENT = "_sluice_element"


def compile_where(node: exp.Expression | None, scope: Scope) -> exp.Expr | None:
    """The WHERE condition over the model: the query's filter on dimensions AND the caller's row filter."""
    condition = (
        compile_condition(node, functools.partial(_where_name, scope=scope), scope)
        if node is not None
        else None
    )
    parts = [part for part in (condition, scope.row_filter) if part is not None]
    if len(parts) == 2:
        return exp.and_(exp.Paren(this=parts[0]), parts[1].copy())
    return parts[0].copy() if parts else None


def compile_condition(node: exp.Expression, resolve: Resolve, scope: Scope | None = None) -> exp.Expression:
    """Rebuild a filter tree, mapping each name through `resolve`; refuse anything outside metrics SQL."""
    if isinstance(node, exp.Column):
        return node.copy() if is_marker(node) else resolve(column_name(node))
    if isinstance(node, _VALUES) or (isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal)):
        return node.copy()
    if isinstance(node, exp.Escape):
        raise QueryError("metrics sql: `ESCAPE` is not supported")
    if (time_value := _time_value(node)) is not None:
        return time_value
    if scope is not None and isinstance(node, _ON_ELEMENTS):
        unnested = _unnest_dimension(node.this, scope)
        if unnested is not None:
            return _any_element(node, unnested, resolve, scope)
    if isinstance(node, exp.Like):  # LIKE is case-insensitive in metrics SQL, as in Rill
        return _rebuild(node, exp.ILike, resolve, scope)
    if isinstance(node, exp.In):
        return _compile_in(node, resolve, scope)
    if isinstance(node, exp.Is) and not isinstance(node.expression, (exp.Null, exp.Boolean)):
        raise _unsupported(node)
    if isinstance(node, _COMPARISONS) and scope is not None and _has_time_range(node):
        return _compare_with_time_range(node, resolve, scope)
    if isinstance(node, _REBUILT):
        return _rebuild(node, type(node), resolve, scope)
    if isinstance(node, exp.Func):
        raise QueryError(f"metrics sql: function `{_function_name(node)}` not supported in where clause")
    raise _unsupported(node)


def _rebuild(node: exp.Expression, cls: type[exp.Expression], resolve: Resolve, scope) -> exp.Expression:
    args: dict[str, Any] = {}
    for key, value in node.args.items():
        if isinstance(value, exp.Expression):
            args[key] = compile_condition(value, resolve, scope)
        elif isinstance(value, list):
            args[key] = [compile_condition(item, resolve, scope) for item in value]
        else:
            args[key] = value
    return cls(**args)


def _time_value(node: exp.Expression) -> exp.Expression | None:
    """Date arithmetic on a literal and `now()`, folded as Rill folds them (see `time_ranges`)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("date_add", "date_sub"):
        if len(node.expressions) != 2:
            raise QueryError(f"metrics sql: {node.name.lower()} expects a time and an interval")
        time, interval = node.expressions
        if node.name.lower() == "date_add":
            node = exp.DateAdd(this=time, expression=interval)
        else:
            node = exp.DateSub(this=time, expression=interval)
    if isinstance(node, (exp.Add, exp.Sub, exp.DateAdd, exp.DateSub)) and isinstance(
        node.expression, exp.Interval
    ):
        subtract = isinstance(node, (exp.Sub, exp.DateSub))
        if not (isinstance(node.this, exp.Literal) and node.this.is_string):
            raise _unsupported(node)
        if sentinels.marker_indexes(node.this.name):  # a caller's date: the engine does the arithmetic
            moved = exp.cast(node.this.copy(), "TIMESTAMP")
            if subtract:
                return exp.Sub(this=moved, expression=node.expression.copy())
            return exp.Add(this=moved, expression=node.expression.copy())
        return fold_date_arithmetic(node.this.name, node.expression, subtract)
    if isinstance(node, exp.CurrentTimestamp) or (
        isinstance(node, exp.Anonymous) and node.name.lower() == "now" and not node.expressions
    ):
        return now_literal()
    return None


def _unnest_dimension(node: exp.Expression, scope: Scope) -> Dimension | None:
    if not isinstance(node, exp.Column) or is_marker(node) or node.table:
        return None
    field = scope.lookup(node.name)
    return field if isinstance(field, Dimension) and field.unnest else None


def _any_element(
    node: exp.Expression, dimension: Dimension, resolve: Resolve, scope: Scope
) -> exp.Expression:
    """A filter on an unnest dimension holds for a row when it holds for any element of its list, as in
    Rill: `EXISTS (SELECT 1 FROM UNNEST(list) AS e(v) WHERE <filter on v>)`."""
    element = exp.column("v", table=_ELEMENT, quoted=True)

    def on_element(name: str) -> exp.Expression:
        found = scope.lookup(name)
        return element.copy() if found == dimension else resolve(name)

    condition = compile_condition(node, on_element, None)
    alias = exp.TableAlias(
        this=exp.to_identifier(_ELEMENT, quoted=True), columns=[exp.to_identifier("v", quoted=True)]
    )
    elements = exp.Unnest(expressions=[field_sql(scope.allow(dimension))], alias=alias)
    return exp.Exists(this=exp.select(exp.Literal.number(1)).from_(elements).where(condition))


def _is_time_range(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() in _TIME_RANGES


def _has_time_range(node: exp.Expression) -> bool:
    return any(_is_time_range(value) for value in node.args.values() if isinstance(value, exp.Expression))


def _compare_with_time_range(node: exp.Expression, resolve: Resolve, scope: Scope) -> exp.Expression:
    """`<time dim> > time_range_start('...')`: the range is taken over the compared dimension's values."""
    column = node.this
    if not isinstance(column, exp.Column) or is_marker(column):
        raise QueryError("metrics sql: time_range_start function requires a valid time dimension")
    time_sql = resolve(column_name(column))
    source = exp.select("*").from_(scope.table())
    if scope.row_filter is not None:
        source = source.where(scope.row_filter.copy())
    source_alias = exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier("_sluice_range")))
    args: dict[str, Any] = {}
    for key, value in node.args.items():
        if key == "this":
            args[key] = time_sql
        elif isinstance(value, exp.Expression) and _is_time_range(value):
            args[key] = _time_range(value, time_sql, source_alias, scope)
        elif isinstance(value, exp.Expression):
            args[key] = compile_condition(value, resolve, scope)
        else:
            args[key] = value
    return type(node)(**args)


def _time_range(
    call: exp.Expression, time_sql: exp.Expression, source: exp.Expression, scope: Scope
) -> exp.Expression:
    name = call.name.lower()
    if len(call.expressions) != 1:
        raise QueryError("metrics sql: time_range_start/time_range_end expects exactly one arg")
    argument = call.expressions[0]
    if not (isinstance(argument, exp.Literal) and argument.is_string) or sentinels.marker_indexes(
        argument.name
    ):
        raise QueryError(f"metrics sql: expected string for duration, got {type(argument).__name__}")
    calendar = (scope.view.first_day_of_week, scope.view.first_month_of_year)
    return time_range_sql(argument.name, name == "time_range_end", time_sql, source, calendar)


def _compile_in(node: exp.In, resolve: Resolve, scope: Scope | None) -> exp.Expression:
    if any(node.args.get(key) for key in ("unnest", "field")):
        raise _unsupported(node)
    operand = compile_condition(node.this, resolve, scope)
    query = node.args.get("query")
    if query is not None:
        if scope is None:
            raise QueryError("metrics sql: subquery is not supported here")
        return exp.In(this=operand, query=exp.Subquery(this=_compile_subquery(query.this, scope)))
    return exp.In(this=operand, expressions=[_value(item) for item in node.expressions])


def _value(node: exp.Expression) -> exp.Expression:
    if (
        is_marker(node)
        or isinstance(node, _VALUES)
        or (isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal))
    ):
        return node.copy()
    raise QueryError(f"metrics sql: expected value expression, got `{node.sql()}`")


def _where_name(name: str, scope: Scope) -> exp.Expression:
    field = scope.lookup(name)
    if not isinstance(field, Dimension):
        raise QueryError(f'name "{name}" in expression is not a dimension available in the current context')
    return field_sql(scope.allow(field))


def _having_name(name: str, scope: Scope, dimension: Dimension) -> exp.Expression:
    field = scope.lookup(name)
    if isinstance(field, Dimension) and field.name == dimension.name:
        return field_sql(dimension)
    if not isinstance(field, Measure):
        raise QueryError(
            f'name "{name}" in expression is not a dimension or measure available in the current context'
        )
    return field_sql(scope.allow(field))


_SUBQUERY_REFUSALS = (
    ("distinct", "metrics sql: subquery with DISTINCT is not supported"),
    ("windows", "metrics sql: subquery with window specifications is not supported"),
    ("order", "metrics sql: subquery with ORDER BY is not supported"),
    ("limit", "metrics sql: subquery with LIMIT is not supported"),
    ("offset", "metrics sql: subquery with LIMIT is not supported"),
    ("with_", "metrics sql: subquery with WITH clause is not supported"),
    ("with", "metrics sql: subquery with WITH clause is not supported"),
    ("joins", "metrics sql: subquery with JOIN is not supported"),
)


def _compile_subquery(select: exp.Expression, scope: Scope) -> exp.Select:
    """`dim IN (SELECT dim FROM same_view [WHERE ...] [HAVING ...])` as a grouped query over the model."""
    if not isinstance(select, exp.Select):
        raise QueryError(f"metrics sql: subquery type {type(select).__name__} is not supported")
    for key, message in _SUBQUERY_REFUSALS:
        if select.args.get(key):
            raise QueryError(message)
    _check_subquery_source(select, scope)
    dimension = _subquery_dimension(select, scope)
    result = exp.select(field_sql(dimension)).from_(scope.table()).group_by(exp.Literal.number(1))
    filter_clause = select.args.get("where")
    where = compile_where(filter_clause.this if filter_clause is not None else None, scope)
    if where is not None:
        result = result.where(where)
    having = select.args.get("having")
    if having is not None:
        resolve = functools.partial(_having_name, scope=scope, dimension=dimension)
        result = result.having(compile_condition(having.this, resolve))
    return result


def _check_subquery_source(select: exp.Select, scope: Scope) -> None:
    source = select.args.get("from_") or select.args.get("from")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or table.args.get("db"):
        raise QueryError("metrics sql: subquery must select from a metrics view")
    if table.name != scope.view.name:
        raise QueryError(f'metrics sql: subquery must select from the metrics view "{scope.view.name}"')


def _subquery_dimension(select: exp.Select, scope: Scope) -> Dimension:
    if len(select.expressions) != 1:
        raise QueryError(
            "metrics sql: subquery must select exactly one dimension "
            "(note: you can still reference other measures in the HAVING expression)"
        )
    node = select.expressions[0]
    if isinstance(node, exp.Star):
        raise QueryError("metrics sql: subquery must select a specific field, not a wildcard")
    name = column_name(node.this if isinstance(node, exp.Alias) else node)
    field = scope.lookup(name)
    if not isinstance(field, Dimension):
        raise QueryError(f'name "{name}" in expression is not a dimension available in the current context')
    group = select.args.get("group")
    if group is not None:
        if len(group.expressions) != 1:
            raise QueryError("metrics sql: subquery must group by exactly one dimension")
        if scope.lookup(column_name(group.expressions[0])) != field:
            raise QueryError(
                f'metrics sql: subquery must group by the same dimension "{name}" as the subquery\'s SELECT clause'
            )
    return scope.allow(field)


def _function_name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()


def _unsupported(node: exp.Expression) -> QueryError:
    return QueryError(f"metrics sql: unsupported expression `{node.sql(dialect='duckdb')}`")
