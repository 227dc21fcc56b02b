"""What a caller can make the server do: list sizes are capped, a list's length does not make a new query
shape (lists are folded into one marker), and the shape cache is bounded by the memory it holds."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import project.calls.runner
import project.sql.binding
from project.settings import Settings
from project.sql.binding import bind_sql, compile_shape, shape_cache_info
from project.sql.lists import fold_lists
from project.sql.sentinels import marker
from project.sql.shape_cache import ByteBoundedCache
from tests.conftest import assert_error

API = "/v1/instances/default/api/"
LIMIT = 10_000

SIZES = [
    # (case, method, path, JSON body or None, status, rows or message)
    ("at the limit", "POST", "in_list", {"ids": list(range(LIMIT))}, 200, [{"n": 100}]),
    ("one over", "POST", "in_list", {"ids": list(range(LIMIT + 1))}, 400, '"ids" holds 10001 items'),
    ("nested", "POST", "in_list", {"ids": [1], "f": {"g": [0] * 200_000}}, 400, '"f" holds 200000 items'),
    (
        "an object",
        "POST",
        "in_list",
        {"ids": [1], "f": dict.fromkeys(map(str, range(LIMIT + 1)))},
        400,
        '"f"',
    ),
    (
        "many arguments",
        "POST",
        "in_list",
        dict.fromkeys(map(str, range(LIMIT + 1)), 1),
        400,
        "arguments hold",
    ),
    ("comma-separated", "GET", "typed_list?ids=" + ",".join(["1"] * (LIMIT + 1)), None, 400, '"ids" holds'),
    ("repeated keys", "GET", "typed_list?" + "&".join(["ids=1"] * (LIMIT + 1)), None, 400, '"ids" holds'),
    ("typed, within", "GET", "typed_list?ids=1,2,3", None, 200, [{"n": 3}]),
]


@pytest.mark.parametrize("case, method, path, body, status, expected", SIZES, ids=[row[0] for row in SIZES])
def test_lists_in_arguments_are_capped(project_client, case, method, path, body, status, expected):
    response = project_client("streams").open(API + path, method=method, json=body)
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert json.loads(response.get_data()) == expected
    else:
        assert_error(response, status, expected)


def test_the_cap_is_a_setting(project_client):
    client = project_client("streams", max_list_items=3)
    assert client.post(API + "in_list", json={"ids": [1, 2, 3]}).status_code == 200
    assert_error(client.post(API + "in_list", json={"ids": [1, 2, 3, 4]}), 400, "at most 3 are allowed")


def test_an_oversized_list_is_refused_before_anything_renders(project_client, monkeypatch):
    def fail(*_args, **_kwargs):
        raise AssertionError("rendered a request that should have been refused")

    monkeypatch.setattr(project.calls.runner, "render_sql", fail)
    response = project_client("streams").post(API + "in_list", json={"ids": list(range(200_000))})
    assert_error(response, 400, '"ids" holds 200000 items')


def test_a_new_list_length_is_not_a_new_shape(project_client, monkeypatch):
    client = project_client("streams")
    assert json.loads(client.post(API + "in_list", json={"ids": [1, 2]}).get_data()) == [{"n": 2}]

    def fail(*_args, **_kwargs):
        raise AssertionError("tokenized or parsed again")

    monkeypatch.setattr(project.sql.binding, "_tokenize", fail)
    monkeypatch.setattr(project.sql.binding.sqlglot, "parse", fail)
    for length in (3, 17, 999, LIMIT):
        body = {"ids": [str(i) if i % 2 else i for i in range(length)]}  # numbers and strings mixed
        assert json.loads(client.post(API + "in_list", json=body).get_data()) == [{"n": min(length, 100)}]


# Folding must never change what a statement means: the folded bind equals the bind of the shape as printed.
ITEM_FORMS = st.lists(st.sampled_from(["bare", "quoted"]), min_size=1, max_size=12)
TEMPLATES = [
    "SELECT * FROM t WHERE x IN {list} AND y = {one}",
    "SELECT * FROM t WHERE x NOT IN {list} OR y = '{one}'",
    "SELECT coalesce{list} AS c, {one} AS d",
    "SELECT * FROM t WHERE (a, b) IN (VALUES {list}) LIMIT {one}",
    "SELECT * FROM t WHERE x IN {list} ORDER BY {one}",
    "SELECT '{list}' AS inside_a_string, {one} AS o",
    "SELECT * FROM t AS u{list} WHERE y = {one}",
]


def printed(template: str, forms: list[str]) -> tuple[str, list[str]]:
    items = [marker(index) if form == "bare" else f"'{marker(index)}'" for index, form in enumerate(forms)]
    sql = template.format(list="(" + ", ".join(items) + ")", one=marker(len(forms)))
    return sql, ["args.xs"] * len(forms) + ["args.y"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    template=st.sampled_from(TEMPLATES),
    forms=ITEM_FORMS,
    values=st.lists(
        st.sampled_from(["1", "2.5", "x", "it's", "null", "col_a", "", "-3", "true"]), min_size=13
    ),
)
def test_folding_binds_what_the_printed_shape_binds(template, forms, values):
    sql, sources = printed(template, forms)
    values = values[: len(sources)]
    expected = _bind_unfolded(sql, values, sources)
    assert _outcome(lambda: bind_sql(sql, values, sources)) == expected


def _bind_unfolded(sql, values, sources):
    return _outcome(lambda: compile_shape(sql, "duckdb", tuple(sources)).bind(values, sources))


def _outcome(call):
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - a refusal must be the same refusal
        return type(error).__name__, str(error)


FOLDING = [
    # (printed shape with {i} for marker i, sources, folded text or None)
    ("x IN ({0}, {1}, {2})", ["a", "a", "a"], "x IN ({0})"),
    ("x IN ('{0}', {1})", ["a", "a"], "x IN ({0})"),
    ("x IN ({0}, {1})", ["a", "b"], None),  # two arguments: not one list
    ("x IN ({0})", ["a"], None),  # nothing to fold
    ("x = '({0}', '{1})'", ["a", "a"], None),  # halves of string literals
    (
        "x IN ({0}, {1}) AND y = {2} AND z IN ({3}, {4})",
        ["a", "a", "b", "c", "c"],
        "x IN ({0}) AND y = {1} AND z IN ({2})",
    ),
    ("x IN ({0}, {1}) AND y = __sluice_arg_9__", ["a", "a"], None),  # text no render printed
]


@pytest.mark.parametrize("printed_sql, sources, folded", FOLDING)
def test_which_runs_fold(printed_sql, sources, folded):
    result = fold_lists(printed_sql.format(*(marker(i) for i in range(10))), sources)
    if folded is None:
        assert result is None
    else:
        assert result is not None and result.sql == folded.format(*(marker(i) for i in range(10)))


def test_the_cache_is_bounded_by_bytes_and_drops_the_least_recently_used():
    cache = ByteBoundedCache(1000, lambda key, value: len(value))
    for key in "abcd":
        cache.get_or_compute(key, lambda: "x" * 240)
    cache.get_or_compute("a", lambda: "never computed")  # a hit makes "a" recent
    cache.get_or_compute("e", lambda: "x" * 240)  # over 1000 bytes: "b", the least recently used, goes
    info = cache.info()
    assert info.size_bytes <= 1000 and info.entries == 4
    assert cache.get_or_compute("a", lambda: "recomputed") == "x" * 240
    assert cache.get_or_compute("b", lambda: "recomputed") == "recomputed"
    assert cache.get_or_compute("huge", lambda: "y" * 600) == "y" * 600  # over a quarter: not kept
    assert cache.get_or_compute("huge", lambda: "again") == "again"


def test_many_large_shapes_stay_within_the_shape_cache_budget():
    before = shape_cache_info()
    for width in range(1, 400):  # distinct shapes of growing size: not foldable (one marker per argument)
        sql = "SELECT 1 WHERE " + " AND ".join(f"c{i} = {marker(i)}" for i in range(width))
        bind_sql(sql, [str(i) for i in range(width)], [f"args.a{i}" for i in range(width)])
    after = shape_cache_info()
    assert after.size_bytes <= after.max_bytes
    assert after.misses - before.misses >= 399


def test_the_default_cap_is_10000_items():
    assert Settings(project_dir=".").max_list_items == LIMIT
