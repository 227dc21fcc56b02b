"""Time grain truncation for ClickHouse 18.16, which has no `date_trunc`: the `toStartOf*` functions it has.

A grain written in the SQL becomes its function. A grain the caller sends is a bound value, so it becomes a
CASE over every grain that fails (`throwIf`) for any other value, as `date_trunc` does on DuckDB.
"""

from __future__ import annotations

from sqlglot import exp

from project.sql import sentinels

# DateTime holds whole seconds: truncating to a second (or a millisecond) keeps the value.
STARTS = {
    "millisecond": None,
    "second": None,
    "minute": "toStartOfMinute",
    "hour": "toStartOfHour",
    "day": "toStartOfDay",
    "week": "toMonday",  # ISO weeks start on Monday, as DuckDB's date_trunc('week', ...)
    "month": "toStartOfMonth",
    "quarter": "toStartOfQuarter",
    "year": "toStartOfYear",
}


def truncations_for_clickhouse(tree: exp.Expr) -> exp.Expr:
    """The tree with every `date_trunc` written with functions ClickHouse 18.16 has."""
    for node in list(tree.find_all(exp.TimestampTrunc, exp.DateTrunc)):
        if _literal_grain(node.args["unit"]) is None:
            node.replace(_any_grain(node.this, node.args["unit"]))
    for node in list(tree.find_all(exp.TimestampTrunc, exp.DateTrunc)):
        node.replace(_start(_literal_grain(node.args["unit"]) or "second", node.this))
    return tree


def _literal_grain(unit: exp.Expr) -> str | None:
    """The grain when it is written in the SQL (a caller's grain is a marker: None)."""
    if isinstance(unit, (exp.Var, exp.Literal)) and not sentinels.marker_indexes(unit.name):
        grain = unit.name.lower()
        if grain in STARTS:
            return grain
    return None


def _start(grain: str, value: exp.Expr) -> exp.Expr:
    """`toDateTime(toStartOfMonth(t))`: every grain gives a DateTime (some functions give a Date)."""
    function = STARTS.get(grain)
    inner = value.copy() if function is None else exp.Anonymous(this=function, expressions=[value.copy()])
    return exp.Anonymous(this="toDateTime", expressions=[inner])


def _any_grain(value: exp.Expr, unit: exp.Expr) -> exp.Expr:
    """`CASE WHEN unit = 'minute' THEN date_trunc('minute', t) ... ELSE <failure> END`."""
    case = exp.Case()
    for grain in STARTS:
        truncated = exp.TimestampTrunc(this=value.copy(), unit=exp.Var(this=grain.upper()))
        case = case.when(exp.EQ(this=unit.copy(), expression=exp.Literal.string(grain)), truncated)
    return case.else_(_unknown_grain(unit))


def _unknown_grain(unit: exp.Expr) -> exp.Expr:
    """ClickHouse evaluates every branch, so this one fails only when the grain is none of them, and its
    error names the grain and the known ones: `Unknown element 'fortnight' for type Enum8('millisecond' = 1,
    ...)` (18.16's `throwIf` takes no message, and said only `Value passed to 'throwIf' function is non zero`)."""
    known = exp.DataType(
        this=exp.DType.ENUM8,
        expressions=[
            exp.EQ(this=exp.Literal.string(grain), expression=exp.Literal.number(number))
            for number, grain in enumerate(STARTS, start=1)
        ],
    )
    checked = exp.Anonymous(this="toUInt8", expressions=[exp.Cast(this=unit.copy(), to=known)])
    never = exp.Mul(this=exp.Literal.number(0), expression=checked)
    return exp.Anonymous(this="toDateTime", expressions=[never])
