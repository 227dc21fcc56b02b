"""SQL is measured before it is parsed (sqlglot reads ~100 KB a second): the built-in `sql` and
`metrics-sql` APIs' SQL and an API's SQL as rendered for a call are at most SLUICE_MAX_SQL_BYTES, longer is
a 413 naming the limit, so a caller cannot pin a worker on a parse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from project.errors import TooLargeError
from project.sql.sizes import DEFAULT_MAX_SQL_BYTES, check_sql_size
from tests.conftest import BASE_URL, assert_error

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}
LIMIT_TEXT = "a call may have parsed (the server's --max-sql-bytes, SLUICE_MAX_SQL_BYTES)"


def in_list(count: int, table: str = "foo", column: str = "a") -> str:
    return f"SELECT {column} FROM {table} WHERE {column} IN (" + ", ".join(map(str, range(count))) + ")"


@pytest.mark.parametrize("api", ["sql", "metrics-sql"])
def test_a_200000_item_in_list_is_a_413_before_any_parse(project_client, api):
    sql = in_list(200_000, "bar") if api == "metrics-sql" else in_list(200_000)
    response = project_client("builtin").post(BASE_URL + api, json={"sql": sql}, environ_base=LOCAL)
    body = assert_error(response, 413, f"the {api} API's SQL is {len(sql)} bytes")
    assert f"more than the {DEFAULT_MAX_SQL_BYTES} {LIMIT_TEXT}" in body["error"]


@pytest.mark.parametrize("api", ["sql", "metrics-sql"])
def test_the_limit_is_the_setting(project_client, api):
    client = project_client("builtin", max_sql_bytes=2000)
    table, column = ("bar" if api == "metrics-sql" else "foo"), "a"
    fits = in_list(300, table, column)[:1999] + ")"
    fits = fits[: fits.rindex(",")] + ")"
    assert client.post(BASE_URL + api, json={"sql": fits}, environ_base=LOCAL).status_code == 200
    over = in_list(600, table, column)
    assert_error(
        client.post(BASE_URL + api, json={"sql": over}, environ_base=LOCAL), 413, "more than the 2000"
    )


def test_an_apis_sql_as_rendered_is_measured(project_client):
    """The caller's list makes the SQL longer item by item: 10,000 items render past the limit."""
    client = project_client("sql_sizes")
    small = client.post(BASE_URL + "unfolded", json={"ids": list(range(50))})
    assert small.status_code == 200 and small.json == [{"n": 50}], small.get_data(as_text=True)
    response = client.post(BASE_URL + "unfolded", json={"ids": list(range(10_000))})
    assert_error(response, 413, ("the SQL of API 'unfolded' is", LIMIT_TEXT))


def test_a_folded_list_does_not_count_its_items(project_client):
    response = project_client("sql_sizes").post(BASE_URL + "folded", json={"ids": list(range(10_000))})
    assert response.status_code == 200 and response.json == [{"n": 100}], response.get_data(as_text=True)


@given(text=st.text(max_size=60), limit=st.integers(min_value=1, max_value=200))
def test_the_size_is_the_utf8_length(text, limit):
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= limit:
        check_sql_size(text, limit)
    else:
        with pytest.raises(TooLargeError, match=f"is {size} bytes, more than the {limit} "):
            check_sql_size(text, limit)
