"""An engine that stops mid-test: its APIs answer 503 naming the connector (never its password), the other
engines' APIs keep answering, health shows it down, and once it is back a dead pooled connection is replaced.
A dedicated PostgreSQL and a two-shard ClickHouse cluster are started for this module, so stopping them
disturbs no other test. `--check` reports an unreachable connector and SQL the engine rejects."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest
from werkzeug.test import Client

from project.settings import Settings
from server import create_app
from tests import engine_servers as servers
from tests.conftest import ROOT, assert_error, missing_program, serving
from tests.engine_fixtures import PG_PASSWORD, _load_clickhouse, _load_postgres, write_project

BASE = "/v1/instances/default/api/"
APIS = {
    "pg_count": "type: api\nconnector: pg\nsql: SELECT count(*) AS n FROM items\n",
    "ch_count": "type: api\nconnector: ch\nsql: SELECT count() AS n FROM items\n",
    "ch_shard": "type: api\nconnector: ch\nsql: SELECT count() > 0 AS some FROM items_local\n",
    "duck_count": "type: api\nsql: SELECT count(*) AS n FROM items\n",
}


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    import os
    import shutil
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="sluice-down-"))
    os.chmod(base, 0o755)
    running: list[servers.Server] = []
    try:
        pg = servers.start_postgres(base / "pg")
        running.append(pg)
        shards = servers.start_clickhouse_cluster(base / "ch")
        running.extend(shards)
    except servers.Unavailable as missing:
        for server in running:
            server.stop()
        missing_program(str(missing))
    try:
        _load_postgres(pg.port)
        _load_clickhouse(shards)
        yield {"pg": pg, "ch": shards}
    finally:
        for server in running:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def variables(started) -> dict[str, str]:
    return {
        "PG_PORT": str(started["pg"].port),
        "connector.pg.password": PG_PASSWORD,
        "CH_PORT": str(started["ch"][0].port),
        "MY_PORT": str(servers.free_port()),  # no MariaDB here: its connector is down from the start
        "MY_PASSWORD": "unused-but-secret",
    }


@pytest.fixture(scope="module")
def client(started, tmp_path_factory):
    project = tmp_path_factory.mktemp("down-project")
    write_project(project, APIS)
    settings = Settings(
        project_dir=str(project),
        state_dir=str(tmp_path_factory.mktemp("state")),
        env_overrides=variables(started),
    )
    return Client(create_app(settings))


def count(client, api: str) -> int:
    response = client.get(BASE + api)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data())[0]["n"]


def test_the_real_server_answers_from_each_engine_over_http(started, tmp_path):
    """`python server.py` as a subprocess on a free port, called over a socket."""
    write_project(tmp_path / "project", APIS)
    env = [arg for key, value in variables(started).items() for arg in ("--env", f"{key}={value}")]
    with serving(tmp_path / "project", tmp_path, *env) as base:
        for api in ("pg_count", "ch_count", "duck_count"):
            with urllib.request.urlopen(f"{base}{BASE}{api}", timeout=60) as response:
                assert json.loads(response.read()) == [{"n": 40}], api


def test_an_engine_stopped_mid_test_is_a_503_while_the_others_answer(client, started):
    assert count(client, "pg_count") == 40  # a pooled connection now exists
    started["pg"].stop()
    body = assert_error(client.get(BASE + "pg_count"), 503, 'connector "pg" (postgres) is unavailable')
    assert PG_PASSWORD not in json.dumps(body)
    assert count(client, "duck_count") == 40
    assert count(client, "ch_count") == 40
    health = json.loads(client.get("/v1/health").get_data())
    states = {connector["name"]: connector["state"] for connector in health["connectors"]}
    assert states == {"ch": "ok", "my": "down", "pg": "down"}
    assert health["status"] == "degraded"
    assert PG_PASSWORD not in json.dumps(health)
    started["pg"].extra["restart"]()
    assert count(client, "pg_count") == 40  # the dead connection was replaced


def test_a_shard_down_is_a_503_for_the_distributed_table_only(client, started):
    assert count(client, "ch_count") == 40
    started["ch"][1].stop()
    assert_error(client.get(BASE + "ch_count"), 503, 'connector "ch" (clickhouse) is unavailable')
    assert client.get(BASE + "ch_shard").status_code == 200  # the first shard still answers for itself
    assert count(client, "pg_count") == 40


def test_check_reports_unreachable_connectors_and_rejected_sql(started, tmp_path):
    apis = dict(APIS, pg_broken="type: api\nconnector: pg\nsql: SELECT no_such_column FROM items\n")
    write_project(tmp_path, apis)
    env = [arg for key, value in variables(started).items() for arg in ("--env", f"{key}={value}")]
    result = subprocess.run(
        [sys.executable, "server.py", "--check", str(tmp_path), *env],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert 'connectors/my.yaml: connector "my" (mysql) is unavailable' in output
    assert (
        'apis/pg_broken.yaml:3: connector "pg" rejects the SQL: column "no_such_column" does not exist'
        in output
    )
    assert "unused-but-secret" not in output and PG_PASSWORD not in output


def test_a_retired_engine_closes_its_connections_once_given_back(client):
    """After a reload swaps in new engines, the old pool keeps no connection."""

    old = client.application.current_project().engines["pg"]
    session = old.session()
    session.execute("SELECT 1", old.style.params([])).fetch_rows(1)
    connection = session.connection
    old.retire()
    session.close()
    assert connection.closed
