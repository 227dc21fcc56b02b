"""A big answer streams: a gunicorn worker's peak memory while sending it stays well under the answer's size,
in every format (issue 15: bounded memory). An answer held whole anywhere (the rows, the Arrow table, the
encoded file, the response body) would raise the worker's peak by at least the answer's size.

The peak is the kernel's: the worker's VmHWM, reset to its current size (/proc/PID/clear_refs) once idle,
as bench/bench_server.py measures it. The rows are hashes and hex digests, which no format compresses much,
so even a Parquet answer is large.
"""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from tests.conftest import BASE_URL, start_gunicorn, stop
from tests.helpers.processes import worker_pids

ROWS = 3_000_000
MODEL = f"""-- @materialize: true
SELECT i AS id, hash(i) AS code, md5(i::VARCHAR) AS token, (hash(i * 7) % 1000000) / 1000.0 AS amount
FROM range({ROWS}) AS t(i)
"""
APIS = {
    "rows": "max_rows: 0\ncache: {enabled: false}\nsql: SELECT * FROM big",
    # every column's blocks read once, so DuckDB's cache of the table is in the idle size, not the growth
    "scan": "cache: {enabled: false}\nsql: SELECT sum(hash(id, code, token, amount)) AS h FROM big",
}
SMALLEST_ANSWER = 120 * 1024 * 1024  # every format's answer is at least this large (the test means something)
# The peak grows by less than half the answer's size; an answer held whole grows it by more than its size.
# (A third was too tight: pyarrow's Parquet writer takes 67 MB the first time for this 160 MB answer, when
# Parquet is the first format a worker writes, 35 MB after that.)
SHARE_OF_ANSWER = 2

pytestmark = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """One gunicorn worker serving the big table, warm; yields (port, worker pid)."""
    folder = tmp_path_factory.mktemp("answer_memory")
    project = folder / "project"
    (project / "models").mkdir(parents=True)
    (project / "apis").mkdir()
    (project / "models" / "big.sql").write_text(MODEL)
    for name, body in APIS.items():
        (project / "apis" / f"{name}.yaml").write_text(f"type: api\n{body}\n")
    # one worker, so every request (the warming scans too) goes to it; one DuckDB thread, as each worker of
    # the shipped configuration has on a machine with a worker per core
    master, port = start_gunicorn(
        folder, project, "-w", "1", "--timeout", "300", env={"SLUICE_DUCKDB_THREADS": "1"}
    )
    try:
        (pid,) = worker_pids(master.pid)
        for _ in range(2):
            assert answer_size(port, "scan") > 0
        yield port, pid
    finally:
        stop(master)


@pytest.mark.parametrize("format_name", ["json", "ndjson", "csv", "parquet", "arrow"])
def test_a_big_answer_streams_with_memory_well_under_its_size(worker, format_name):
    port, pid = worker
    suffix = "" if format_name == "json" else f".{format_name}"
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from the current size
    idle = memory_kb(pid)["VmRSS"]
    size = answer_size(port, f"rows{suffix}")
    growth = (memory_kb(pid)["VmHWM"] - idle) * 1024
    assert size >= SMALLEST_ANSWER, f"{format_name}: the answer ({size:,} bytes) is too small to tell"
    assert growth < size / SHARE_OF_ANSWER, (
        f"{format_name}: the worker's peak grew by {growth / 2**20:.0f} MB for a {size / 2**20:.0f} MB answer"
    )


def answer_size(port: int, name: str) -> int:
    """GET an API's answer and count its bytes as they come, without keeping them."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("GET", f"{BASE_URL}{name}")
        response = connection.getresponse()
        assert response.status == 200, response.read(2000)
        size = 0
        while chunk := response.read(1 << 20):
            size += len(chunk)
        return size
    finally:
        connection.close()


def memory_kb(pid: int) -> dict[str, int]:
    """The process's resident sizes from /proc/PID/status (VmRSS now, VmHWM its peak), in KB."""
    fields = (line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {key: int(value.split()[0]) for key, value in fields if key in ("VmRSS", "VmHWM")}
