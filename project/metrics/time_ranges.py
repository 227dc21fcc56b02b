"""Time values in metrics SQL filters, as Rill's metrics SQL reads them.

- Date literal arithmetic (`'30-07-2024' - INTERVAL 90 DAY`, `date_add(...)`, `date_sub(...)`) folds to an
  RFC 3339 timestamp string when the query compiles, as Rill does; dates are read the way Rill's `dateparse`
  reads them (ISO dates and times, `DD-MM-YYYY` when the first number cannot be a month, else month first).
- `now()` is the current time (RFC 3339, UTC).
- `time_range_start('<rill time>')` / `time_range_end(...)`: Rill's time syntax, the subset
  `<n><grain> [as of <anchor>[/<grain>][+|-<n><grain>]...]` with anchors `watermark`, `latest`, `earliest`
  and `now`, and an optional `tz <IANA zone>` suffix (snaps and moves on that zone's wall clock; `/W` and
  `/Y` on the view's first day of week and month of year). The anchor is data-dependent, so it compiles to SQL that the engine evaluates with the query
  (over the view's model, under the caller's row filter), never to a value frozen into a cached plan.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from sqlglot import exp

from project.errors import QueryError
from project.metrics.time_floors import check_time_zone, from_wall_clock, to_wall_clock, wall_clock_floor

_GRAIN_UNITS = {
    "ms": "millisecond",
    "s": "second",
    "m": "minute",
    "h": "hour",
    "D": "day",
    "W": "week",
    "M": "month",
    "Q": "quarter",
    "Y": "year",
}
_SQL_UNITS = {
    "MICROSECOND": "microsecond",
    "MILLISECOND": "millisecond",
    "SECOND": "second",
    "MINUTE": "minute",
    "HOUR": "hour",
    "DAY": "day",
    "WEEK": "week",
    "MONTH": "month",
    "QUARTER": "quarter",
    "YEAR": "year",
}
_ANCHORS = {"watermark": "max", "latest": "max", "earliest": "min"}
_AMOUNT = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|D|W|M|Q|Y)\s*$")
_MODIFIER = re.compile(r"(/)(ms|s|m|h|D|W|M|Q|Y)|([+-])(\d+)(ms|s|m|h|D|W|M|Q|Y)")


def fold_date_arithmetic(date_text: str, interval: exp.Interval, subtract: bool) -> exp.Literal:
    """`'<date>' +|- INTERVAL n UNIT` as the RFC 3339 timestamp string Rill binds in its place."""
    amount, unit = _interval_parts(interval)
    moved = add(parse_any_date(date_text), unit, -amount if subtract else amount)
    return exp.Literal.string(rfc3339(moved))


def now_literal() -> exp.Literal:
    return exp.Literal.string(rfc3339(datetime.now(UTC)))


def rfc3339(moment: datetime) -> str:
    """As Go's time.RFC3339 prints a UTC time: whole seconds and `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_any_date(text: str) -> datetime:
    """A date or timestamp as Rill's `dateparse.ParseAny` reads the common forms; naive times are UTC."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = _day_month_year(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day_month_year(value: str) -> datetime:
    match = re.fullmatch(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", value)
    if match is None:
        raise QueryError(f'metrics sql: cannot read "{value}" as a date')
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    day, month = (first, second) if first > 12 else (second, first)  # month first when ambiguous
    hour, minute, second_of_minute = (int(match[5] or 0), int(match[6] or 0), int(match[7] or 0))
    try:
        return datetime(year, month, day, hour, minute, second_of_minute)
    except ValueError:
        raise QueryError(f'metrics sql: cannot read "{value}" as a date') from None


def add(moment: datetime, unit: str, amount: int) -> datetime:
    """Go's time arithmetic: months and years with AddDate's normalisation (Jan 31 + 1 month = Mar 2/3)."""
    if unit in ("month", "quarter", "year"):
        months = amount * {"month": 1, "quarter": 3, "year": 12}[unit]
        index = moment.month - 1 + months
        year, month = moment.year + index // 12, index % 12 + 1
        overflow = moment.day - calendar.monthrange(year, month)[1]
        base = moment.replace(
            year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
        )
        return base + timedelta(days=max(overflow, 0))
    seconds = {"microsecond": 1e-6, "millisecond": 1e-3, "second": 1, "minute": 60, "hour": 3600}
    if unit in seconds:
        return moment + timedelta(seconds=amount * seconds[unit])
    return moment + timedelta(days=amount * {"day": 1, "week": 7}[unit])


def _interval_parts(interval: exp.Interval) -> tuple[int, str]:
    unit_node = interval.args.get("unit")
    unit_name = (unit_node.name if unit_node is not None else "").upper().rstrip("S")
    amount_node = interval.this
    amount_text = amount_node.name if isinstance(amount_node, exp.Literal) else ""
    if unit_name not in _SQL_UNITS or not re.fullmatch(r"-?\d+", amount_text.strip()):
        raise QueryError(f"metrics sql: unsupported interval `{interval.sql(dialect='duckdb')}`")
    return int(amount_text), _SQL_UNITS[unit_name]


def time_range_sql(
    text: str,
    end: bool,
    time_column: exp.Expression,
    source: exp.Expression,
    calendar: tuple[int, int] = (1, 1),
) -> exp.Expression:
    """`time_range_start/end('<rill time>')` as SQL: the range's end is its anchor, its start the anchor
    minus the duration. `source` is the query the anchor's min/max is taken from; `calendar` the view's
    first day of week and first month of year, where `/W` and `/Y` snap to.

    With `tz <zone>` at the end, snapping and moving happen on that zone's wall clock (a day is a local
    day, also across a daylight-saving change), and the result is converted back to UTC."""
    body, zone = _time_zone(text)
    duration, _, anchor_text = body.partition(" as of ")
    match = _AMOUNT.match(duration)
    if match is None:
        raise QueryError(f"metrics sql: invalid ISO8601 duration '{text}'")
    amount, grain = int(match[1]), match[2]
    anchor_text = anchor_text.strip() or f"watermark/{grain}+1{grain}"
    anchor = _anchor_sql(anchor_text, time_column, source, zone, calendar)
    if not end:
        anchor = exp.Sub(this=anchor, expression=_interval(amount, grain))
    return from_wall_clock(anchor, zone)


def _time_zone(text: str) -> tuple[str, str]:
    """The expression without its `tz <zone>` suffix, and the zone ('' for UTC)."""
    match = re.fullmatch(r"(.*?)\s+tz\s+([0-9A-Za-z/+\-_]{3,})\s*", text, flags=re.IGNORECASE | re.DOTALL)
    if match is None:
        return text, ""
    return match[1], check_time_zone(match[2])


def _anchor_sql(
    text: str, time_column: exp.Expression, source: exp.Expression, zone: str, calendar: tuple[int, int]
) -> exp.Expression:
    """The anchor on the zone's wall clock, with its snaps and moves applied."""
    match = re.fullmatch(r"([a-z]+)((?:/(?:ms|s|m|h|D|W|M|Q|Y)|[+-]\d+(?:ms|s|m|h|D|W|M|Q|Y))*)", text)
    if match is None or (match[1] != "now" and match[1] not in _ANCHORS):
        raise QueryError(f"metrics sql: unsupported time anchor '{text}'")
    if match[1] == "now":
        anchor: exp.Expression = exp.cast(exp.CurrentTimestamp(), "TIMESTAMP")
    else:
        aggregate = exp.Max if _ANCHORS[match[1]] == "max" else exp.Min
        inner = exp.select(aggregate(this=exp.cast(time_column.copy(), "TIMESTAMP"))).from_(source.copy())
        anchor = exp.Subquery(this=inner)
    anchor = to_wall_clock(anchor, zone)
    for modifier in _MODIFIER.finditer(match[2]):
        anchor = _modified(anchor, modifier, calendar)
    return anchor


def _modified(anchor: exp.Expression, modifier: re.Match, calendar: tuple[int, int]) -> exp.Expression:
    """`/<grain>` truncates the anchor to the grain; `+<n><grain>` / `-<n><grain>` moves it."""
    if modifier[1]:
        return wall_clock_floor(anchor, _GRAIN_UNITS[modifier[2]], *calendar)
    interval = _interval(int(modifier[4]), modifier[5])
    if modifier[3] == "+":
        return exp.Add(this=anchor, expression=interval)
    return exp.Sub(this=anchor, expression=interval)


def _interval(amount: int, grain: str) -> exp.Interval:
    return exp.Interval(this=exp.Literal.string(str(amount)), unit=exp.var(_GRAIN_UNITS[grain].upper()))
