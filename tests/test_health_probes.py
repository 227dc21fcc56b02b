"""Health must not let a caller drive queries into the databases: each connector is probed at most once per
`health_probe_seconds`, however often and however concurrently /v1/health is called. A connector that goes
down is still reported: by the next probe, and at once when a query finds it down.

Observed on a real PostgreSQL started for this module, with `log_statement = all` on the connector's
database: every probe is a logged `SELECT 1`."""

from __future__ import annotations

import concurrent.futures
import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests import engine_servers as servers
from tests.conftest import assert_error, missing_program, serving
from tests.engine_fixtures import PG_PASSWORD, _load_postgres
from tests.helpers.http import fetch
from tests.helpers.polling import eventually

PROBE = "CURSOR FOR SELECT 1"
CONNECTOR = f"""type: connector
driver: postgres
host: 127.0.0.1
port: "{{{{ .env.PG_PORT }}}}"
user: reader
password: "{PG_PASSWORD}"
dbname: sluice
sslmode: disable
"""


@pytest.fixture(scope="module")
def postgres():
    base = Path(tempfile.mkdtemp(prefix="sluice-health-"))
    base.chmod(0o755)
    try:
        server = servers.start_postgres(base / "pg")
    except servers.Unavailable as missing:
        missing_program(str(missing))
    try:
        _load_postgres(server.port)
        with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", autocommit=True) as c:
            c.execute("ALTER DATABASE sluice SET log_statement = 'all'")
        yield server, base / "pg" / "pg.log"
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def probes_logged(server: servers.Server, log: Path) -> int:
    """Probes in the server's log, once a statement sent after them has been logged too."""
    end = f"end of probes {time.monotonic_ns()}"
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="sluice") as c:
        c.execute("SELECT %s::text", (end,))
    for _attempt in range(200):
        text = log.read_text(errors="replace")
        if end in text:
            return text.count(PROBE)
        time.sleep(0.05)
    raise AssertionError("the PostgreSQL log never showed the end marker")


@contextlib.contextmanager
def serving_pg(server: servers.Server, tmp_path: Path, probe_seconds: float) -> Iterator[str]:
    """`python server.py` over a project whose one connector is this PostgreSQL, probed at most every
    `probe_seconds`; yields its base URL."""
    project = tmp_path / "project"
    (project / "connectors").mkdir(parents=True)
    (project / "connectors" / "pg.yaml").write_text(CONNECTOR)
    (project / "apis").mkdir()
    (project / "apis" / "pg_count.yaml").write_text(
        "type: api\nconnector: pg\nsql: SELECT count(*) AS n FROM items\n"
    )
    env = {"SLUICE_HEALTH_PROBE_SECONDS": str(probe_seconds)}
    with serving(project, tmp_path, "--env", f"PG_PORT={server.port}", env=env) as base:
        yield base


def pg_state(base: str) -> str:
    body = fetch(base, "/v1/health").json()
    return {connector["name"]: connector["state"] for connector in body["connectors"]}["pg"]


def test_many_health_calls_probe_each_connector_once_per_interval(postgres, tmp_path):
    server, log = postgres
    with serving_pg(server, tmp_path, probe_seconds=3600) as base:
        before = probes_logged(server, log)
        assert pg_state(base) == "ok"
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            states = list(pool.map(lambda _: pg_state(base), range(80)))
        assert set(states) == {"ok"}
        assert probes_logged(server, log) - before == 1


def test_a_connector_that_goes_down_is_reported_by_the_next_probe(postgres, tmp_path):
    """Down, then up again, as the probes see it. (That calls share a probe is the test above's claim: how many
    calls fall in one 0.2 s interval here depends on the machine's speed.)"""
    server, _log = postgres
    with serving_pg(server, tmp_path, probe_seconds=0.2) as base:
        assert pg_state(base) == "ok"
        server.stop()
        assert eventually(lambda: pg_state(base), lambda now: now == "down", 30) == "down"
        server.extra["restart"]()
        assert eventually(lambda: pg_state(base), lambda now: now == "ok", 30) == "ok"


def test_a_failed_query_marks_the_connector_down_before_any_probe(postgres, tmp_path):
    server, _log = postgres
    try:
        with serving_pg(server, tmp_path, probe_seconds=3600) as base:
            assert pg_state(base) == "ok"  # the one probe of the hour
            server.stop()
            reply = fetch(base, "/v1/instances/default/api/pg_count")
            assert_error(reply, 503, 'connector "pg" (postgres) is unavailable')
            assert pg_state(base) == "down"
    finally:
        server.extra["restart"]()
