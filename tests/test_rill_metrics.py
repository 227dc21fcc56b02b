"""Rill's metrics features through HTTP on `tests/projects/rill_metrics`: derived and window measures, date
literal arithmetic and `time_range_start/end`, with the data and expectations of Rill's own tests and docs
(runtime/metricsview/metricssql/parser_test.go, docs "Window Functions" and "Referencing measures")."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import BASE_URL, assert_error


def ts(day: str, time: str = "00:00:00") -> str:
    return f"2022-03-{day}T{time}Z"


ANSWERS = [
    # (API and query string, rows)
    (
        "rolling_daily",  # AVG over a 1-day RANGE frame of the daily totals
        [
            {"day": ts("01"), "total_bids": 1, "bids_1day_rolling_avg": 1.0},
            {"day": ts("28"), "total_bids": 6, "bids_1day_rolling_avg": 6.0},
            {"day": ts("29"), "total_bids": 6, "bids_1day_rolling_avg": 6.0},
            {"day": ts("30"), "total_bids": 18, "bids_1day_rolling_avg": 12.0},
        ],
    ),
    (
        "rolling_raw",  # the order dimension selected as it is (Rill's parser test)
        [
            {"timestamp": ts("28", "10:00:00"), "bids_1day_rolling_avg": 2.0},
            {"timestamp": ts("29", "09:00:00"), "bids_1day_rolling_avg": 4.0},
            {"timestamp": ts("30", "23:00:00"), "bids_1day_rolling_avg": 10.0},
        ],
    ),
    (
        "running_by_publisher",  # `window: time`: partitioned by the other dimensions, ordered by time
        [
            {"publisher": "Google", "day": ts("28"), "total_bids": 2, "running_total": 2},
            {"publisher": "Google", "day": ts("29"), "total_bids": 6, "running_total": 8},
            {"publisher": "Google", "day": ts("30"), "total_bids": 10, "running_total": 18},
            {"publisher": "Yahoo", "day": ts("28"), "total_bids": 4, "running_total": 4},
            {"publisher": "Yahoo", "day": ts("30"), "total_bids": 8, "running_total": 12},
        ],
    ),
    (
        "ratio",  # derived from two measures, and derived from a derived one
        [
            {"domain": "google.com", "bids_per_impression": 8 / 30, "bids_per_impression_pct": 8 / 30 * 100},
            {"domain": "news.google.com", "bids_per_impression": 0.2, "bids_per_impression_pct": 20.0},
            {"domain": "yahoo.com", "bids_per_impression": 0.2, "bids_per_impression_pct": 20.0},
        ],
    ),
    ("ratio_having", [{"domain": "google.com", "bids_per_impression": 8 / 30}]),
    (
        "share",
        [{"publisher": "Google", "share_of_all": 18 / 31}, {"publisher": "Yahoo", "share_of_all": 13 / 31}],
    ),
    (
        "rank_days",  # a window measure with a descending order and no measure of its own
        [
            {"day": ts("01"), "newest_first_rank": 4},
            {"day": ts("28"), "newest_first_rank": 3},
            {"day": ts("29"), "newest_first_rank": 2},
            {"day": ts("30"), "newest_first_rank": 1},
        ],
    ),
    # '30-03-2022' - INTERVAL 1 DAY folds to 2022-03-29T00:00:00Z, as Rill folds '30-07-2024' - INTERVAL 90 DAY
    (
        "literal_minus_interval",
        [{"publisher": "Google", "total_bids": 16}, {"publisher": "Yahoo", "total_bids": 8}],
    ),
    (
        "literal_plus_hours",
        [{"publisher": "Google", "total_bids": 2}, {"publisher": "Yahoo", "total_bids": 1}],
    ),
    (
        "date_sub_call",
        [{"domain": "news.google.com", "total_bids": 10}, {"domain": "yahoo.com", "total_bids": 8}],
    ),
    # '7D as of watermark/D+1D': the watermark (2022-03-30 23:00) floored to the day plus a day, and 7 days back
    ("last_7_days", [{"publisher": "Google", "total_bids": 18}, {"publisher": "Yahoo", "total_bids": 12}]),
    (
        "last_2_days",
        [
            {"domain": "google.com", "total_bids": 6},
            {"domain": "news.google.com", "total_bids": 10},
            {"domain": "yahoo.com", "total_bids": 8},
        ],
    ),
    ("first_day", [{"publisher": "Yahoo", "total_bids": 1}]),
    ("until_now", [{"total_bids": 31}]),
    # unnest dimensions: grouped by each element; a filter holds for a row when it holds for any element
    (
        "views_by_tag",
        [
            {"tag": "duckdb", "total_views": 10, "posts": 1},
            {"tag": "go", "total_views": 5, "posts": 1},
            {"tag": "sql", "total_views": 30, "posts": 2},
        ],
    ),
    ("authors_tagged_sql", [{"author": "alice", "total_views": 10}, {"author": "bob", "total_views": 20}]),
    ("authors_tagged_any", [{"author": "alice", "posts": 2}]),
    ("tags_of_alice", [{"tag": "duckdb", "posts": 1}, {"tag": "sql", "posts": 1}]),
    ("authors_with_tag?tag=sql", [{"author": "alice", "posts": 1}, {"author": "bob", "posts": 1}]),
    ("authors_with_tag?tag=sql' OR '1'='1", []),
    (
        "caller_date?from=2022-03-30",
        [{"publisher": "Google", "total_bids": 16}, {"publisher": "Yahoo", "total_bids": 8}],
    ),
]


@pytest.mark.parametrize(("path", "rows"), ANSWERS, ids=[path for path, _ in ANSWERS])
def test_rill_metrics_answers(project_client, path, rows):
    response = project_client("rill_metrics").get(BASE_URL + path)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = json.loads(response.get_data(as_text=True))
    assert [list(row) for row in answer] == [list(row) for row in rows]  # columns in the query's order
    assert [pytest.approx(row) for row in rows] == answer


def test_window_measure_without_its_order_dimension_names_it(project_client):
    response = project_client("rill_metrics").get(BASE_URL + "window_without_time")
    assert_error(
        response, 400, 'can\'t query measure "bids_1day_rolling_avg": missing required dimension "timestamp"'
    )


UNQUERYABLE = [
    # (API, error): Rill loads these measures and refuses queries of them (runtime/metricsview/ast.go)
    ("comparisons_per", 'can\'t query measure "bids_share_per_publisher": support for "per" not implemented'),
    ("comparisons_change", 'can\'t query measure "bids_change": comparison time range not provided'),
    ("comparisons_change_pct", 'can\'t query measure "bids_change_pct": comparison time range not provided'),
    ("comparisons_having", 'can\'t query measure "bids_change": comparison time range not provided'),
]


@pytest.mark.parametrize(("api", "message"), UNQUERYABLE)
def test_per_and_time_comparison_measures_load_but_cannot_be_queried(project_client, api, message):
    assert_error(project_client("rill_metrics").get(BASE_URL + api), 400, message)


def test_a_view_with_unqueryable_measures_answers_its_others(project_client):
    response = project_client("rill_metrics").get(BASE_URL + "comparisons_plain")
    assert response.json == [
        {"publisher": "Google", "total_bids": 18},
        {"publisher": "Yahoo", "total_bids": 13},
    ]


def test_a_caller_date_is_still_a_bound_value(project_client):
    response = project_client("rill_metrics").get(BASE_URL + "caller_date?from=2022-03-30' OR '1'='1")
    # not a date: the engine refuses the bound value (the query is unchanged)
    body = assert_error(
        response, 400, "Conversion Error: invalid timestamp field format: \"2022-03-30' OR '1'='1\""
    )
    assert body["path"] == "apis/caller_date.yaml"


def view_with(measure: dict) -> dict:
    return {
        "model": "bids",
        "timeseries": "timestamp",
        "dimensions": [{"name": "publisher", "column": "publisher"}],
        "measures": [{"name": "total_bids", "expression": "SUM(bids)"}, {"name": "m", **measure}],
    }


LOAD_ERRORS = [
    # (the measure's keys, the load error, as Rill's parser words it where it has one)
    ({"expression": "x", "requires": ["nope"]}, 'referenced measure "nope" not found'),
    ({"expression": "x", "window": {"order": "nope"}}, 'order dimension "nope" not found'),
    ({"expression": "x", "window": "sometimes"}, 'invalid window type "sometimes"'),
    ({"expression": "x", "window": 3}, "measure window should be either a string or an object"),
    ({"expression": "x", "type": "simple", "requires": ["total_bids"]}, 'measure type "simple" cannot have'),
    ({"expression": "x", "type": "other"}, 'invalid measure type "other"'),
    ({"expression": "m", "requires": ["m"]}, 'measure "m" requires itself'),
    ({"expression": "x", "per": ["nope"]}, '"per" dimension "nope" not found'),
    ({"expression": "x", "type": "simple", "per": ["publisher"]}, 'measure type "simple" cannot have'),
]


@pytest.mark.parametrize(("measure", "message"), LOAD_ERRORS)
def test_measure_definitions_rill_refuses_are_load_errors(measure, message):
    from project.errors import ProjectError
    from project.metrics.views import parse_metrics_view

    with pytest.raises(ProjectError, match=re.escape(message)):
        parse_metrics_view("v", view_with(measure), "metrics/v.yaml")


def test_window_forms_read_as_rill_reads_them():
    from project.metrics.views import Window, parse_metrics_view

    def window(value):
        return (
            parse_metrics_view("v", view_with({"expression": "x", "window": value}), "p").measure("m").window
        )

    assert window(True) == Window(True, (("timestamp", False),))
    assert window("time") == Window(True, (("timestamp", False),))
    assert window("all") == Window(False)
    assert window({"frame": "ROWS 1 PRECEDING"}) == Window(True, (("timestamp", False),), "ROWS 1 PRECEDING")
    assert window({"partition": False}) == Window(False)
    assert window({"order": [{"name": "publisher", "desc": True}]}) == Window(True, (("publisher", True),))
