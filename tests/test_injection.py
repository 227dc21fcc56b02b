"""Injection corpus (SPEC §5): every payload in every place an argument can go gives the honest answer or a 400.

Payloads are data (tests/injection/payloads.yaml); the places are the APIs of tests/projects/injection/.
Each payload is also an argument *name* (query-string key, JSON key at depth, `.user` attribute name).
No payload may get a 500, extra rows, or change the data.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import duckdb
import pytest

from project.sql.binding import bind_sql
from project.sql.rendering import Markers, compile_template, render_sql, template_data
from tests.conftest import assert_error
from tests.helpers.payloads import PAYLOAD_IDS, PAYLOADS, URL_PAYLOADS

BASE = "/v1/instances/default/api/"
HERE = Path(__file__).resolve().parent
PROJECT = HERE / "projects" / "injection"
COLUMNS = ("id", "name", "category", "price", "created")
HONEST_INTEGER = re.compile(r"\s*[+-]?\d{1,6}\s*", re.ASCII)
HONEST_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?\s*", re.ASCII)

# A 400 for a hostile value is one of these: Sluice's refusal naming the argument, or the engine failing to use
# the bound value as the type the query needs (never a syntax error: the value never became SQL text).
HONEST_REFUSALS = ('argument "', "Conversion Error: ", "Binder Error: ", "Invalid Input Error: ")


@pytest.fixture(scope="module")
def client(project_client):
    return project_client("injection")


@pytest.fixture(scope="module")
def rows(client):
    return json.loads(client.get(BASE + "all_rows").get_data())


def ids(rows, keep=lambda row: True) -> list[int]:
    return [row["id"] for row in rows if keep(row)]


def like(pattern: str, text: str) -> bool:
    """SQL LIKE without an escape character: % any run, _ one character."""
    regex = "".join(".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def number(value: str) -> float | None:
    return float(value) if HONEST_NUMBER.fullmatch(value) and abs(float(value)) < 1e300 else None


# Places where the value sits inside a string literal: it is always just text, so always a 200 with exact rows.
LITERAL_PLACES = {
    "literal": lambda v, rows: ids(rows, lambda row: row["name"] == v),
    "like": lambda v, rows: ids(rows, lambda row: like(f"%{v}%", row["name"])),
    "in_list": lambda v, rows: ids(rows, lambda row: row["name"] == v),
    "function_argument": lambda v, rows: ids(rows, lambda row: row["name"].lower() == v.lower()),
    "through_functions": lambda v, rows: ids(
        rows, lambda row: row["name"].upper() == v.upper() or row["name"] == v.strip()
    ),
    "case": lambda v, rows: [{"id": row["id"], "hit": int(row["name"] == v)} for row in rows],
}


@pytest.mark.parametrize("place", sorted(LITERAL_PLACES))
@pytest.mark.parametrize("category, payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_a_value_in_a_string_literal_is_only_text(client, rows, place, category, payload):
    response = client.post(BASE + place, json={"v": payload})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    answer = json.loads(response.get_data())
    assert (answer if place == "case" else ids(answer)) == LITERAL_PLACES[place](payload, rows)


@pytest.mark.parametrize("category, payload", URL_PAYLOADS)
def test_query_string_values_are_text_too(client, rows, category, payload):
    response = client.get(BASE + "literal", query_string={"v": payload})
    assert json.loads(response.get_data()) == [
        {"id": id_} for id_ in ids(rows, lambda row: row["name"] == payload)
    ]


# Argument names are caller data too (issue 10 §1): every payload as a key of the query string, of a JSON
# object at depth, and as a `.user` attribute name.


@pytest.mark.parametrize("category, payload", URL_PAYLOADS)
def test_a_query_string_key_is_only_text(client, category, payload):
    response = client.get(BASE + "key_literal", query_string={payload: "1"})
    assert json.loads(response.get_data()) == [{"k": payload}]


@pytest.mark.parametrize("category, payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_a_json_key_at_depth_is_only_text(client, rows, category, payload):
    for place, expected in (
        ("key_depth", ids(rows, lambda row: row["name"] == payload)),
        ("key_through_functions", ids(rows, lambda row: row["name"] in (payload, payload.strip()))),
    ):
        body = {"f": {"g": {payload: 1}}} if place == "key_depth" else {"f": {payload: 1}}
        response = client.post(BASE + place, json=body)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert ids(json.loads(response.get_data())) == expected


@pytest.mark.parametrize("place", ["value", "order_by"])
@pytest.mark.parametrize("category, payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_a_json_key_elsewhere_gives_the_honest_answer_or_400(client, rows, place, category, payload):
    honest, bound = GUARDED_PLACES[place]
    expected = honest(payload, rows)
    response = client.post(BASE + "key_" + place, json={"f": {payload: 1}})
    if expected is not None:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    if response.status_code == 200:
        answer = ids(json.loads(response.get_data()))
        assert answer == expected if expected is not None else bound(answer, ids(rows)), answer
    else:
        assert_error(response, 400, HONEST_REFUSALS)


@pytest.mark.parametrize("category, payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_user_attribute_names_and_values_are_data(items_database, category, payload):
    template = compile_template(
        "SELECT id FROM items WHERE owner = '{{ range $k, $v := .user }}{{ $k }}{{ end }}'"
        " OR owner = '{{ range $k, $v := .user }}{{ $v }}{{ end }}' ORDER BY id",
        "t",
    )
    markers = Markers()
    shape = render_sql(template, template_data({}, "dev", user={payload: payload}), markers)
    sql, params = bind_sql(shape, markers.values, markers.sources)
    assert (sql, params) == ("SELECT id FROM items WHERE owner = ? OR owner = ? ORDER BY id", [payload] * 2)
    assert items_database.execute(sql, params).fetchall() == []  # no payload is an owner's address


def test_in_list_from_a_json_list(client, rows):
    values = [payload for _, payload in PAYLOADS] + ["Widget", "O'Brien"]
    answer = json.loads(client.post(BASE + "in_list", json={"v": values}).get_data())
    assert ids(answer) == ids(rows, lambda row: row["name"] in values) == [1, 3, 4, 5, 6, 7, 8]


def honest_value(v, rows):
    n = number(v)
    return None if n is None else ids(rows, lambda row: row["id"] == n)


def honest_between(v, rows):
    n = number(v)
    return None if n is None else ids(rows, lambda row: n <= row["id"] <= 100)


def honest_limit(v, rows):
    return ids(rows)[: int(v)] if HONEST_INTEGER.fullmatch(v) and int(v) >= 0 else None


def honest_offset(v, rows):
    return ids(rows)[int(v) :] if HONEST_INTEGER.fullmatch(v) and int(v) >= 0 else None


def honest_order(v, rows):
    if v.lower() not in COLUMNS:
        return None
    return ids(sorted(rows, key=lambda row: (row[v.lower()], row["id"])))


def honest_direction(v, rows):
    direction = v.strip().lower()
    return None if direction not in ("asc", "desc", "") else sorted(ids(rows), reverse=direction == "desc")


def honest_interval(v, rows):
    if not HONEST_INTEGER.fullmatch(v) or "+" in v:  # DuckDB reads no '+3 days', pasted or bound
        return None
    return [(datetime.date(2024, 1, 1) + datetime.timedelta(days=int(v))).isoformat()]


def honest_date(v, rows):
    try:
        day = datetime.date.fromisoformat(v) if re.fullmatch(r"\d{4}-\d\d-\d\d", v) else None
    except ValueError:
        day = None
    return None if day is None else ids(rows, lambda row: row["created"] == day.isoformat())


# Places outside string literals: (API, the honest answer or None when the value has none, what any 200 must
# satisfy). A value without an honest answer may still get a 200 if the engine finds one (`'5'` in LIMIT), but
# never more than the place allows: one row for an equality, a prefix for LIMIT, all rows once for ORDER BY.
GUARDED_PLACES = {
    "value": (honest_value, lambda answer, all_ids: len(answer) <= 1),
    "between": (honest_between, lambda answer, all_ids: answer == all_ids[len(all_ids) - len(answer) :]),
    "limit": (honest_limit, lambda answer, all_ids: answer == all_ids[: len(answer)]),
    "offset": (honest_offset, lambda answer, all_ids: answer == all_ids[len(all_ids) - len(answer) :]),
    "order_by": (honest_order, lambda answer, all_ids: False),
    "direction": (honest_direction, lambda answer, all_ids: False),
    "interval": (honest_interval, lambda answer, all_ids: len(answer) == 1),
    "date_cast": (honest_date, lambda answer, all_ids: len(answer) <= 1),
}


@pytest.mark.parametrize("place", sorted(GUARDED_PLACES))
@pytest.mark.parametrize("category, payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_a_value_elsewhere_gives_the_honest_answer_or_400(client, rows, place, category, payload):
    honest, bound = GUARDED_PLACES[place]
    expected = honest(payload, rows)
    response = client.post(BASE + place, json={"v": payload})
    if expected is not None:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    if response.status_code == 200:
        answer = [row.get("id", row.get("d")) for row in json.loads(response.get_data())]
        assert answer == expected if expected is not None else bound(answer, ids(rows)), answer
    else:
        body = assert_error(response, 400, HONEST_REFUSALS)
        if place in ("order_by", "direction") and "Binder Error" not in body["error"]:
            assert '"v"' in body["error"]  # refusals name the argument


@pytest.mark.parametrize(
    "place, payload",
    [
        ("value", 3),
        ("value", 2.0),
        ("limit", 2),
        ("offset", 8),
        ("between", 9),
        ("value", True),
        ("limit", None),
    ],
)
def test_json_values_in_value_places(client, rows, place, payload):
    response = client.post(BASE + place, json={"v": payload})
    honest = GUARDED_PLACES[place][0](json.dumps(payload), rows) if payload not in (True, None) else None
    if honest is not None:
        assert ids(json.loads(response.get_data())) == honest
    else:
        assert response.status_code in (200, 400)


def test_env_values_are_project_text_and_not_bound(client):
    answer = json.loads(client.get(BASE + "from_env").get_data())
    assert answer == [{"id": id_, "label": "it's project text, escaped by its author"} for id_ in (1, 2)]
    markers = Markers()
    data = template_data({"category": "tools"}, "dev", args={"v": "x"})
    assert (
        render_sql(compile_template("{{ .env.category }} {{ .args.v }}", "t"), data, markers)
        == "tools __sluice_arg_0__"
    )
    assert (markers.values, markers.sources) == (["x"], ["args.v"])


@pytest.mark.parametrize(
    "email, expected",
    [
        ("ann@example.com", [1, 4, 7, 9]),
        ("o'brien@example.com", [3]),
        ("x' OR '1'='1", []),
        ("ann@example.com' OR owner <> '", []),
        ("ann@example.com'; DROP TABLE items; --", []),
    ],
)
def test_user_attributes_with_quotes_are_data(items_database, email, expected):
    template = compile_template("SELECT id FROM items WHERE owner = '{{ .user.email }}' ORDER BY id", "t")
    markers = Markers()
    shape = render_sql(
        template, template_data({}, "dev", user={"email": email, "admin": "true OR 1=1"}), markers
    )
    sql, params = bind_sql(shape, markers.values, markers.sources)
    assert (sql, params) == ("SELECT id FROM items WHERE owner = ? ORDER BY id", [email])
    assert [row[0] for row in items_database.execute(sql, params).fetchall()] == expected


@pytest.fixture(scope="module")
def items_database():
    connection = duckdb.connect()
    model = (PROJECT / "models" / "items.sql").read_text(encoding="utf-8")
    connection.execute(f"CREATE TABLE items AS {model}")
    yield connection
    connection.close()


REFUSED_FILES = sorted(path.stem for path in (PROJECT / "apis").glob("refused_*.yaml"))


@pytest.mark.parametrize("name", REFUSED_FILES)
def test_statements_that_are_not_queries_are_load_errors_for_that_api_only(client, name):
    failed = {
        error["path"]: error["error"] for error in json.loads(client.get("/v1/health").get_data())["errors"]
    }
    message = failed[f"apis/{name}.yaml"]
    assert message.startswith(
        ("only read-only queries are allowed, not ", "expected exactly one SQL statement")
    )
    word = name.rsplit("_", 1)[-1].upper()
    assert word in message or "stacked" in name
    assert_error(client.get(BASE + name, query_string={"v": "items"}), 500, message)
    assert client.get(BASE + "literal?v=Widget").status_code == 200  # the rest serves
    assert not any(path.endswith(("/literal.yaml", "/checksum.yaml")) for path in failed)


def test_a_write_chosen_by_an_argument_is_refused_at_request_time(client):
    assert json.loads(client.get(BASE + "maybe_delete").get_data()) == [{"one": 1}]
    assert_error(client.get(BASE + "maybe_delete?v=1"), 400, "only read-only queries are allowed, not DELETE")


@pytest.mark.parametrize(
    "name", ["read_passwd", "passwd_by_name", "read_hostname", "glob_etc", "climb_out", "home_variable"]
)
def test_the_engine_reads_nothing_outside_the_project(client, name):
    body = assert_error(client.get(BASE + name), 400, ("Permission Error", "IO Error", "Catalog Error"))
    assert "root:" not in body["error"]


def assert_intact(client, items_database) -> None:
    """The served table holds exactly what the model built, and nothing else exists in the database."""
    digest = items_database.execute(
        "SELECT count(*), md5(string_agg(concat_ws('|', id, name, category, price, created, owner), chr(10) "
        "ORDER BY id)) FROM items"
    ).fetchone()
    answer = json.loads(client.get(BASE + "checksum").get_data())
    assert answer == [{"n": digest[0], "digest": digest[1], "tables": 1, "views": 0}]


@pytest.fixture(scope="module", autouse=True)
def data_intact_after_every_payload(client, items_database):
    """Checked after the module's tests, whichever ran and in whatever order (no test has to run last):
    a change any payload made is reported as an error at teardown."""
    yield
    assert_intact(client, items_database)


def test_the_data_is_what_the_model_built(client, items_database):
    assert_intact(client, items_database)
