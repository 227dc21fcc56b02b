"""The shape cache is keyed on the shape alone: a caller's key text (carried in the sources) never makes a
new entry, results stay those of each request, and a flood of unique keys neither grows nor churns it."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from project.errors import ArgumentError
from project.sql.binding import bind_sql, shape_cache_info
from project.sql.rendering import Markers, compile_template, render_sql, template_data

KEYS_TEMPLATE = (
    "SELECT * FROM (VALUES ('a', 1), ('b', 2)) t(k, n) WHERE true"
    "{{ range $key, $value := .args.f }} AND k = '{{ $key }}' AND n = {{ $value }}{{ end }}"
)


def bound_call(template_text: str, args: dict) -> tuple[str, list, list[str]]:
    """Renders through the real template engine (markers for caller data) and binds."""
    markers = Markers()
    sql = render_sql(
        compile_template(template_text, "apis/keys.yaml"), template_data({}, "dev", args), markers
    )
    bound, params = bind_sql(sql, markers.values, markers.sources)
    return bound, params, markers.sources


def run(bound: str, params: list) -> list:
    return duckdb.connect().execute(bound, params).fetchall()


def test_two_callers_with_different_keys_share_one_entry_and_get_their_own_rows():
    bound_call(KEYS_TEMPLATE, {"f": {"warm": 0}})
    before = shape_cache_info()
    first = bound_call(KEYS_TEMPLATE, {"f": {"a": 1}})
    second = bound_call(KEYS_TEMPLATE, {"f": {"b": 2}})
    after = shape_cache_info()
    assert first[2] != second[2]  # the sources name each caller's key...
    assert first[0] == second[0]  # ...but the statement is one shape
    assert (after.misses - before.misses, after.entries - before.entries) == (0, 0)
    assert after.hits - before.hits == 2
    assert run(first[0], first[1]) == [("a", 1)]
    assert run(second[0], second[1]) == [("b", 2)]


def test_a_cached_refusal_names_each_callers_own_argument():
    template = "SELECT * FROM read_csv({{ range $key, $value := .args.f }}'{{ $key }}'{{ end }})"
    messages = []
    for key in ("first key", "second key"):
        with pytest.raises(ArgumentError) as caught:
            bound_call(template, {"f": {key: "1"}})
        messages.append(caught.value.message)
    assert "f.first key" in messages[0] and "second" not in messages[0]
    assert "f.second key" in messages[1] and "first" not in messages[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=40), min_size=50, max_size=50, unique=True))
def test_a_flood_of_unique_keys_is_a_flood_of_hits(keys):
    bound_call(KEYS_TEMPLATE, {"f": {"warm": 0}})
    before = shape_cache_info()
    for number, key in enumerate(keys):
        bound, params, _ = bound_call(KEYS_TEMPLATE, {"f": {key: number}})
        assert params == [key, number] and bound.count("?") == 2
    after = shape_cache_info()
    assert after.misses == before.misses and after.entries == before.entries
    assert after.size_bytes <= after.max_bytes
