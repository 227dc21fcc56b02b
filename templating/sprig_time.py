"""Sprig's time functions with Go layouts ("2006-01-02 15:04:05") and Go durations ("-1h30m").
Sprig uses the server's local zone; Sluice uses UTC so that results do not depend on the host."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .values import go_type

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
DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
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
    moment = datetime(
        max(year, 1),
        month,
        int(fields.get("day", 1)),
        hour,
        int(fields.get("minute", 0)),
        int(fields.get("second", 0)),
        int((fields.get("fraction", "") + "000000")[:6]),
    )
    return moment.replace(tzinfo=zone_of(fields.get("offset", "Z")))


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


def parse_duration(text: str) -> timedelta:
    """time.ParseDuration: "1h30m", "-1.5h", "300ms"; raises ValueError."""
    sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+") if text[:1] == "+" else text)
    if body == "0":
        return timedelta()
    parts = DURATION_PART.findall(body)
    if (
        not body
        or "".join(number + unit for number, unit in parts) != body
        or any(n in ("", ".") for n, _ in parts)
    ):
        raise ValueError(f'time: invalid duration "{text}"')
    return timedelta(seconds=sign * sum(float(number) * UNIT_SECONDS[unit] for number, unit in parts))


def moment_of(value: Any) -> datetime:
    """Sprig's date argument: a time, or unix seconds; anything else is now."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return now()


def now() -> datetime:
    return datetime.now(UTC)


def date(layout: str, value: Any) -> str:
    """`date "2006-01-02" now`: a time (or unix seconds) formatted with a Go layout."""
    return go_format(moment_of(value), layout)


def date_modify(change: str, value: Any) -> datetime:
    """`dateModify "-1h" $t`: the time moved by a Go duration (unchanged if the duration is bad)."""
    if not isinstance(value, datetime):
        raise TypeError(f"wrong type for value; expected time.Time; got {go_type(value)}")
    try:
        return value + parse_duration(change)
    except ValueError:
        return value


def to_date(layout: str, text: str) -> datetime:
    """`toDate "2006-01-02" "2024-05-01"`: a time; Go's zero time when the text does not parse."""
    try:
        return parse_time(layout, text)
    except ValueError:
        return ZERO_TIME


def unix_epoch(value: Any) -> str:
    if not isinstance(value, datetime):
        raise TypeError(f"wrong type for value; expected time.Time; got {go_type(value)}")
    return str(int(value.timestamp()))


def duration(seconds: Any) -> str:
    """`duration "95"`: Go's Duration text (1m35s) of a number of seconds given as string or integer."""
    if isinstance(seconds, str):
        seconds = int(seconds) if re.fullmatch(r"[+-]?[0-9]+", seconds) else 0
    elif not isinstance(seconds, int) or isinstance(seconds, bool):
        seconds = 0
    sign, seconds = "-" if seconds < 0 else "", abs(seconds)
    hours, minutes, rest = seconds // 3600, seconds // 60 % 60, seconds % 60
    if hours:
        return f"{sign}{hours}h{minutes}m{rest}s"
    return f"{sign}{minutes}m{rest}s" if minutes else f"{sign}{rest}s"


TIME: dict[str, Callable] = {
    "now": now,
    "date": date,
    "dateModify": date_modify,
    "toDate": to_date,
    "unixEpoch": unix_epoch,
    "duration": duration,
}
