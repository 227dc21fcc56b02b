"""Health must not let a caller drive queries into the databases: each connector is probed at most once per
`health_probe_seconds`, however often and however concurrently /v1/health is called. A connector that goes
down is still reported: by the next probe, and at once when a query finds it down.

Observed on a real PostgreSQL started for this module, with `log_statement = all` on the connector's
database: every probe is a logged `SELECT 1`."""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests import engine_servers as servers
from tests.conftest import free_port, start, stop
from tests.engine_fixtures import PG_PASSWORD, _load_postgres

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
        pytest.skip(str(missing))
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


def serve(project: Path, tmp_path: Path, port_of_pg: int, probe_seconds: float):
    (project / "connectors").mkdir(parents=True)
    (project / "connectors" / "pg.yaml").write_text(CONNECTOR)
    (project / "apis").mkdir()
    (project / "apis" / "pg_count.yaml").write_text(
        "type: api\nconnector: pg\nsql: SELECT count(*) AS n FROM items\n"
    )
    port = free_port()
    command = [sys.executable, "server.py", str(project), "--port", str(port), "--no-reload"]
    command += ["--env", f"PG_PORT={port_of_pg}"]
    extra = {"SLUICE_HEALTH_PROBE_SECONDS": str(probe_seconds)}
    return start(command, port, tmp_path, extra), f"http://127.0.0.1:{port}"


def pg_state(base: str) -> str:
    with urllib.request.urlopen(base + "/v1/health", timeout=30) as response:
        body = json.loads(response.read())
    return {connector["name"]: connector["state"] for connector in body["connectors"]}["pg"]


def test_many_health_calls_probe_each_connector_once_per_interval(postgres, tmp_path):
    server, log = postgres
    process, base = serve(tmp_path / "project", tmp_path, server.port, probe_seconds=3600)
    try:
        before = probes_logged(server, log)
        assert pg_state(base) == "ok"
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            states = list(pool.map(lambda _: pg_state(base), range(80)))
        assert set(states) == {"ok"}
        assert probes_logged(server, log) - before == 1
    finally:
        stop(process)


def test_a_connector_that_goes_down_is_reported_by_the_next_probe(postgres, tmp_path):
    server, _log = postgres
    process, base = serve(tmp_path / "project", tmp_path, server.port, probe_seconds=0.2)
    try:
        assert pg_state(base) == "ok"
        server.stop()
        states = [pg_state(base)]
        while states[-1] == "ok" and len(states) < 600:
            time.sleep(0.05)
            states.append(pg_state(base))
        assert states[-1] == "down"
        server.extra["restart"]()
        while states[-1] == "down" and len(states) < 1200:
            time.sleep(0.05)
            states.append(pg_state(base))
        assert states[-1] == "ok"
    finally:
        stop(process)


def test_a_failed_query_marks_the_connector_down_before_any_probe(postgres, tmp_path):
    server, _log = postgres
    process, base = serve(tmp_path / "project", tmp_path, server.port, probe_seconds=3600)
    try:
        assert pg_state(base) == "ok"  # the one probe of the hour
        server.stop()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/v1/instances/default/api/pg_count", timeout=30)
        assert refused.value.code == 503
        assert pg_state(base) == "down"
    finally:
        stop(process)
        server.extra["restart"]()
