"""Answer formats through HTTP (SPEC §3.5): each format read back by the library made for it.

DuckDB reads CSV, NDJSON and Parquet back; pyarrow reads the Arrow IPC stream. Values come back exact
(decimals, big integers) where the format holds them; the row cap and errors hold in every format.
"""

from __future__ import annotations

import decimal
import io
import json
import urllib.request

import duckdb
import pyarrow as pa
import pytest

from project.errors import ResultCapError
from tests.conftest import BASE_URL, PROJECTS, assert_error, serving

FORMATS = ["json", "ndjson", "csv", "parquet", "arrow"]
MEDIA_TYPES = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8; header=present",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}
VALUES = {
    "huge": 170141183460469231731687303715884105727,
    "small": -9223372036854775808,
    "exact": decimal.Decimal("12345678901234567890.123456789"),
    "d": 2.5,
    "yes": True,
    "s": 'it\'s "quoted", with a comma\nand a line',
    "empty": "",
    "nothing": None,
}


@pytest.fixture(scope="module")
def client(project_client):
    return project_client("formats")


def read_back(body: bytes, format_name: str, tmp_path) -> list[dict]:
    """Rows as the standard reader of the format sees them: DuckDB for files, pyarrow for Arrow streams."""
    if format_name == "arrow":
        return pa.ipc.open_stream(io.BytesIO(body)).read_all().to_pylist()
    if format_name == "json":
        return json.loads(body, parse_float=decimal.Decimal, parse_int=int)
    path = tmp_path / f"answer.{format_name}"
    path.write_bytes(body)
    reader = {"ndjson": "read_json", "csv": "read_csv", "parquet": "read_parquet"}[format_name]
    options = ", all_varchar = true, allow_quoted_nulls = false" if format_name == "csv" else ""
    result = duckdb.execute(f"SELECT * FROM {reader}('{path}'{options})")
    names = [column[0] for column in result.description or []]
    return [dict(zip(names, row)) for row in result.fetchall()]


@pytest.mark.parametrize("format_name", FORMATS)
def test_suffix_chooses_the_format(client, format_name, tmp_path):
    response = client.get(f"{BASE_URL}many.{format_name}?count=3")
    assert response.status_code == 200, response.get_data()
    assert response.headers["Content-Type"] == MEDIA_TYPES[format_name]
    rows = read_back(response.get_data(), format_name, tmp_path)
    assert [int(row["n"]) for row in rows] == [0, 1, 2]
    assert [row["label"] for row in rows] == ["row 0", "row 1", "row 2"]


@pytest.mark.parametrize("format_name", FORMATS)
def test_accept_header_chooses_the_format(client, format_name):
    response = client.get(
        f"{BASE_URL}many?count=3", headers={"Accept": MEDIA_TYPES[format_name].split(";")[0]}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MEDIA_TYPES[format_name]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("*/*", "json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "json"),  # a browser
        ("text/*", "csv"),
        ("application/x-ndjson;q=0.5, text/csv;q=0.9", "csv"),
        ("application/json;q=0, application/x-ndjson", "ndjson"),
    ],
)
def test_accept_negotiation(client, accept, expected):
    response = client.get(f"{BASE_URL}many?count=1", headers={"Accept": accept})
    assert response.headers["Content-Type"] == MEDIA_TYPES[expected]


@pytest.mark.parametrize("accept", ["image/png", "application/xml", "application/json;q=0"])
def test_an_accept_nothing_matches_is_a_406_listing_the_formats(client, accept):
    body = assert_error(client.get(f"{BASE_URL}many?count=1", headers={"Accept": accept}), 406, "offered")
    for media_type in MEDIA_TYPES.values():
        assert media_type.split(";")[0] in body["error"]


def test_the_suffix_wins_over_accept(client):
    response = client.get(f"{BASE_URL}many.csv?count=1", headers={"Accept": "application/json"})
    assert response.headers["Content-Type"] == MEDIA_TYPES["csv"]


@pytest.mark.parametrize(
    ("format_name", "disposition"),
    [
        ("csv", "attachment; filename=many.csv"),
        ("parquet", "attachment; filename=many.parquet"),
        ("arrow", "attachment; filename=many.arrow"),
        ("json", None),
        ("ndjson", None),
    ],
)
def test_files_come_with_a_file_name(client, format_name, disposition):
    response = client.get(f"{BASE_URL}many.{format_name}?count=1")
    assert response.headers.get("Content-Disposition") == disposition


@pytest.mark.parametrize("format_name", ["parquet", "arrow"])
def test_binary_formats_keep_exact_decimals_and_big_integers(client, format_name, tmp_path):
    response = client.get(f"{BASE_URL}values.{format_name}")
    (row,) = read_back(response.get_data(), format_name, tmp_path)
    for name, expected in VALUES.items():
        assert row[name] == expected, name
    assert isinstance(row["exact"], decimal.Decimal)  # HUGEINT comes as decimal(38, 0): exact too


@pytest.mark.parametrize("format_name", ["csv", "json", "ndjson"])
def test_text_formats_keep_exact_digits(client, format_name, tmp_path):
    response = client.get(f"{BASE_URL}values.{format_name}")
    text = response.get_data(as_text=True)
    assert "170141183460469231731687303715884105727" in text
    assert "12345678901234567890.123456789" in text


def test_csv_quotes_as_rfc_4180_says(client, tmp_path):
    response = client.get(f"{BASE_URL}values.csv")
    text = response.get_data(as_text=True)
    header, rest = text.split("\r\n", 1)
    assert header == '"huge","small","exact","d","yes","s","empty","nothing","day","ts","tstz"'
    assert '"it\'s ""quoted"", with a comma\nand a line"' in rest  # quotes doubled, newline inside quotes
    assert ',"",,' in rest  # an empty string is quoted, a null is empty
    assert text.endswith("\r\n")
    (row,) = read_back(response.get_data(), "csv", tmp_path)
    assert row["s"] == VALUES["s"] and row["empty"] == "" and row["nothing"] is None
    assert row["ts"] == "2022-01-01T14:49:50.459Z" and row["tstz"] == "2023-09-12T12:46:55Z"


@pytest.mark.parametrize("format_name", ["ndjson", "parquet"])
def test_same_values_as_json(client, format_name, tmp_path):
    json_row = client.get(f"{BASE_URL}values.json").get_json()[0]
    (row,) = read_back(client.get(f"{BASE_URL}values.{format_name}").get_data(), format_name, tmp_path)
    for name in ("small", "d", "yes", "s", "empty", "nothing"):
        assert row[name] == json_row[name], name


@pytest.mark.parametrize("format_name", FORMATS)
def test_every_type_is_written_in_every_format(client, format_name, tmp_path):
    response = client.get(f"{BASE_URL}nested.{format_name}")
    assert response.status_code == 200, response.get_data()
    (row,) = read_back(response.get_data(), format_name, tmp_path)
    assert str(row["id"]) == "3f0a4b52-66b5-4dbe-8a1c-0f3c0a3b4d5e"
    assert b"340282366920938463463374607431768211455" in response.get_data()  # as digits, in any format


@pytest.mark.parametrize("format_name", FORMATS)
def test_the_row_cap_holds_in_every_format(client, format_name):
    assert client.get(f"{BASE_URL}capped.{format_name}?count=5").status_code == 200
    message = "result cap exceeded: returned more than 5 rows"  # the API's max_rows
    assert assert_error(client.get(f"{BASE_URL}capped.{format_name}?count=6"), 400, message) == {
        "error": message,
        "hint": ResultCapError.hint,
    }


@pytest.mark.parametrize("format_name", FORMATS)
def test_query_errors_are_json_in_every_format(client, format_name):
    assert_error(client.get(f"{BASE_URL}failing.{format_name}"), 400, "no_such_table")


@pytest.mark.parametrize("format_name", FORMATS)
def test_an_unknown_api_with_a_suffix_is_a_404(client, format_name):
    assert_error(client.get(f"{BASE_URL}nope.{format_name}"), 404, 'api with name "nope" not found')


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with serving(PROJECTS / "formats", tmp_path_factory.mktemp("formats-live")) as base:
        yield base


@pytest.mark.parametrize("format_name", FORMATS)
def test_big_answers_stream_from_a_real_server(live, format_name, tmp_path):
    """200,000 rows: several batches (and Parquet row groups), sent chunked, read back whole."""
    with urllib.request.urlopen(f"{live}{BASE_URL}many.{format_name}?count=200000") as response:
        assert response.headers.get("Content-Length") is None  # streamed, not built in memory
        body = response.read()
    rows = read_back(body, format_name, tmp_path)
    assert len(rows) == 200_000
    assert [int(rows[index]["n"]) for index in (0, 65_535, 65_536, 199_999)] == [0, 65_535, 65_536, 199_999]
    assert decimal.Decimal(str(rows[-1]["quarter"])) == decimal.Decimal("49999.75")


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("count", [7, 150, 300_000])
def test_order_by_holds_in_every_format_over_a_table_of_many_row_groups(live, format_name, count, tmp_path):
    """Serving connections let DuckDB return unordered queries in any order (a LIMIT then streams instead
    of holding its answer); a query's ORDER BY still holds, through the JSON and Arrow wrappers too."""
    with urllib.request.urlopen(f"{live}{BASE_URL}ordered.{format_name}?count={count}") as response:
        rows = read_back(response.read(), format_name, tmp_path)
    keys = [(-int(row["k"]), int(row["n"])) for row in rows]
    assert len(keys) == count and keys == sorted(keys)
