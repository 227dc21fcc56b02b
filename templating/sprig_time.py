"""Sprig's time functions with Go layouts ("2006-01-02 15:04:05") and Go durations ("-1h30m"), Go's
time.Time methods, and time zones from the IANA database. The local zone is UTC, as on servers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .printing import format_time
from .values import GoInt, wrap64

LAYOUT_CHUNK = re.compile(
    r"January|Jan(?![a-z])|Monday|Mon(?![a-z])|MST|2006|002|__2|_2(?!006)|15|0[1-6]"
    r"|-07:00:00|-070000|-07:00|-0700|-07|Z07:00:00|Z070000|Z07:00|Z0700|Z07|PM|pm"
    r"|[.,](?:0+|9+)(?![0-9])|[1-5]"
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def offset_text(moment: datetime, chunk: str) -> str:
    """A zone offset in the style of -07:00, -0700, -07 or Z07:00 (Z for UTC)."""
    offset = int((moment.utcoffset() or timedelta()).total_seconds())
    if chunk.startswith("Z") and offset == 0:
        return "Z"
    sign, offset = "-" if offset < 0 else "+", abs(offset)
    hours, minutes, seconds = offset // 3600, offset // 60 % 60, offset % 60
    colon = ":" if ":" in chunk else ""
    text = f"{sign}{hours:02d}"
    if chunk.rstrip("0:").endswith("07") and len(chunk.lstrip("Z-")) > 2:
        text += f"{colon}{minutes:02d}"
    return text + (
        f"{colon}{seconds:02d}" if chunk.count("0") + chunk.count(":") >= 6 and len(chunk) > 6 else ""
    )


def format_chunk(moment: datetime, chunk: str) -> str:
    """One layout element of Go's time.Format."""
    hour12 = moment.hour % 12 or 12
    simple = {
        "January": MONTHS[moment.month - 1],
        "Jan": MONTHS[moment.month - 1][:3],
        "Monday": DAYS[moment.weekday()],
        "Mon": DAYS[moment.weekday()][:3],
        "2006": f"{moment.year:04d}",
        "06": f"{moment.year % 100:02d}",
        "01": f"{moment.month:02d}",
        "1": str(moment.month),
        "02": f"{moment.day:02d}",
        "2": str(moment.day),
        "_2": f"{moment.day:>2}",
        "002": f"{moment.timetuple().tm_yday:03d}",
        "__2": f"{moment.timetuple().tm_yday:>3}",
        "15": f"{moment.hour:02d}",
        "03": f"{hour12:02d}",
        "3": str(hour12),
        "04": f"{moment.minute:02d}",
        "4": str(moment.minute),
        "05": f"{moment.second:02d}",
        "5": str(moment.second),
        "PM": "PM" if moment.hour >= 12 else "AM",
        "pm": "pm" if moment.hour >= 12 else "am",
    }
    if chunk in simple:
        return simple[chunk]
    if chunk == "MST":
        name = moment.tzname() or "UTC"
        return name if name.isalpha() else offset_text(moment, "-0700")
    if chunk[0] in ".,":
        digits = f"{moment.microsecond:06d}000"[: len(chunk) - 1]
        if chunk[1] == "9":
            digits = digits.rstrip("0")
            return chunk[0] + digits if digits else ""
        return chunk[0] + digits
    return offset_text(moment, chunk)


def go_format(moment: datetime, layout: str) -> str:
    """time.Format with a Go reference layout."""
    return LAYOUT_CHUNK.sub(lambda match: format_chunk(moment, match.group()), layout)


PARSE_PATTERNS = {
    "January": "(?P<month_name>[A-Z][a-z]+)",
    "Jan": "(?P<month_abbr>[A-Z][a-z]{2})",
    "Monday": "[A-Z][a-z]+",
    "Mon": "[A-Z][a-z]{2}",
    "2006": r"(?P<year>\d{4})",
    "06": r"(?P<year2>\d{2})",
    "01": r"(?P<month>\d{2})",
    "1": r"(?P<month>\d{1,2})",
    "02": r"(?P<day>\d{2})",
    "2": r"(?P<day>\d{1,2})",
    "_2": r" ?(?P<day>\d{1,2})",
    "15": r"(?P<hour>\d{1,2})",
    "03": r"(?P<hour12>\d{2})",
    "3": r"(?P<hour12>\d{1,2})",
    "04": r"(?P<minute>\d{2})",
    "4": r"(?P<minute>\d{1,2})",
    "05": r"(?P<second>\d{2})",
    "5": r"(?P<second>\d{1,2})",
    "PM": "(?P<ampm>AM|PM)",
    "pm": "(?P<ampm>am|pm)",
    "MST": "(?P<zone>[A-Z]{3,4})",
}


def layout_pattern(layout: str) -> re.Pattern:
    """A regex that reads times written with a Go layout."""
    parts, position = [], 0
    for match in LAYOUT_CHUNK.finditer(layout):
        parts.append(re.escape(layout[position : match.start()]))
        chunk, position = match.group(), match.end()
        if chunk[0] in ".,":
            parts.append(r"(?:[.,](?P<fraction>\d+))?")
        elif chunk[0] in "-Z" and len(chunk) > 2:
            parts.append(r"(?P<offset>Z|[+-]\d{2}(?::?\d{2}){0,2})")
        else:
            parts.append(PARSE_PATTERNS.get(chunk, re.escape(chunk)))
    parts.append(re.escape(layout[position:]))
    return re.compile("".join(parts))


def parse_time(layout: str, text: str) -> datetime:
    """time.Parse (in UTC unless the text has an offset); raises ValueError."""
    match = layout_pattern(layout).fullmatch(text)
    if match is None:
        raise ValueError(f"cannot parse {text!r} as {layout!r}")
    fields = {name: value for name, value in match.groupdict().items() if value is not None}
    month = int(fields.get("month", 0)) or month_number(fields)
    year = int(fields["year"]) if "year" in fields else 0
    if "year2" in fields:
        year = int(fields["year2"]) + (1900 if int(fields["year2"]) >= 69 else 2000)
    hour = int(fields.get("hour", 0)) or int(fields.get("hour12", 0)) % 12 + (
        12 * (fields.get("ampm", "").lower() == "pm")
    )
    moment = (YearZero if year == 0 else datetime)(
        year or YEAR_ZERO_SHIFT,
        month,
        int(fields.get("day", 1)),
        hour,
        int(fields.get("minute", 0)),
        int(fields.get("second", 0)),
        int((fields.get("fraction", "") + "000000")[:6]),
    )
    if "offset" in fields:
        return moment.replace(tzinfo=zone_of(fields["offset"]))
    zone = fields.get("zone", "UTC")
    return moment.replace(tzinfo=UTC if zone == "UTC" else timezone(timedelta(0), zone))


YEAR_ZERO_SHIFT = 400


class YearZero(datetime):
    """A time in Go's year 0 (a layout without a year), kept 400 years later (same calendar) and shown as 0."""

    __slots__ = ()

    @property
    def year(self) -> int:
        return super().year - YEAR_ZERO_SHIFT


def month_number(fields: dict) -> int:
    name = fields.get("month_name") or fields.get("month_abbr")
    if name is None:
        return 1
    for number, month in enumerate(MONTHS, start=1):
        if month == name or month[:3] == name:
            return number
    raise ValueError(f"unknown month {name}")


def zone_of(offset: str) -> timezone:
    if offset == "Z":
        return UTC
    digits = offset[1:].replace(":", "").ljust(6, "0")
    seconds = int(digits[:2]) * 3600 + int(digits[2:4]) * 60 + int(digits[4:6])
    return timezone(timedelta(seconds=-seconds if offset[0] == "-" else seconds))


NANOS = {
    "ns": 1,
    "us": 1000,
    "µs": 1000,
    "μs": 1000,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
DURATION_TERM = re.compile(r"([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)")


class Duration(int):
    """Go's time.Duration (nanoseconds), printed like `1h30m0s`."""

    __slots__ = ()
    go_name = "time.Duration"
    go_kind = "int64"

    def go_string(self) -> str:
        return duration_text(int(self))


class Month(int):
    __slots__ = ()
    go_name = "time.Month"
    go_kind = "int"

    def go_string(self) -> str:
        return MONTHS[self - 1] if 1 <= self <= 12 else f"%!Month({int(self)})"


class Weekday(int):
    __slots__ = ()
    go_name = "time.Weekday"
    go_kind = "int"

    def go_string(self) -> str:
        return ("Sunday", *DAYS[:6])[self] if 0 <= self <= 6 else f"%!Weekday({int(self)})"


def fraction_text(value: int, digits: int) -> str:
    whole, fraction = divmod(value, 10**digits)
    return str(whole) + (f".{fraction:0{digits}d}".rstrip("0") if fraction else "")


def duration_text(nanos: int) -> str:
    """time.Duration.String."""
    if nanos == 0:
        return "0s"
    sign, size = "-" if nanos < 0 else "", abs(nanos)
    if size < 1000:
        return f"{sign}{size}ns"
    if size < 10**6:
        return f"{sign}{fraction_text(size, 3)}µs"
    if size < 10**9:
        return f"{sign}{fraction_text(size, 6)}ms"
    seconds, fraction = divmod(size, 10**9)
    text = fraction_text(seconds % 60 * 10**9 + fraction, 9) + "s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes // 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


def parse_duration(text: str) -> int:
    """time.ParseDuration: "1h30m", "-1.5h", "300ms" -> nanoseconds; raises ValueError."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0
    if not body:
        raise ValueError(f'time: invalid duration "{text}"')
    total, position = 0, 0
    while position < len(body):
        found = DURATION_TERM.match(body, position)
        if found is None or (not found.group(1) and not found.group(2)):
            if (
                found is None
                and re.match(r"[0-9.]", body[position:])
                and not re.match(r"[0-9]*(?:\.[0-9]*)?[a-zµμ]", body[position:])
            ):
                raise ValueError(f'time: missing unit in duration "{text}"')
            raise ValueError(f'time: invalid duration "{text}"')
        whole, fraction, unit = found.groups()
        scale = NANOS[unit]
        total += int(whole or 0) * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        position = found.end()
    if total > (1 << 63) - 1 + (text[:1] == "-"):
        raise ValueError(f'time: invalid duration "{text}"')
    return -total if text[:1] == "-" else total


def add_duration(moment: datetime, nanos: int) -> datetime:
    moved = moment + timedelta(microseconds=nanos // 1000 if nanos >= 0 else -(-nanos // 1000))
    if type(moment) is Now and isinstance(moved, Now):  # datetime arithmetic keeps the subclass
        moved.monotonic = moment.monotonic + nanos
    return moved


def unix_time(seconds: int) -> datetime:
    """time.Unix(seconds, 0) in the local zone (UTC)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=int(seconds))


def moment_of(value: Any) -> datetime:
    """Sprig's date argument: a time, or unix seconds (int or int64); anything else is now."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and not hasattr(value, "go_name"):
        return unix_time(value)
    return now()


START_NS = time.monotonic_ns()


class Now(datetime):
    """time.Now(): a time with Go's monotonic clock reading, printed as ` m=+0.001234567` (seconds since the
    process started); Add keeps it, UTC and Local drop it, as in Go."""

    monotonic = 0

    def go_string(self) -> str:
        seconds, nanos = divmod(self.monotonic, 10**9)
        return f"{format_time(self)} m=+{seconds}.{nanos:09d}"


def now() -> datetime:
    moment = datetime.now(UTC)
    reading = Now(*moment.timetuple()[:6], moment.microsecond, UTC)
    reading.monotonic = time.monotonic_ns() - START_NS
    return reading


def plain_time(moment: datetime) -> datetime:
    """A time without the monotonic reading."""
    return (
        datetime(*moment.timetuple()[:6], moment.microsecond, moment.tzinfo)
        if type(moment) is Now
        else moment
    )


def load_zone(name: str) -> tzinfo:
    """time.LoadLocation, with UTC for "", "UTC", "Local" and unknown names (as Sprig falls back)."""
    if name in ("", "UTC", "Local"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def date_in_zone(layout: str, value: Any, zone: str) -> str:
    moment = moment_of(value)
    return go_format(moment.astimezone(load_zone(zone)), layout)


def date(layout: str, value: Any) -> str:
    """`date "2006-01-02" now`: a time (or unix seconds) formatted with a Go layout."""
    return date_in_zone(layout, value, "Local")


def html_date(value: Any) -> str:
    return date_in_zone("2006-01-02", value, "Local")


def html_date_in_zone(value: Any, zone: str) -> str:
    return date_in_zone("2006-01-02", value, zone)


def date_modify(change: str, moment: datetime) -> datetime:
    """`dateModify "-1h" $t`: the time moved by a Go duration (unchanged if the duration is bad)."""
    try:
        return add_duration(moment, parse_duration(change))
    except ValueError:
        return moment


def must_date_modify(change: str, moment: datetime) -> datetime:
    return add_duration(moment, parse_duration(change))


def to_date(layout: str, text: str) -> datetime:
    """`toDate "2006-01-02" "2024-05-01"`: a time; Go's zero time when the text does not parse."""
    try:
        return parse_time(layout, text)
    except ValueError:
        return ZERO_TIME


def must_to_date(layout: str, text: str) -> datetime:
    try:
        return parse_time(layout, text)
    except ValueError:
        raise ValueError(f'parsing time "{text}" as "{layout}": cannot parse') from None


def unix_seconds(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    shift = 146097 * 86400 if isinstance(moment, YearZero) else 0
    return delta.days * 86400 + delta.seconds - shift


def unix_epoch(moment: datetime) -> str:
    return str(unix_seconds(moment))


def duration(seconds: Any) -> str:
    """`duration "95"`: Go's Duration text (1m35s) of a number of seconds given as string or int64."""
    if isinstance(seconds, str):
        from .sprig_math import parse_int64

        count = parse_int64(seconds) if re.fullmatch(r"[+-]?[0-9]+", seconds) else 0
    elif type(seconds) is int:
        count = seconds
    else:
        count = 0
    return duration_text(wrap64((count or 0) * 10**9))


def duration_round(value: Any) -> str:
    """`durationRound`: the largest whole unit of a duration (y, mo, d, h, m, s)."""
    if isinstance(value, str):
        try:
            nanos = parse_duration(value)
        except ValueError:
            nanos = 0
    elif type(value) is int:
        nanos = value
    elif isinstance(value, datetime):
        nanos = int((now() - value).total_seconds() * 10**9)
    else:
        nanos = 0
    size = abs(nanos)
    hour = 3600 * 10**9
    for unit, suffix in (
        (hour * 24 * 365, "y"),
        (hour * 24 * 30, "mo"),
        (hour * 24, "d"),
        (hour, "h"),
        (60 * 10**9, "m"),
        (10**9, "s"),
    ):
        if size > unit:
            return f"{size // unit}{suffix}"
    return "0s"


def ago(value: Any) -> str:
    """`ago $t`: the time since, rounded to the second."""
    moment = (
        value if isinstance(value, datetime) else unix_time(value) if type(value) in (int, GoInt) else now()
    )
    seconds = round((now() - moment).total_seconds())
    return duration_text(seconds * 10**9)


def rfc3339_nano(moment: datetime) -> str:
    """Time.MarshalJSON's text: RFC 3339 with the fraction trimmed, Z for UTC."""
    fraction = f".{moment.microsecond:06d}".rstrip("0").rstrip(".")
    offset = offset_text(moment, "Z07:00")
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}{fraction}{offset}"


def add_date(moment: datetime, years: int, months: int, days: int) -> datetime:
    """Time.AddDate: months past December roll into the next years, days past the month's end onward."""
    month_index = moment.month - 1 + months
    year, month = moment.year + years + month_index // 12, month_index % 12 + 1
    base = datetime(
        year, month, 1, moment.hour, moment.minute, moment.second, moment.microsecond, moment.tzinfo
    )
    return base + timedelta(days=moment.day - 1 + days)


def time_sub(moment: datetime, other: datetime) -> Duration:
    delta = moment - other
    return Duration((delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000)


def time_format(moment: datetime, layout: str) -> str:
    return go_format(moment, layout)


def time_add(moment: datetime, nanos: Any) -> datetime:
    return add_duration(moment, nanos)


def time_before(moment: datetime, other: datetime) -> bool:
    return moment < other


def time_after(moment: datetime, other: datetime) -> bool:
    return moment > other


def time_equal(moment: datetime, other: datetime) -> bool:
    return moment == other


def time_methods() -> dict[str, Callable]:
    """time.Time's Go methods, receiver first (parameters annotated with their Go types)."""
    return {
        "Year": lambda t: GoInt(t.year),
        "Month": lambda t: Month(t.month),
        "Day": lambda t: GoInt(t.day),
        "Hour": lambda t: GoInt(t.hour),
        "Minute": lambda t: GoInt(t.minute),
        "Second": lambda t: GoInt(t.second),
        "Nanosecond": lambda t: GoInt(t.microsecond * 1000),
        "YearDay": lambda t: GoInt(t.timetuple().tm_yday),
        "Weekday": lambda t: Weekday((t.weekday() + 1) % 7),
        "Unix": lambda t: unix_seconds(t),
        "UnixMilli": lambda t: unix_seconds(t) * 1000 + t.microsecond // 1000,
        "UnixMicro": lambda t: unix_seconds(t) * 10**6 + t.microsecond,
        "UnixNano": lambda t: unix_seconds(t) * 10**9 + t.microsecond * 1000,
        "UTC": lambda t: plain_time(t).astimezone(UTC),
        "Local": lambda t: plain_time(t).astimezone(UTC),
        "String": lambda t: format_time(t),
        "IsZero": lambda t: t.replace(tzinfo=None) == ZERO_TIME.replace(tzinfo=None) and not t.utcoffset(),
        "Format": time_format,
        "AddDate": add_date,
        "Add": time_add,
        "Sub": time_sub,
        "Before": time_before,
        "After": time_after,
        "Equal": time_equal,
    }


TIME: dict[str, Callable] = {
    "now": now,
    "date": date,
    "dateInZone": date_in_zone,
    "date_in_zone": date_in_zone,
    "htmlDate": html_date,
    "htmlDateInZone": html_date_in_zone,
    "dateModify": date_modify,
    "date_modify": date_modify,
    "mustDateModify": must_date_modify,
    "must_date_modify": must_date_modify,
    "toDate": to_date,
    "mustToDate": must_to_date,
    "unixEpoch": unix_epoch,
    "duration": duration,
    "durationRound": duration_round,
    "ago": ago,
}
