"""Truncating a time dimension to a grain, as Rill's DuckDB dialect does (runtime/drivers/olap.go
`DateTruncExpr`): in the query's time zone, with weeks starting on the view's `first_day_of_week` and years
in its `first_month_of_year`.

Without a time zone the value is truncated as UTC. With one, day and longer grains are truncated on the
local wall clock and converted back (`timezone(tz, date_trunc(g, timezone(tz, t::TIMESTAMPTZ)))`), shorter
ones bucketed with `time_bucket(..., tz)`. A week (year) starting on another day (month) is found by moving
the time forward to Monday's (January's) place, truncating, and moving back.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from project.errors import QueryError

UTC_NAMES = ("", "UTC", "Etc/UTC")
DAY_OR_LONGER = ("day", "week", "month", "quarter", "year")


def check_time_zone(name: str) -> str:
    """The IANA time zone name as given ('' for UTC); QueryError with Rill's wording when unknown."""
    if name in UTC_NAMES:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f'invalid time zone "{name}": unknown time zone {name}') from None
    return name


def time_floor_sql(
    value: exp.Expression, grain: str | exp.Expression, time_zone: str, first_day: int, first_month: int
) -> exp.Expression:
    """`value` truncated to `grain` (a grain name, or an expression giving one at run time)."""
    zone = check_time_zone(time_zone)
    if isinstance(grain, str):
        return _floor(value, grain, exp.Literal.string(grain), zone, _shift(grain, first_day, first_month))
    shifted = [(name, _shift(name, first_day, first_month)) for name in ("week", "year")]
    plain = _floor(value, "", grain, zone, None)
    cases = [(name, shift) for name, shift in shifted if shift is not None]
    if not cases:
        return plain
    case = exp.Case()
    for name, shift in cases:
        case = case.when(
            exp.EQ(this=grain.copy(), expression=exp.Literal.string(name)),
            _floor(value, name, exp.Literal.string(name), zone, shift),
        )
    return case.else_(plain)


def wall_clock_floor(value: exp.Expression, grain: str, first_day: int, first_month: int) -> exp.Expression:
    """A TIMESTAMP (a UTC time, or a local wall-clock time) truncated to a grain, on the view's calendar."""
    return _floor(value, grain, exp.Literal.string(grain), "", _shift(grain, first_day, first_month))


def to_wall_clock(value: exp.Expression, zone: str) -> exp.Expression:
    """A UTC TIMESTAMP as the wall-clock time in `zone` (unchanged for UTC)."""
    if not zone:
        return value
    return _call("timezone", exp.Literal.string(zone), exp.cast(value, "TIMESTAMPTZ"))


def from_wall_clock(value: exp.Expression, zone: str) -> exp.Expression:
    """A wall-clock time in `zone` as the UTC TIMESTAMP it is."""
    if not zone:
        return value
    return exp.cast(_call("timezone", exp.Literal.string(zone), value), "TIMESTAMP")


def _shift(grain: str, first_day: int, first_month: int) -> exp.Interval | None:
    if grain == "week" and first_day > 1:
        return _interval(8 - first_day, "DAY")
    if grain == "year" and first_month > 1:
        return _interval(13 - first_month, "MONTH")
    return None


def _interval(amount: int, unit: str) -> exp.Interval:
    return exp.Interval(this=exp.Literal.string(str(amount)), unit=exp.var(unit))


def _floor(
    value: exp.Expression, grain: str, unit: exp.Expression, zone: str, shift: exp.Interval | None
) -> exp.Expression:
    if not zone:
        moved = _moved(exp.cast(value.copy(), "TIMESTAMP"), shift, exp.Add)
        truncated = exp.cast(_call("date_trunc", unit.copy(), moved), "TIMESTAMP")
        return _moved(truncated, shift, exp.Sub)
    zone_name = exp.Literal.string(zone)
    as_zoned = exp.cast(value.copy(), "TIMESTAMPTZ")
    if grain and grain not in DAY_OR_LONGER:
        bucket = exp.Interval(this=exp.Literal.string(f"1 {grain}"))
        return exp.cast(_call("time_bucket", bucket, as_zoned, zone_name), "TIMESTAMP")
    wall_clock = _moved(_call("timezone", zone_name, as_zoned), shift, exp.Add)
    local_floor = _moved(_call("date_trunc", unit.copy(), wall_clock), shift, exp.Sub)
    return exp.cast(_call("timezone", zone_name.copy(), local_floor), "TIMESTAMP")


def _moved(
    value: exp.Expression, shift: exp.Interval | None, operation: type[exp.Add | exp.Sub]
) -> exp.Expression:
    if shift is None:
        return value
    return operation(this=value, expression=shift.copy())


def _call(name: str, *arguments: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(arguments))
