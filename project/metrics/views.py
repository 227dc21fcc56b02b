"""Metrics views: a model's dimensions and measures, with their security rules, read from YAML.

A metrics view is plain data; `metrics_sql` compiles queries over it. SQL snippets (dimension and measure
expressions) are parsed here once, when the project loads, so that a broken one is a load error.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from project.errors import ProjectError

ALL_FIELDS = "*"


@dataclass(frozen=True)
class Dimension:
    """A group-by field: a model column or a non-aggregate SQL expression; with `unnest`, a list whose
    elements are the dimension's values (each row counts once per element, as in Rill)."""

    name: str
    display_name: str
    column: str | None = None
    expression: str | None = None
    unnest: bool = False


@dataclass(frozen=True)
class Window:
    """A window measure's window (Rill's `window:`): partition by the query's other dimensions (or not at
    all), ordered by `order` ((dimension name, descending) pairs), with an optional SQL frame."""

    partition: bool = True
    order: tuple[tuple[str, bool], ...] = ()
    frame: str = ""


@dataclass(frozen=True)
class Measure:
    """An aggregate SQL expression over the model's rows; or, when derived (Rill's `requires:` naming other
    measures, or `window:`), an expression over those measures' values, computed after they are grouped."""

    name: str
    display_name: str
    expression: str
    references: tuple[str, ...] = ()  # measures this one is computed from
    required_dimensions: tuple[str, ...] = ()  # dimensions the query must select
    window: Window | None = None
    unsupported: str = ""  # why a query cannot use it, in Rill's words (`per`, `time_comparison`)

    @property
    def derived(self) -> bool:
        return bool(self.references) or self.window is not None


@dataclass(frozen=True)
class FieldRule:
    """An `include`/`exclude` rule: when `condition` holds for the caller, it applies to `names`."""

    condition: str
    names: tuple[str, ...]  # ("*",) means every dimension and measure


@dataclass(frozen=True)
class Security:
    """The view's policy; templates are kept as text and evaluated per caller by a Policy."""

    access: str | None = None
    row_filter: str | None = None
    include: tuple[FieldRule, ...] = ()
    exclude: tuple[FieldRule, ...] = ()


@dataclass(frozen=True)
class MetricsView:
    """One `metrics/<name>.yaml` file: the model it reads, its fields and its security."""

    name: str
    path: str
    model: str
    timeseries: str | None
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    security: Security | None = None
    connector: str | None = None  # the engine holding the model/table (None: the project's default)
    first_day_of_week: int = 1  # weeks start on this ISO weekday (1 Monday .. 7 Sunday)
    first_month_of_year: int = 1  # years start in this month (1 January .. 12 December)

    def dimension(self, name: str) -> Dimension | None:
        """The dimension called `name` (exact case first, then case-insensitive), or None."""
        return _find(self.dimensions, name)

    def measure(self, name: str) -> Measure | None:
        """The measure called `name` (exact case first, then case-insensitive), or None."""
        return _find(self.measures, name)

    def field_names(self) -> tuple[str, ...]:
        """All dimension and measure names, in file order."""
        return tuple(
            [dimension.name for dimension in self.dimensions] + [measure.name for measure in self.measures]
        )


def _find(fields, name):
    exact = [field for field in fields if field.name == name]
    folded = [field for field in fields if field.name.lower() == name.lower()]
    return (exact or folded or [None])[0]


def parse_metrics_view(name: str, document: dict, path: str) -> MetricsView:
    """Build a MetricsView from a parsed YAML document; raise ProjectError (with path) if it is invalid."""
    if not isinstance(document, dict):
        raise ProjectError("a metrics view must be a YAML mapping", path=path)
    dimensions = tuple(_dimensions(document.get("dimensions"), path))
    timeseries = document.get("timeseries") or document.get("time_dimension") or None
    dimension_names = {dimension.name.lower() for dimension in dimensions}
    if timeseries:
        dimension_names.add(str(timeseries).lower())
    measures = tuple(_measures(document.get("measures"), dimension_names, timeseries, path))
    _check_unique_names((*dimensions, *measures), path)
    _check_references(measures, path)
    return MetricsView(
        name=document.get("name") or name,
        path=path,
        model=_model(document, path),
        timeseries=timeseries,
        dimensions=dimensions,
        measures=measures,
        security=_security(document.get("security"), (*dimensions, *measures), path),
        connector=str(document["connector"]) if document.get("connector") else None,
        first_day_of_week=_calendar_start(document, "first_day_of_week", 7, path),
        first_month_of_year=_calendar_start(document, "first_month_of_year", 12, path),
    )


def _calendar_start(document: dict, key: str, highest: int, path: str) -> int:
    """Rill's `first_day_of_week` (1-7) / `first_month_of_year` (1-12); 0 or absent is the default, 1."""
    value = document.get(key)
    if value in (None, 0):
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProjectError(f"{key} must be a whole number from 1 to {highest}", path=path)
    if value > highest:
        raise ProjectError(f"{key} cannot be greater than {highest}", path=path)
    return value


def check_model(view: MetricsView, known_models: set[str]) -> None:
    """Raise ProjectError when the view's model (or table) is not one the project knows (a table on
    another connector is that engine's to know)."""
    if view.connector is None and view.model not in known_models:
        raise ProjectError(
            f'model "{view.model}" used by metrics view "{view.name}" not found', path=view.path
        )


def _model(document: dict, path: str) -> str:
    model, table = document.get("model"), document.get("table")
    if model and table:
        raise ProjectError('cannot set both the "model" field and the "table" field', path=path)
    if not (model or table):
        raise ProjectError('must set a value for either the "model" field or the "table" field', path=path)
    return str(model or table)


def _items(value, key: str, path: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ProjectError(f'"{key}" must be a list of mappings', path=path)
    return [item for item in value if not item.get("ignore")]


def _dimensions(value, path: str):
    for index, item in enumerate(_items(value, "dimensions", path)):
        column = item.get("column") or item.get("property")
        expression = item.get("expression")
        name = str(item.get("name") or column or f"dimension_{index}")
        if bool(column) == bool(expression):
            raise ProjectError(
                f'exactly one of column or expression should be set for dimension: "{name}"', path=path
            )
        if expression:
            _check_expression(str(expression), f'dimension "{name}"', path)
        display_name = str(item.get("display_name") or item.get("label") or name)
        unnest = bool(item.get("unnest"))
        yield Dimension(name, display_name, column and str(column), expression and str(expression), unnest)


def _measures(value, dimension_names: set[str], timeseries: str | None, path: str):
    for index, item in enumerate(_items(value, "measures", path)):
        name = str(item.get("name") or f"measure_{index}")
        expression = item.get("expression")
        if not expression:
            raise ProjectError(f'measure "{name}" must have an "expression"', path=path)
        _check_expression(str(expression), f'measure "{name}"', path)
        display_name = str(item.get("display_name") or item.get("label") or name)
        per = _selector_names(item.get("per"), f'measure "{name}": "per"', path)
        requires = _selector_names(item.get("requires"), f'measure "{name}": "requires"', path)
        references = tuple(ref for ref in requires if ref.lower() not in dimension_names)
        required = [ref for ref in requires if ref.lower() in dimension_names]
        window = _window(item.get("window"), dimension_names, timeseries, f'measure "{name}"', path)
        for order_name, _ in window.order if window else ():
            if order_name.lower() not in {req.lower() for req in required}:
                required.append(order_name)
        for dimension in per:
            if dimension.lower() not in dimension_names:
                raise ProjectError(f'measure "{name}": "per" dimension "{dimension}" not found', path=path)
        kind = _measure_type(item.get("type"), bool(references or per), path)
        unsupported = UNSUPPORTED_QUERIES.get(kind, "") or (PER_UNSUPPORTED if per else "")
        yield Measure(name, display_name, str(expression), references, tuple(required), window, unsupported)


# Measures Rill loads but no metrics SQL query can use (runtime/metricsview/ast.go): a `per` measure's
# query is not implemented there, and a time comparison needs a comparison time range that metrics SQL
# has no way to give. As in Rill, the view loads and a query selecting one fails with these words.
PER_UNSUPPORTED = 'support for "per" not implemented'
UNSUPPORTED_QUERIES = {"time_comparison": "comparison time range not provided"}


def _measure_type(value, derived: bool, path: str) -> str:
    kind = str(value or "").lower()
    if kind == "simple" and derived:
        raise ProjectError('measure type "simple" cannot have "per" or "requires" fields', path=path)
    if kind not in ("", "simple", "derived", "time_comparison"):
        raise ProjectError(
            f'invalid measure type "{value}" (allowed values: simple, derived, time_comparison)', path=path
        )
    return kind


def _selector_names(value, what: str, path: str) -> list[str]:
    """Rill's field selectors: a name, a list of names, or a list of `{name: ..., time_grain: ...}`."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise ProjectError(f"{what}: field references should be a name or a list", path=path)
        names.append(name)
    return names


def _window(value, dimension_names: set[str], timeseries: str | None, what: str, path: str) -> Window | None:
    """Rill's `window:`: `true`/`time` (partitioned, ordered by time), `all` (one window over every row), or a
    mapping with `partition` (default true), `order` (default: time when partitioned) and `frame`."""
    if value is None or value is False:
        return None
    by_time = ((str(timeseries), False),) if timeseries else ()
    if isinstance(value, (bool, str)):
        kind = str(value).lower()
        if kind in ("true", "time"):
            return Window(True, by_time)
        if kind == "all":
            return Window(False)
        raise ProjectError(f'{what}: invalid window type "{value}"', path=path)
    if not isinstance(value, dict):
        raise ProjectError(f"{what}: measure window should be either a string or an object", path=path)
    partition = bool(value.get("partition", True))
    order = tuple(_order_item(item, what, path) for item in _order_items(value.get("order")))
    if value.get("order") is None:
        order = by_time if partition else ()
    for name, _ in order:
        if name.lower() not in dimension_names:
            raise ProjectError(f'{what}: order dimension "{name}" not found', path=path)
    return Window(partition, order, str(value.get("frame") or ""))


def _order_items(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _order_item(item, what: str, path: str) -> tuple[str, bool]:
    if isinstance(item, str):
        return (item, False)
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        return (item["name"], bool(item.get("desc") or item.get("descending")))
    raise ProjectError(f"{what}: field references should be a name or a list", path=path)


def _check_references(measures: tuple[Measure, ...], path: str) -> None:
    """Every measure a derived measure requires exists, and none requires itself through others."""
    by_name = {measure.name.lower(): measure for measure in measures}
    for measure in measures:
        for reference in measure.references:
            if reference.lower() not in by_name:
                raise ProjectError(f'referenced measure "{reference}" not found', path=path)
    for measure in measures:
        _check_no_cycle(measure, by_name, (), path)


def _check_no_cycle(measure: Measure, by_name: dict[str, Measure], seen: tuple[str, ...], path: str) -> None:
    if measure.name.lower() in seen:
        raise ProjectError(
            f'measure "{measure.name}" requires itself (through {" -> ".join(seen)})', path=path
        )
    for reference in measure.references:
        _check_no_cycle(by_name[reference.lower()], by_name, (*seen, measure.name.lower()), path)


def _check_unique_names(fields, path: str) -> None:
    seen: set[str] = set()
    for field in fields:
        if field.name.lower() in seen:
            raise ProjectError(f'found duplicate dimension or measure name "{field.name}"', path=path)
        seen.add(field.name.lower())


def _check_expression(text: str, what: str, path: str) -> None:
    try:
        expression_tree(text)
    except SqlglotError as error:
        raise ProjectError(f"{what}: invalid SQL expression: {error}", path=path) from None


@functools.lru_cache(maxsize=1024)
def _parse_expression(text: str) -> exp.Expression:
    statements = sqlglot.parse(f"SELECT {text}", dialect="duckdb")
    if (
        len(statements) != 1
        or not isinstance(statements[0], exp.Select)
        or len(statements[0].expressions) != 1
    ):
        raise SqlglotError("expected exactly one SQL expression")
    select = statements[0]
    if any(select.args.get(key) for key in ("from_", "from", "where", "group", "having", "order", "limit")):
        raise SqlglotError("expected exactly one SQL expression")
    return select.expressions[0]


def expression_tree(text: str) -> exp.Expression:
    """A fresh parse tree of a dimension or measure expression (parsed once, copied per use)."""
    return _parse_expression(text).copy()


def _security(value, fields, path: str) -> Security | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProjectError("invalid 'security': must be a mapping", path=path)
    include = _rules(value.get("include"), "include", fields, path)
    exclude = _rules(value.get("exclude"), "exclude", fields, path)
    if include and exclude:
        raise ProjectError(
            "invalid 'security': only one of 'include' and 'exclude' can be specified", path=path
        )
    return Security(_template(value.get("access")), _template(value.get("row_filter")), include, exclude)


def _template(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rules(value, key: str, fields, path: str) -> tuple[FieldRule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProjectError(f"invalid 'security': '{key}' must be a list", path=path)
    return tuple(_rule(item, key, fields, path) for item in value)


def _rule(item, key: str, fields, path: str) -> FieldRule:
    invalid = f"invalid 'security': '{key}' fields must have a valid 'if' condition and 'names' list"
    if not isinstance(item, dict) or item.get("if") in (None, "") or not item.get("names"):
        raise ProjectError(invalid, path=path)
    names = item["names"]
    if names == ALL_FIELDS:
        return FieldRule(_template(item["if"]) or "", (ALL_FIELDS,))
    if not isinstance(names, list):
        raise ProjectError(invalid, path=path)
    known = {field.name.lower(): field.name for field in fields}
    for name in names:
        if str(name).lower() not in known:
            raise ProjectError(
                f"invalid 'security': '{key}' property \"{name}\" does not exists in dimensions or measures list",
                path=path,
            )
    return FieldRule(_template(item["if"]) or "", tuple(known[str(name).lower()] for name in names))
