"""Session fixtures for the connector tests: PostgreSQL, MariaDB and a two-shard ClickHouse cluster started
once per test session (in parallel), one deterministic data set loaded into each and into DuckDB, and a
project whose APIs run the same queries on every engine. Servers stop by PID when the session ends.

Import the fixtures into a test module: `from tests.engine_fixtures import engine_servers, engine_project`.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests import engine_servers as servers

PG_PASSWORD = "pg-Secret-4242"
MY_PASSWORD = "my-Secret-4242"
SPECIAL_NAMES = {
    1: "O'Brien",
    2: "back\\slash",
    3: 'say "hi"',
    4: "café ☕",
    5: "50% off",
    6: "semi;colon -- x",
    7: "tab\there",
    8: "back\\' quote",
}
ENGINES = ("duckdb", "pg", "my", "ch")  # connector names in the project (duckdb is the built-in one)
SERVER_ENGINES = ENGINES[1:]  # those that run as servers of their own


def dataset() -> list[tuple]:
    """40 rows: id, name, category, price (2 decimals), qty (one beyond 2**53), ratio, created (UTC, whole
    seconds: ClickHouse 18.16's DateTime has no fraction), day, note (NULL every 4th row)."""
    rows = []
    for i in range(1, 41):
        rows.append(
            (
                i,
                SPECIAL_NAMES.get(i, f"item{i:02d}"),
                "abc"[i % 3],
                Decimal(i * 125) / 100,
                9007199254740993 if i == 40 else i * 1000003,
                i / 8,
                datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=i * 7, minutes=i),
                date(2024, 1, 1) + timedelta(days=i),
                None if i % 4 == 0 else f"n{i}",
            )
        )
    return rows


COLUMNS = ("id", "name", "category", "price", "qty", "ratio", "created", "day", "note")


def _load_postgres(port: int) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as c:
        c.execute("CREATE DATABASE sluice")
        c.execute(f"CREATE ROLE reader LOGIN PASSWORD '{PG_PASSWORD}'")
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="sluice") as connection:
        connection.execute(
            "CREATE TABLE items (id integer PRIMARY KEY, name text, category text, price numeric(10,2),"
            " qty bigint, ratio double precision, created timestamptz, day date, note text)"
        )
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO items VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", dataset())
        connection.execute("GRANT SELECT ON items TO reader")


def _load_mariadb(server: servers.Server) -> None:
    import pymysql

    connection = pymysql.connect(unix_socket=str(server.extra["socket"]), user="root", autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE sluice CHARACTER SET utf8mb4")
        cursor.execute(f"CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY '{MY_PASSWORD}'")
        cursor.execute("GRANT SELECT ON sluice.* TO 'reader'@'127.0.0.1'")
        cursor.execute(
            "CREATE TABLE sluice.items (id int PRIMARY KEY, name text, category text, price decimal(10,2),"
            " qty bigint, ratio double, created datetime, day date, note text)"
        )
        cursor.execute("SET time_zone = '+00:00'")
        rows = [row[:6] + (row[6].replace(tzinfo=None),) + row[7:] for row in dataset()]
        cursor.executemany("INSERT INTO sluice.items VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    connection.close()


def _load_clickhouse(shards: list[servers.Server]) -> None:
    from clickhouse_driver import Client

    for shard in shards:
        client = Client("127.0.0.1", port=shard.port)
        client.execute(
            "CREATE TABLE items_local (id Int32, name String, category String, price Decimal(10, 2),"
            " qty Int64, ratio Float64, created DateTime, day Date, note Nullable(String))"
            " ENGINE = MergeTree() ORDER BY id"
        )
        client.execute(
            f"CREATE TABLE items AS items_local ENGINE = Distributed({servers.CLUSTER}, default, items_local,"
            " cityHash64(id))"
        )
        client.disconnect()
    client = Client("127.0.0.1", port=shards[0].port, settings={"insert_distributed_sync": 1})
    rows = [row[:6] + (row[6].replace(tzinfo=None),) + row[7:] for row in dataset()]
    client.execute("INSERT INTO items VALUES", rows)
    client.disconnect()


def _start_all(base: Path) -> dict[str, object]:
    """Start the three engines at once (startup is mostly waiting) and load the data set into each."""
    starters = {
        "pg": lambda: servers.start_postgres(base / "pg"),
        "my": lambda: servers.start_mariadb(base / "my"),
        "ch": lambda: servers.start_clickhouse_cluster(base / "ch"),
    }
    started: dict[str, object] = {}
    failure: BaseException | None = None
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = {name: pool.submit(start) for name, start in starters.items()}
        for name, future in futures.items():
            try:
                started[name] = future.result()
            except servers.Unavailable as missing:
                started[name] = missing
            except Exception as error:  # noqa: BLE001 - stop the others before failing
                failure = error
    if failure is not None:
        stop_all(started)
        raise failure
    # each loader takes what its engine's starter returned (ClickHouse: the list of shards)
    loaders: dict[str, Callable[[Any], None]] = {
        "pg": lambda server: _load_postgres(server.port),
        "my": _load_mariadb,
        "ch": _load_clickhouse,
    }
    for name, server in started.items():
        if not isinstance(server, servers.Unavailable):
            loaders[name](server)
    return started


def stop_all(started: dict[str, object]) -> None:
    for server in started.values():
        for each in server if isinstance(server, list) else [server]:
            if isinstance(each, servers.Server):
                each.stop()


@pytest.fixture(scope="session")
def engine_servers():
    """{"pg": Server, "my": Server, "ch": [Server, Server]}; an engine not installed maps to Unavailable."""
    base = Path(tempfile.mkdtemp(prefix="sluice-engines-"))  # pytest's folders are closed to `postgres`
    os.chmod(base, 0o755)
    started: dict[str, object] = {}
    try:
        started = _start_all(base)
        yield started
    finally:
        stop_all(started)
        shutil.rmtree(base, ignore_errors=True)


def _literal(value) -> str:
    """A DuckDB literal for the fixture model."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, Decimal):
        return f"{value}::DECIMAL(10,2)"
    return repr(value)


def write_model(project: Path) -> None:
    values = ",\n".join("(" + ", ".join(_literal(value) for value in row) + ")" for row in dataset())
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "models" / "items.sql").write_text(
        f"SELECT * FROM (VALUES\n{values}\n) AS t({', '.join(COLUMNS)})\n", encoding="utf-8"
    )


CONNECTOR_FILES = {
    "pg": """type: connector
driver: postgres
host: 127.0.0.1
port: "{{ .env.PG_PORT }}"
user: reader
password: "{{ .env.connector.pg.password }}"
dbname: sluice
sslmode: disable
""",
    "my": """type: connector
driver: mysql
dsn: "mysql://reader:{{ .env.MY_PASSWORD }}@127.0.0.1:{{ .env.MY_PORT }}/sluice"
""",
    "ch": """type: connector
driver: clickhouse
host: 127.0.0.1
port: "{{ .env.CH_PORT }}"
username: default
database: default
cluster: sluice_cluster
""",
}


def write_project(project: Path, apis: dict[str, str]) -> None:
    """The model, the three connector files and one API file per (name -> YAML text)."""
    write_model(project)
    (project / "connectors").mkdir(exist_ok=True)
    for name, text in CONNECTOR_FILES.items():
        (project / "connectors" / f"{name}.yaml").write_text(text)
    (project / "apis").mkdir(exist_ok=True)
    for name, text in apis.items():
        (project / "apis" / f"{name}.yaml").write_text(text, encoding="utf-8")


def engine_variables(started: dict) -> dict[str, str]:
    """The variables the connector files read (ports, passwords); dead ports for engines not installed."""
    variables = {"connector.pg.password": PG_PASSWORD, "MY_PASSWORD": MY_PASSWORD}
    for name, key in (("pg", "PG_PORT"), ("my", "MY_PORT"), ("ch", "CH_PORT")):
        server = started.get(name)
        server = server[0] if isinstance(server, list) else server
        variables[key] = str(server.port if isinstance(server, servers.Server) else servers.free_port())
    return variables
