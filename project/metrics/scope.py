"""What one caller may use of a metrics view: its fields' SQL, the fields hidden from them, their row filter.

`resolve_scope` applies the view's security for a caller once per query; the compiler then asks the scope
for each name it meets, so every use of a hidden field is refused in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from project.errors import AccessDeniedError, QueryError
from project.metrics.views import ALL_FIELDS, Dimension, Measure, MetricsView, expression_tree
from project.sql import sentinels

FORBIDDEN = "action not allowed"
FieldT = TypeVar("FieldT", bound=Dimension | Measure)


class Policy(Protocol):
    """The current caller's view of security templates; the server implements it per request."""

    def check(self, condition: str) -> bool:
        """Evaluate an `access` or `if` template for the caller: True when it holds."""
        ...

    def render(self, template: str) -> str:
        """Render a `row_filter` template for the caller into SQL text (caller values as markers)."""
        ...


@dataclass(frozen=True)
class Scope:
    """A metrics view as seen by one caller."""

    view: MetricsView
    hidden: frozenset[str] = frozenset()  # lower-cased names the caller may not use
    row_filter: exp.Expression | None = None

    def lookup(self, name: str) -> Dimension | Measure | None:
        """The dimension or measure called `name` (the timeseries column counts as a dimension)."""
        found = self.view.dimension(name) or self.view.measure(name)
        if found is None and self.view.timeseries and name.lower() == self.view.timeseries.lower():
            return Dimension(self.view.timeseries, self.view.timeseries, column=self.view.timeseries)
        return found

    def allow(self, field: FieldT) -> FieldT:
        """Return the field, or raise Rill's `action not allowed` when the caller's policy hides it."""
        if field.name.lower() in self.hidden and field.name != self.view.timeseries:
            kind = "dimension" if isinstance(field, Dimension) else "measure"
            raise QueryError(f'invalid {kind} "{field.name}": {FORBIDDEN}')
        return field

    def table(self) -> exp.Table:
        """The model (or table) the view reads."""
        return exp.Table(this=exp.to_identifier(self.view.model, quoted=True))


def field_sql(field: Dimension | Measure) -> exp.Expression:
    """The SQL of a dimension or measure over the model, ready to be placed inside a larger expression."""
    if isinstance(field, Dimension) and field.column:
        return exp.column(field.column, quoted=True)
    return exp.Paren(this=expression_tree(field.expression or ""))


def column_name(node: exp.Expression) -> str:
    """The plain name a Column node refers to; table-qualified names are refused as in Rill."""
    if not isinstance(node, exp.Column):
        raise QueryError("metrics sql: expected column name expression")
    if node.table:
        raise QueryError(
            f"metrics sql: no alias or table reference is supported in column name. Found in `{node.sql()}`"
        )
    return node.name


def is_marker(node: exp.Expression) -> bool:
    """True for a bare caller-value marker, which sqlglot parses as a column but which stands for a value."""
    return isinstance(node, exp.Column) and not node.table and sentinels.is_marker(node.name)


def resolve_scope(view: MetricsView, policy: Policy | None) -> Scope:
    """Apply the view's security for the caller behind `policy` (None: no security applies)."""
    security = view.security
    if policy is None or security is None:
        return Scope(view)
    if security.access is not None and not policy.check(security.access):
        raise AccessDeniedError(FORBIDDEN)  # a valid caller the view is closed to: 403
    return Scope(view, _hidden_names(view, policy), _row_filter(security.row_filter, policy))


def _hidden_names(view: MetricsView, policy: Policy) -> frozenset[str]:
    security = view.security
    every = {name.lower() for name in view.field_names()}
    if security is None:
        return frozenset()
    visible = every
    if security.include:
        visible = set().union(
            *(_rule_names(rule, every) for rule in security.include if policy.check(rule.condition))
        )
    for rule in security.exclude:
        if policy.check(rule.condition):
            visible = visible - _rule_names(rule, every)
    return frozenset(every - visible)


def _rule_names(rule, every: set[str]) -> set[str]:
    return set(every) if ALL_FIELDS in rule.names else {name.lower() for name in rule.names}


def _row_filter(template: str | None, policy: Policy) -> exp.Expression | None:
    if not template:
        return None
    text = policy.render(template)
    if not text.strip():
        return None
    try:
        statements = sqlglot.parse(f"SELECT 1 WHERE {text}", dialect="duckdb")
    except SqlglotError as error:
        raise QueryError(f"invalid 'security': 'row_filter' is not valid SQL: {error}") from None
    select = statements[0] if len(statements) == 1 else None
    where = select.args.get("where") if select is not None else None
    if select is None or where is None or len(select.expressions) != 1 or _has_more_clauses(select):
        raise QueryError("invalid 'security': 'row_filter' must be one SQL boolean expression")
    return exp.Paren(this=where.this)


def _has_more_clauses(select: exp.Expr) -> bool:
    return any(select.args.get(key) for key in ("group", "having", "order", "limit", "offset", "qualify"))
