"""Time zones in metrics SQL, through HTTP on `tests/projects/rill_time_zones`: the metrics_sql resolver's
`time_zone` (`resolver: metrics_sql` + `resolver_properties: {sql, time_zone}`), a metrics view's
`first_day_of_week` / `first_month_of_year`, and `time_range_start/end('... tz <zone>')`.

The data and expected buckets are those of Rill's runtime/queries/metricsview_timeseries_test.go
(TestMetricsViewsTimeseries_{month,quarter,year}_grain_IST, TestMetricsViewTimeSeries_DayLightSavingsForwards_*)
over its testruntime/testdata/timeseries models; Rill's timeseries query fills gaps, metrics SQL answers only
the buckets that have rows, so each case lists the buckets with data. The truncation itself is also checked
against Python's zoneinfo for every zone, grain and calendar start in a table (real DuckDB).
"""

from __future__ import annotations

import json
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp
from werkzeug.test import Client

from project.loading.apis import read_api
from project.metrics.time_floors import time_floor_sql
from project.metrics.views import parse_metrics_view
from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, PROJECTS, assert_error, free_port, start, stop

PROJECT = "rill_time_zones"


def z(text: str) -> str:
    return f"2023-{text}:00:00Z"


CASES = [
    # (API and query, [(bucket, count or None)]): Rill's expected buckets that hold data
    (  # TestMetricsViewTimeSeries_DayLightSavingsForwards_Continuous_Daily
        "dst_new_york?grain=day&start=2023-03-10T05:00:00Z&end=2023-03-14T04:00:00Z",
        [z("03-10T05"), z("03-11T05"), z("03-12T05"), z("03-13T04")],
    ),
    (  # ..._Sparse_Daily: rows on the 10th and the 12th only
        "dst_new_york?grain=day&start=2023-03-10T05:00:00Z&end=2023-03-14T04:00:00Z&label=sparse_day",
        [z("03-10T05"), z("03-12T05")],
    ),
    (  # ..._Continuous_Hourly: the hour that does not exist in New York is no bucket of its own
        "dst_new_york?grain=hour&start=2023-03-12T04:00:00Z&end=2023-03-12T09:00:00Z",
        [z("03-12T04"), z("03-12T05"), z("03-12T06"), z("03-12T07"), z("03-12T08")],
    ),
    (  # ..._Sparse_Hourly
        "dst_new_york?grain=hour&start=2023-03-12T04:00:00Z&end=2023-03-12T09:00:00Z&label=sparse_hour",
        [z("03-12T05"), z("03-12T07")],
    ),
    (  # TestMetricsViewsTimeseries_month_grain_IST: 13 months starting at 18:30 UTC the day before
        "year_kolkata?grain=month&start=2022-12-31T18:30:00Z&end=2024-01-31T18:30:00Z",
        ["2022-12-31T18:30:00Z"]
        + [
            f"2023-{month:02d}-{day}T18:30:00Z"
            for month, day in zip(range(1, 13), (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31))
        ],
    ),
    (  # TestMetricsViewsTimeseries_quarter_grain_IST (its gap filling adds 2022-10-31T18:30, with no data)
        "year_kolkata?grain=quarter&start=2022-12-31T18:30:00Z&end=2024-01-31T18:30:00Z",
        [
            "2022-12-31T18:30:00Z",
            "2023-03-31T18:30:00Z",
            "2023-06-30T18:30:00Z",
            "2023-09-30T18:30:00Z",
            "2023-12-31T18:30:00Z",
        ],
    ),
    (  # TestMetricsViewsTimeseries_year_grain_IST
        "year_kolkata?grain=year&start=2022-12-31T18:30:00Z&end=2024-12-31T00:00:00Z",
        ["2022-12-31T18:30:00Z", "2023-12-31T18:30:00Z"],
    ),
]


@pytest.mark.parametrize(("query", "buckets"), CASES)
def test_rill_time_zone_buckets(project_client, query, buckets):
    response = project_client(PROJECT, cache_bytes=0).get(BASE_URL + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [row["ts"] for row in response.json] == buckets


def local_floor(
    moment: datetime, grain: str, zone: str, first_day: int = 1, first_month: int = 1
) -> datetime:
    """The reference: truncate on the zone's wall clock, as Go's time package does in Rill's timeutil."""
    local = moment.astimezone(ZoneInfo(zone))
    if grain == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if grain == "week":
        day -= timedelta(days=(day.isoweekday() - first_day) % 7)
    elif grain == "month":
        day = day.replace(day=1)
    elif grain == "quarter":
        day = day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
    elif grain == "year":
        year = day.year if day.month >= first_month else day.year - 1
        day = day.replace(year=year, month=first_month, day=1)
    return day.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def sql_floors(moments: list[datetime], grain: str, zone: str, first_day: int, first_month: int) -> list:
    floor = time_floor_sql(exp.column("t"), grain, zone, first_day, first_month).sql(dialect="duckdb")
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        values = [moment.replace(tzinfo=None) for moment in moments]
        connection.execute("CREATE TABLE times AS SELECT unnest($1::TIMESTAMP[]) AS t", [values])
        return [
            row[0].replace(tzinfo=UTC) for row in connection.execute(f"SELECT {floor} FROM times").fetchall()
        ]
    finally:
        connection.close()


ZONES = ("America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Europe/London", "Australia/Sydney", "UTC")
MOMENTS = st.lists(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)).map(
        lambda moment: moment.replace(microsecond=0, tzinfo=UTC)
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("grain", "first_day", "first_month"),
    [("hour", 1, 1), ("day", 1, 1), ("week", 1, 1), ("week", 3, 1), ("week", 7, 1), ("month", 1, 1)]
    + [("quarter", 1, 1), ("year", 1, 1), ("year", 4, 1), ("year", 1, 4), ("year", 1, 12)],
)
@settings(max_examples=15, deadline=None)
@given(moments=MOMENTS)
def test_truncation_matches_the_zone_wall_clock(zone, grain, first_day, first_month, moments):
    """Day+ grains on the local calendar (DST days are 23 or 25 hours), hours as local hours (Kathmandu's
    start at :15 UTC), weeks and years starting where the view says."""
    expected = [local_floor(moment, grain, zone, first_day, first_month) for moment in moments]
    assert sql_floors(moments, grain, zone, first_day, first_month) == expected


def test_weeks_start_on_the_views_first_day_of_week(project_client):
    """`first_day_of_week: 7`: Sunday weeks, truncated in New York; counts as Python counts the same rows."""
    response = project_client(PROJECT, cache_bytes=0).get(BASE_URL + "sunday_weeks")
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = forwards_model_rows()
    counts: dict[str, int] = {}
    for _, moment in rows:
        week = local_floor(moment, "week", "America/New_York", first_day=7).strftime("%Y-%m-%dT%H:%M:%SZ")
        counts[week] = counts.get(week, 0) + 1
    assert response.json == [{"week": week, "total_records": count} for week, count in sorted(counts.items())]
    assert [row["week"] for row in response.json] == ["2023-03-05T05:00:00Z", "2023-03-12T05:00:00Z"]


def test_years_start_on_the_views_first_month_of_year(project_client):
    response = project_client(PROJECT, cache_bytes=0).get(BASE_URL + "fiscal_years")
    assert response.json == [
        {"fiscal_year": "2021-04-01T00:00:00Z", "months": 3},
        {"fiscal_year": "2022-04-01T00:00:00Z", "months": 12},
        {"fiscal_year": "2023-04-01T00:00:00Z", "months": 12},
        {"fiscal_year": "2024-04-01T00:00:00Z", "months": 12},
        {"fiscal_year": "2025-04-01T00:00:00Z", "months": 9},
    ]


def test_time_range_in_a_time_zone(project_client):
    """`1D as of watermark/D tz Asia/Kolkata`: the watermark (2023-03-13T23:50Z) is 05:20 on the 14th in
    Kolkata, so the day before it runs from 2023-03-12T18:30Z to 2023-03-13T18:30Z."""
    response = project_client(PROJECT, cache_bytes=0).get(BASE_URL + "last_day_kolkata")
    start, end = datetime(2023, 3, 12, 18, 30, tzinfo=UTC), datetime(2023, 3, 13, 18, 30, tzinfo=UTC)
    counts: dict[str, int] = {}
    for label, moment in forwards_model_rows():
        if start <= moment < end:
            counts[label] = counts.get(label, 0) + 1
    assert response.json == [{"label": label, "total_records": n} for label, n in sorted(counts.items())]
    assert counts == {"continuous": 144, "sparse_day": 5}


def forwards_model_rows() -> list[tuple[str, datetime]]:
    """Rill's timeseries_dst_forwards_model, generated in Python."""

    def every(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
        moments = []
        while start < end:
            moments.append(start)
            start += step
        return moments

    utc = lambda *parts: datetime(*parts).replace(tzinfo=UTC)
    rows = [("continuous", m) for m in every(utc(2023, 3, 10), utc(2023, 3, 14), timedelta(minutes=10))]
    rows += [("sparse_hour", utc(2023, 3, 12, hour)) for hour in (3, 5, 7)]
    rows += [("sparse_day", m) for m in every(utc(2023, 3, 9), utc(2023, 3, 11), timedelta(hours=1))]
    rows += [("sparse_day", m) for m in every(utc(2023, 3, 12, 5), utc(2023, 3, 13), timedelta(hours=1))]
    return rows


def test_without_a_time_zone_hours_are_utc(project_client):
    response = project_client(PROJECT, cache_bytes=0).get(BASE_URL + "dst_utc_hourly")
    assert [row["ts"] for row in response.json] == [z("03-12T03"), z("03-12T05"), z("03-12T07")]


def test_the_machine_time_zone_changes_nothing(tmp_path):
    """A server on a machine in Los Angeles answers as one in UTC: naive timestamps are UTC in DuckDB."""
    port = free_port()
    command = [sys.executable, "server.py", str(PROJECTS / PROJECT), "--port", str(port), "--no-reload"]
    process = start(command, port, tmp_path, extra_env={"TZ": "America/Los_Angeles"})
    try:
        base = f"http://127.0.0.1:{port}{BASE_URL}"
        with urllib.request.urlopen(base + CASES[0][0]) as response:
            assert [row["ts"] for row in json.load(response)] == CASES[0][1]
        with urllib.request.urlopen(base + "dst_utc_hourly") as response:
            assert [row["ts"] for row in json.load(response)] == [z("03-12T03"), z("03-12T05"), z("03-12T07")]
    finally:
        stop(process)


API_FILES = [
    # (API file text, load error)
    (
        "resolver: metrics_sql\nresolver_properties:\n  sql: SELECT 1\n  time_zone: Mars/Olympus\n",
        'resolver_properties.time_zone: invalid time zone "Mars/Olympus"',
    ),
    (
        "resolver: metrics_sql\nresolver_properties:\n  sql: SELECT 1\n  additional_where: {}\n",
        'resolver_properties: "additional_where" is not supported by Sluice',
    ),
    (
        "resolver: metrics_sql\nresolver_properties:\n  sql: SELECT 1\n  timezone: UTC\n",
        'resolver_properties: unknown property "timezone" for the metrics_sql resolver',
    ),
    ("resolver: glob\nresolver_properties:\n  path: x\n", "resolver: must be one of"),
    (
        "metrics_sql: SELECT 1\nresolver: metrics_sql\nresolver_properties:\n  sql: SELECT 2\n",
        "the API definition specifies more than one resolver",
    ),
]


@pytest.mark.parametrize(("text", "message"), API_FILES)
def test_resolver_properties_load_errors(tmp_path, text, message):
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "a.yaml").write_text(text)
    with pytest.raises(Exception) as raised:
        read_api(str(tmp_path), "apis/a.yaml", {})
    assert message in str(raised.value)


def test_resolver_properties_read_as_inline_keys(tmp_path):
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "a.yaml").write_text(
        "resolver: metrics_sql\nresolver_properties:\n  time_zone: Etc/UTC\n  sql: |\n    SELECT x FROM v\n"
    )
    definition = read_api(str(tmp_path), "apis/a.yaml", {})
    assert (definition.resolver, definition.text, definition.time_zone, definition.line_offset) == (
        "metrics_sql",
        "SELECT x FROM v",
        "",  # UTC is no time zone to convert to, as in Rill
        4,
    )


@pytest.mark.parametrize(
    ("view_keys", "message"),
    [
        ("first_day_of_week: 8", "first_day_of_week cannot be greater than 7"),
        ("first_month_of_year: 13", "first_month_of_year cannot be greater than 12"),
        ("first_day_of_week: monday", "first_day_of_week must be a whole number from 1 to 7"),
    ],
)
def test_calendar_keys_are_checked(tmp_path, view_keys, message):
    document = yaml.safe_load(f"model: m\nmeasures: [{{name: n, expression: count(*)}}]\n{view_keys}\n")
    with pytest.raises(Exception) as raised:
        parse_metrics_view("v", document, "metrics/v.yaml")
    assert message in str(raised.value)


def test_unknown_zone_in_a_time_range_is_a_400(project_client, tmp_path):
    project = tmp_path / "project"
    for folder in ("models", "metrics", "apis"):
        (project / folder).mkdir(parents=True)
    source = PROJECTS / PROJECT
    (project / "models" / "m.sql").write_text(
        (source / "models" / "timeseries_dst_forwards_model.sql").read_text()
    )
    (project / "metrics" / "v.yaml").write_text(
        "type: metrics_view\nmodel: m\ntimeseries: timestamp\nmeasures: [{name: n, expression: count(*)}]\n"
    )
    (project / "apis" / "a.yaml").write_text(
        "metrics_sql: SELECT n FROM v WHERE timestamp > time_range_start('1D as of watermark tz Mars/Olympus')\n"
    )
    client = Client(create_app(Settings(project_dir=str(project), state_dir=str(tmp_path / "state"))))
    assert_error(client.get(BASE_URL + "a"), 400, 'invalid time zone "Mars/Olympus"')
