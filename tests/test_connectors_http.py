"""The same HTTP test table on DuckDB, PostgreSQL, MariaDB and a two-shard ClickHouse cluster (issue 16).

Every engine serves the same APIs over the same data set (tests/engine_fixtures.py): point lookups, quoted
strings (backslash included: an escape character in MariaDB and ClickHouse strings), aggregates, optional
filters, sort names and directions, types, the row cap, timeouts and the injection corpus with the data
checked unchanged afterwards. Real servers; no engine is mocked.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from werkzeug.test import Client

from project.encoding.values import encode_value
from project.errors import QueryError, ResultCapError
from project.settings import Settings
from server import create_app
from tests import engine_servers as servers
from tests.conftest import assert_error, missing_program
from tests.engine_fixtures import (
    COLUMNS,
    ENGINES,
    MY_PASSWORD,
    PG_PASSWORD,
    SERVER_ENGINES,
    dataset,
    engine_servers,  # noqa: F401 - a fixture
    engine_variables,
    write_project,
)
from tests.helpers.payloads import PAYLOAD_IDS, PAYLOADS

BASE = "/v1/instances/default/api/"
QUERIES = {
    "lookup": "SELECT id, name, category, price, qty, ratio, created, day, note FROM items WHERE id = {{ .args.id }}",
    "by_name": "SELECT id, name FROM items WHERE name = '{{ .args.name }}' ORDER BY id",
    "search": "SELECT id FROM items WHERE name LIKE '%{{ .args.q }}%' ORDER BY id",
    "totals": "SELECT category, count(*) AS n, sum(qty) AS total_qty, sum(price) AS total_price FROM items"
    " GROUP BY category ORDER BY category",
    "filtered": "SELECT id FROM items WHERE 1 = 1{{ if .args.category }} AND category = '{{ .args.category }}'"
    "{{ end }}{{ if .args.min_qty }} AND qty >= {{ .args.min_qty }}{{ end }} ORDER BY id"
    " LIMIT {{ default 100 .args.limit }}",
    "sorted": "SELECT id FROM items ORDER BY {{ .args.col }} {{ .args.dir }}, id LIMIT 3",
    "capped": "SELECT id FROM items ORDER BY id",
    "value": "SELECT id FROM items WHERE id = {{ .args.v }} ORDER BY id",
    "literal": "SELECT id FROM items WHERE name = '{{ .args.v }}' ORDER BY id",
    "ident": "SELECT id FROM items ORDER BY {{ .args.v }}, id",
}
SLOW = {
    "duckdb": "SELECT sum(a.range * b.range) AS s FROM range(200000000) a, range(1000) b",
    "pg": "SELECT pg_sleep(5) AS s",
    "my": "SELECT SLEEP(5) AS s",
    "ch": "SELECT sleep(3) AS s",
}


METRICS_VIEW = """type: metrics_view
{connector}table: items
dimensions:
  - name: category
    column: category
  - name: created
    column: created
measures:
  - name: rows
    expression: count(*)
  - name: total_qty
    expression: sum(qty)
"""
METRICS_SQL = (
    "SELECT category, rows, total_qty FROM {engine}_items"
    "{{{{ if .args.c }}}} WHERE category = '{{{{ .args.c }}}}'{{{{ end }}}} ORDER BY category"
)
GRAIN_SQL = {  # a grain written in the API, and one the caller sends
    "month": "SELECT date_trunc('month', created) AS period, rows FROM {engine}_items ORDER BY period",
    "grains": "SELECT date_trunc('{{{{ .args.grain }}}}', created) AS period, rows FROM {engine}_items"
    " ORDER BY period",
}


def metrics_files() -> dict[str, str]:
    """One metrics view per engine over its `items` table (ClickHouse: the Distributed table)."""
    return {
        f"{engine}_items": METRICS_VIEW.format(
            connector="" if engine == "duckdb" else f"connector: {engine}\n"
        )
        for engine in ENGINES
    }


def api_files() -> dict[str, str]:
    apis = {}
    for engine in ENGINES:
        apis[f"{engine}_metrics"] = (
            f"type: api\nmetrics_sql: {json.dumps(METRICS_SQL.format(engine=engine))}\n"
        )
        for name, sql in GRAIN_SQL.items():
            apis[f"{engine}_{name}"] = f"type: api\nmetrics_sql: {json.dumps(sql.format(engine=engine))}\n"
        connector = f"connector: {engine}\n"
        for name, sql in QUERIES.items():
            cap = "max_rows: 5\n" if name == "capped" else ""
            apis[f"{engine}_{name}"] = f"type: api\n{connector}{cap}sql: {json.dumps(sql)}\n"
        apis[f"{engine}_slow"] = f"type: api\n{connector}sql: {json.dumps(SLOW[engine])}\n"
    return apis


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    project = tmp_path_factory.mktemp("connectors-project")
    write_project(project, api_files())
    (project / "metrics").mkdir()
    for name, text in metrics_files().items():
        (project / "metrics" / f"{name}.yaml").write_text(text)
    for engine in SERVER_ENGINES:  # models read from each engine into DuckDB, and APIs over them on DuckDB
        (project / "models" / f"{engine}_ingested.yaml").write_text(
            f"type: model\nconnector: {engine}\nsql: SELECT id, name, price, qty, created, note FROM items WHERE id <= 10\n"
        )
        (project / "apis" / f"{engine}_ingested.yaml").write_text(
            f"type: api\nsql: SELECT * FROM {engine}_ingested ORDER BY id\n"
        )
    return project


def make_client(project_dir, started, tmp_path_factory, **settings) -> Client:
    state = tmp_path_factory.mktemp("state")
    variables = engine_variables(started)
    app = create_app(
        Settings(project_dir=str(project_dir), state_dir=str(state), env_overrides=variables, **settings)
    )
    return Client(app)


@pytest.fixture(scope="module")
def client(project_dir, engine_servers, tmp_path_factory):  # noqa: F811 - the fixture by name
    return make_client(project_dir, engine_servers, tmp_path_factory)


def installed(engine: str, started: dict) -> str:
    """The engine's name; a test of an engine not installed here is skipped with the reason (CI installs
    every engine: a missing one fails there)."""
    if isinstance(started.get(engine), servers.Unavailable):
        missing_program(str(started[engine]))
    return engine


@pytest.fixture(params=ENGINES)
def engine(request, engine_servers):  # noqa: F811
    """Each engine in turn."""
    return installed(request.param, engine_servers)


@pytest.fixture(params=SERVER_ENGINES)
def server_engine(request, engine_servers):  # noqa: F811
    """Each engine that runs as a server of its own (not DuckDB, in the process)."""
    return installed(request.param, engine_servers)


def call(client: Client, engine: str, api: str, **args):
    return client.get(BASE + f"{engine}_{api}", query_string=args)


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return json.loads(response.get_data(as_text=True), parse_float=Decimal)


def expected_row(row: tuple, columns=COLUMNS) -> dict:
    """The dataset row as Sluice's JSON encodes it, read back the way the tests read answers."""
    record = dict(zip(COLUMNS, row))
    return {name: json.loads(encode_value(record[name]), parse_float=Decimal) for name in columns}


DATA = dataset()
BY_ID = {row[0]: row for row in DATA}


@pytest.mark.parametrize("row_id", [1, 2, 7, 8, 12, 40])
def test_point_lookup_gives_every_type_as_duckdb_encodes_it(client, engine, row_id):
    assert rows_of(call(client, engine, "lookup", id=str(row_id))) == [expected_row(BY_ID[row_id])]


@pytest.mark.parametrize("name", sorted({row[1] for row in DATA[:8]}) + ["nobody", "", "back\\\\slash"])
def test_quoted_strings_are_values(client, engine, name):
    expected = [{"id": row[0], "name": row[1]} for row in DATA if row[1] == name]
    assert rows_of(call(client, engine, "by_name", name=name)) == expected


@pytest.mark.parametrize("text", ["item1", "O'B", "% off", 'hi"', "café", "zzz"])
def test_like_patterns_keep_their_percent_signs(client, engine, text):
    expected = [{"id": row[0]} for row in DATA if text in row[1]]
    assert rows_of(call(client, engine, "search", q=text)) == expected


def test_aggregates_are_exact(client, engine):
    expected = []
    for category in "abc":
        rows = [row for row in DATA if row[2] == category]
        expected.append(
            {
                "category": category,
                "n": len(rows),
                "total_qty": sum(row[4] for row in rows),
                "total_price": sum(row[3] for row in rows),
            }
        )
    assert rows_of(call(client, engine, "totals")) == expected


@pytest.mark.parametrize(
    "args, keep",
    [
        ({}, lambda row: True),
        ({"category": "a"}, lambda row: row[2] == "a"),
        ({"min_qty": "30000000"}, lambda row: row[4] >= 30000000),
        ({"category": "b", "min_qty": "10000000"}, lambda row: row[2] == "b" and row[4] >= 10000000),
        ({"limit": "3"}, lambda row: row[0] <= 3),
    ],
)
def test_optional_filters(client, engine, args, keep):
    assert rows_of(call(client, engine, "filtered", **args)) == [{"id": row[0]} for row in DATA if keep(row)]


@pytest.mark.parametrize(
    "col, direction, expected",
    [("id", "desc", [40, 39, 38]), ("qty", "asc", [1, 2, 3]), ("qty", "DESC", [40, 39, 38])],
)
def test_sort_names_and_directions(client, engine, col, direction, expected):
    assert rows_of(call(client, engine, "sorted", col=col, dir=direction)) == [{"id": i} for i in expected]


@pytest.mark.parametrize("category", [None, "a", "c", "x' OR '1'='1"])
def test_metrics_sql_runs_on_the_views_engine(client, engine, category):
    args = {"c": category} if category else {}
    expected = [
        {
            "category": c,
            "rows": sum(1 for row in DATA if row[2] == c),
            "total_qty": sum(row[4] for row in DATA if row[2] == c),
        }
        for c in "abc"
        if category in (None, c)
    ]
    assert rows_of(call(client, engine, "metrics", **args)) == expected


GRAINS = ("millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year")


def truncated(moment: datetime, grain: str) -> datetime:
    """What date_trunc(grain, moment) is, computed here (the data's times are whole seconds)."""
    if grain in ("millisecond", "second", "minute", "hour", "day"):
        keep = ("day", "hour", "minute", "second", "millisecond").index(grain)
        zeroed: dict[str, Any] = {name: 0 for name in ("hour", "minute", "second")[keep:]}
        return moment.replace(**zeroed)
    day = moment.replace(hour=0, minute=0, second=0)
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
    return day.replace(day=1, month=1)


def periods(grain: str) -> list[dict]:
    counts = Counter(truncated(row[6], grain) for row in DATA)
    return [
        {"period": json.loads(encode_value(moment.replace(tzinfo=None))), "rows": counts[moment]}
        for moment in sorted(counts)
    ]


@pytest.mark.parametrize("grain", GRAINS)
def test_metrics_time_grains_from_the_caller_truncate_on_every_engine(client, engine, grain):
    """ClickHouse 18.16 has no date_trunc: the grain is written with its toStartOf* functions.
    (MySQL's date_trunc takes no bound unit: a caller's grain is refused there, see below.)"""
    if engine == "my":
        assert_error(
            call(client, engine, "grains", grain=grain), 400, 'argument "grain" cannot be used there'
        )
    else:
        assert rows_of(call(client, engine, "grains", grain=grain)) == periods(grain)


def test_a_grain_written_in_the_api_truncates_on_every_engine(client, engine):
    assert rows_of(call(client, engine, "month")) == periods("month")


UNKNOWN_GRAIN = {  # each engine's own words, naming the grain (MySQL refuses a caller's grain there at all)
    "duckdb": 'Conversion Error: extract specifier "{grain}" not recognized',
    "pg": 'unit "{grain}" not recognized',
    "my": 'argument "grain" cannot be used there',
    "ch": "Unknown element '{grain}' for type Enum8('millisecond' = 1, 'second' = 2, 'minute' = 3,",
}


@pytest.mark.parametrize("grain", ["fortnight", "eon"])
def test_an_unknown_grain_from_the_caller_is_a_400_naming_it(client, engine, grain):
    expected = UNKNOWN_GRAIN[engine].format(grain=grain)
    assert_error(call(client, engine, "grains", grain=grain), 400, expected)


def test_models_ingest_from_a_connector_into_duckdb(client, server_engine):
    columns = ("id", "name", "price", "qty", "created", "note")
    assert rows_of(call(client, server_engine, "ingested")) == [
        expected_row(row, columns) for row in DATA[:10]
    ]


def test_openapi_schemas_come_from_each_engines_columns(client, engine):
    document = json.loads(client.get(BASE + "openapi").get_data())
    operation = document["paths"][f"/{engine}_lookup"]["get"]
    row = operation["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    properties = row["properties"]
    assert list(properties) == list(COLUMNS)
    assert "integer" in properties["id"]["type"] and "integer" in properties["qty"]["type"]
    assert "string" in properties["name"]["type"] and "number" in properties["ratio"]["type"]
    assert properties["created"]["format"] == "date-time" and properties["day"]["format"] == "date"


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE stolen (a int)",
        "INSERT INTO items (id) VALUES (999)",
        "DELETE FROM items",
        "DROP TABLE items",
    ],
)
def test_sessions_are_read_only_on_the_engine_itself(client, engine, statement, digests, engine_servers):  # noqa: F811
    """Past the statement checker (straight to a session), the engine itself refuses to write."""
    engine_object = client.application.current_project().engines[engine]
    session = engine_object.session()
    try:
        with pytest.raises(Exception) as raised:
            session.execute(statement, engine_object.style.params([])).fetch_rows(1)
        translated = session.translate_error(raised.value, 0)
    finally:
        session.close()
    assert isinstance(translated, QueryError), translated
    assert data_digest(engine, engine_servers) == digests[engine]


def test_row_cap_is_a_400_not_a_truncation(client, engine):
    message = "result cap exceeded: returned more than 5 rows"  # the API's max_rows
    assert assert_error(call(client, engine, "capped"), 400, message) == {
        "error": message,
        "hint": ResultCapError.hint,
    }


def test_a_value_that_is_not_a_name_cannot_sort(client, engine):
    assert_error(call(client, engine, "sorted", col="id; DROP TABLE items", dir="asc"), 400, "plain name")


def test_slow_query_times_out_on_the_engine_as_504(project_dir, engine_servers, tmp_path_factory, engine):  # noqa: F811
    slow = make_client(project_dir, engine_servers, tmp_path_factory, query_timeout=1.0)
    assert_error(call(slow, engine, "slow"), 504, "timed out")
    assert rows_of(call(slow, engine, "lookup", id="3"))[0]["id"] == 3  # the connection pool still works


# --- injection corpus: every payload in a literal, a value and a name position ---------------------------


def data_digest(engine: str, started) -> tuple:
    """Row count and sums straight from the engine (not through Sluice)."""
    sql = "SELECT count(*), sum(id), sum(qty) FROM items"
    if engine == "pg":
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=started["pg"].port, user="postgres", dbname="sluice"
        ) as c:
            return c.execute(sql).fetchall()[0]
    if engine == "my":
        import pymysql

        connection = pymysql.connect(
            unix_socket=str(started["my"].extra["socket"]), user="root", database="sluice"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
        connection.close()
        return tuple(int(value) for value in row)
    if engine == "ch":
        from clickhouse_driver import Client as ClickHouse

        return tuple(int(v) for v in ClickHouse("127.0.0.1", port=started["ch"][0].port).execute(sql)[0])
    return (len(DATA), sum(row[0] for row in DATA), sum(row[4] for row in DATA))


@pytest.fixture(scope="module")
def digests(engine_servers):  # noqa: F811
    return {
        engine: data_digest(engine, engine_servers)
        for engine in ENGINES
        if not isinstance(engine_servers.get(engine), servers.Unavailable)
    }


@pytest.mark.parametrize("payload", [payload for _, payload in PAYLOADS], ids=PAYLOAD_IDS)
def test_injection_payloads_are_only_ever_data(client, server_engine, payload):
    """(tests/test_injection.py runs the corpus on DuckDB, in every place.)"""
    engine = server_engine
    literal = call(client, engine, "literal", v=payload)
    if not ("\x00" in payload and literal.status_code == 400):  # PostgreSQL text cannot hold NUL: a 400
        assert rows_of(literal) == [{"id": row[0]} for row in DATA if row[1] == payload], payload
    for place in ("value", "ident"):
        response = call(client, engine, place, v=payload)
        assert response.status_code in (200, 400), (place, payload, response.get_data(as_text=True)[:300])
        if response.status_code == 200:
            ids = [row["id"] for row in json.loads(response.get_data())]
            assert len(ids) <= 1 if place == "value" else sorted(ids) == [row[0] for row in DATA], (
                place,
                payload,
            )


@pytest.fixture(scope="module", autouse=True)
def data_unchanged_after_every_test(engine_servers, digests):  # noqa: F811
    """Checked after the module's tests, whichever ran and in whatever order (no test has to run last): a
    change any payload or statement made is reported as an error at teardown."""
    yield
    for engine, digest in digests.items():
        assert data_digest(engine, engine_servers) == digest, engine


def test_every_engine_starts_with_the_data_set(digests, engine):
    assert digests[engine] == (len(DATA), sum(row[0] for row in DATA), sum(row[4] for row in DATA))


def test_secrets_are_not_in_the_health_or_errors(client):
    body = client.get("/v1/health").get_data(as_text=True)
    assert PG_PASSWORD not in body and MY_PASSWORD not in body
