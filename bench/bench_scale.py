"""Scale-out benchmark: the same aggregate API and point lookup on DuckDB and on a two-shard ClickHouse
cluster (a `Distributed` table over `events_local` MergeTree tables), from 1M to 20M rows.

    python bench/bench_scale.py [--sizes 1000000,5000000,20000000] [--seconds 5] [--clients 4]

For each size: DuckDB gets the table as a model, ClickHouse as rows generated on each shard; one gunicorn
Sluice (2 workers) serves both connectors, and `--clients` threads call each API for `--seconds`. Prints
requests/s and median / 95th percentile latency per engine and API, and the ClickHouse/DuckDB ratio.
Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import engine_servers as servers

DOMAINS = 1000
QUERIES = {
    "aggregate": "SELECT domain, count(*) AS bids, sum(bid) AS total FROM events WHERE bucket = {{ .args.b }}"
    " GROUP BY domain ORDER BY total DESC, domain LIMIT 10",
    "point": "SELECT id, domain, bid, bucket FROM events WHERE id = {{ .args.id }}",
}


def duckdb_model(rows: int) -> str:
    return (
        f"SELECT range AS id, 'd' || (range % {DOMAINS}) AS domain, ((range * 7919) % 10000) / 100 AS bid,"
        f" (range % 16)::INTEGER AS bucket FROM range({rows})\n"
    )


def load_clickhouse(shards: list[servers.Server], rows: int) -> None:
    from clickhouse_driver import Client

    for index, shard in enumerate(shards):
        client = Client("127.0.0.1", port=shard.port, send_receive_timeout=600)
        client.execute("DROP TABLE IF EXISTS events")
        client.execute("DROP TABLE IF EXISTS events_local")
        client.execute(
            "CREATE TABLE events_local (id UInt64, domain String, bid Float64, bucket Int32)"
            " ENGINE = MergeTree() ORDER BY id"
        )
        client.execute(
            f"CREATE TABLE events AS events_local ENGINE = Distributed({servers.CLUSTER}, default, events_local)"
        )
        count = rows // len(shards)
        client.execute(
            f"INSERT INTO events_local SELECT number * {len(shards)} + {index} AS id,"
            f" concat('d', toString(id % {DOMAINS})) AS domain, ((id * 7919) % 10000) / 100 AS bid,"
            f" toInt32(id % 16) AS bucket FROM system.numbers LIMIT {count}"
        )
        client.execute("OPTIMIZE TABLE events_local FINAL")
        client.disconnect()


def write_project(folder: Path, rows: int, ch_port: int) -> None:
    for sub in ("models", "apis", "connectors"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "models" / "events.sql").write_text(duckdb_model(rows))
    (folder / "connectors" / "ch.yaml").write_text(
        f"type: connector\ndriver: clickhouse\nhost: 127.0.0.1\nport: {ch_port}\ncluster: {servers.CLUSTER}\n"
    )
    for name, sql in QUERIES.items():
        (folder / "apis" / f"duckdb_{name}.yaml").write_text(f"type: api\nsql: {json.dumps(sql)}\n")
        (folder / "apis" / f"ch_{name}.yaml").write_text(
            f"type: api\nconnector: ch\nsql: {json.dumps(sql)}\n"
        )


def serve(folder: Path, state: Path, port: int) -> subprocess.Popen:
    """gunicorn with 2 workers over the project; waits until it answers (the first worker builds DuckDB)."""
    env = {
        **os.environ,
        "SLUICE_PROJECT": str(folder),
        "SLUICE_STATE_DIR": str(state),
        "SLUICE_DUCKDB_THREADS": "1",
        "SLUICE_QUERY_TIMEOUT": "120",
    }
    log = open(state / "server.log", "ab")  # noqa: SIM115 - kept open for the server's lifetime
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "600",
        ]
        + ["server:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/ping", timeout=2):
                return process
        except OSError:
            time.sleep(0.5)
    process.terminate()
    tail = (state / "server.log").read_text(errors="replace")[-3000:]
    raise RuntimeError(f"the server did not start:\n{tail}")


def load(url_for, seconds: float, clients: int) -> tuple[float, float, float]:
    """Requests/s, median and 95th percentile latency (ms) of `clients` threads calling for `seconds`."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(seed: int) -> None:
        index = seed
        while time.monotonic() < stop:
            index += clients
            started = time.perf_counter()
            with urllib.request.urlopen(url_for(index), timeout=600) as response:
                response.read()
                assert response.status == 200
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return len(latencies) / elapsed, statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,5000000,20000000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    options = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="sluice-scale-"))
    shards = servers.start_clickhouse_cluster(base / "ch")
    try:
        print(
            "| rows | API | DuckDB req/s | DuckDB p50 / p95 ms | ClickHouse req/s | ClickHouse p50 / p95 ms |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for rows in [int(size) for size in options.sizes.split(",")]:
            run_size(base, shards, rows, options)
    finally:
        for shard in shards:
            shard.stop()
        shutil.rmtree(base, ignore_errors=True)


def run_size(base: Path, shards: list[servers.Server], rows: int, options: argparse.Namespace) -> None:
    load_clickhouse(shards, rows)
    folder, state = base / f"project-{rows}", base / f"state-{rows}"
    state.mkdir()
    write_project(folder, rows, shards[0].port)
    port = servers.free_port()
    process = serve(folder, state, port)
    try:
        for name in QUERIES:
            results = {}
            for engine in ("duckdb", "ch"):
                api = f"http://127.0.0.1:{port}/v1/instances/default/api/{engine}_{name}"
                arg = "b" if name == "aggregate" else "id"
                modulo = 16 if name == "aggregate" else rows
                urllib.request.urlopen(f"{api}?{arg}=1", timeout=600).read()  # warm up
                results[engine] = load(
                    lambda i, api=api, arg=arg, m=modulo: f"{api}?{arg}={(i * 7919) % m}",
                    options.seconds,
                    options.clients,
                )
            duck, ch = results["duckdb"], results["ch"]
            print(
                f"| {rows:,} | {name} | {duck[0]:.1f} | {duck[1]:.1f} / {duck[2]:.1f} | {ch[0]:.1f} |"
                f" {ch[1]:.1f} / {ch[2]:.1f} |",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(30)


if __name__ == "__main__":
    main()
