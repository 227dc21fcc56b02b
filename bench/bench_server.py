"""Sluice against a naive baseline, both under gunicorn, on the same 1,000,000-row table.

Sluice runs as shipped (`gunicorn.conf.py` when present, else 2 workers), the baseline with 2 sync workers.
Clients keep their connection open where the server allows it. Prints requests/s and peak worker memory
side by side, as ratios, for a point lookup, a top-10 aggregate with the result cache off (cold) and on
(warm: the same 20 domains repeated) and a 100,000-row answer; then one 1,000,000-row request (time and
peak memory) and, per format, a worker's peak memory over its idle memory for that request.
Usage: python bench/bench_server.py [--seconds 10] [--clients 4] [--rows 1000000] [--scenarios lookup,top10]
Not part of the test run.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from project.loading.loader import load_project
from project.settings import Settings

MODEL = """-- @materialize: true
SELECT i AS id,
       TIMESTAMP '2024-01-01' + to_seconds(i % 2678400) AS bid_time,
       ['Google', 'Facebook', 'Microsoft', 'Yahoo', 'Apple'][1 + (i * i + i // 10) % 5] AS publisher,
       'site' || ((i // 3 * 7) % 20) || '.com' AS domain,
       round((i * 2654435761 % 1000) / 100.0, 2)::DOUBLE AS bid_price,
       1 + i * 31 % 5 AS impressions
FROM range({rows}) AS t(i)
"""
APIS = {
    "lookup": "sql: SELECT * FROM bids WHERE id = {{ .args.id }}",
    "top10": "sql: SELECT publisher, count(*) AS bids, sum(impressions) AS impressions FROM bids "
    "WHERE domain = '{{ .args.domain }}' GROUP BY publisher ORDER BY bids DESC LIMIT 10",
    "rows": "max_rows: 0\nsql: SELECT * FROM bids LIMIT {{ .args.count }}",
}
SLICE_SECONDS = 2.0
DOMAINS = [f"site{number}.com" for number in range(20)]
FORMATS = ("json", "ndjson", "csv", "parquet", "arrow")
SHIPPED_CONFIG = ROOT / "gunicorn.conf.py"


def make_project(directory: Path, rows: int) -> None:
    (directory / "models").mkdir(parents=True)
    (directory / "apis").mkdir()
    (directory / "models" / "bids.sql").write_text(MODEL.format(rows=rows))
    for name, body in APIS.items():
        (directory / "apis" / f"{name}.yaml").write_text(f"type: api\n{body}\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(app: str, env: dict, shipped: bool = False) -> tuple[subprocess.Popen, int]:
    port = free_port()
    deployment = ["-c", str(SHIPPED_CONFIG)] if shipped and SHIPPED_CONFIG.exists() else ["-w", "2"]
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        *deployment,
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "300",
        app,
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def worker_peak_kb(master: subprocess.Popen) -> int:
    """Largest peak resident size (VmHWM) among the gunicorn master's worker processes."""
    peaks = []
    for pid in (int(name) for name in os.listdir("/proc") if name.isdigit()):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master.pid):
            peaks.append(int(fields["VmHWM"].split()[0]))
    return max(peaks, default=0)


def fetch(port: int, path: str, connection: http.client.HTTPConnection | None = None) -> int:
    """One GET; on a given connection it is kept open if the server allows (reopened if it closed)."""
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request("GET", path)
    response = connection.getresponse()
    size = len(response.read())
    if own or response.will_close:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}")
    return size


def worker_rss_kb(master: subprocess.Popen) -> dict[int, tuple[int, int]]:
    """Each worker's current and peak resident size (VmRSS, VmHWM), by pid."""
    sizes = {}
    for pid in (int(name) for name in os.listdir("/proc") if name.isdigit()):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master.pid):
            sizes[pid] = (int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]))
    return sizes


def load(port: int, paths: list[str], seconds: float, clients: int) -> float:
    """Requests per second from `clients` threads calling random paths for `seconds`."""
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        chooser = random.Random(index)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while time.monotonic() < stop:
            fetch(port, chooser.choice(paths), connection)
            done[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def scenario_paths(base: str, name: str, rows: int) -> list[str]:
    if name == "lookup":
        return [f"{base}lookup?id={random.Random(i).randrange(rows)}" for i in range(500)]
    if name in ("top10", "top10_warm"):
        return [f"{base}top10?domain={domain}" for domain in DOMAINS]
    return [f"{base}rows?count=100000"]


def run_server(kind: str, db_path: str, project_dir: str, state_dir: str, cache: bool = True):
    if kind == "sluice":
        env = {"SLUICE_PROJECT": project_dir, "SLUICE_STATE_DIR": state_dir}
        if not cache:
            env["SLUICE_CACHE_BYTES"] = "0"
        return start_gunicorn("server:create_app()", env, shipped=True), "/v1/instances/default/api/"
    return start_gunicorn("bench.baseline_app:app", {"BASELINE_DB": db_path}), "/"


def measure(
    scenario: str, options, db_path: str, project_dir: str, state_dir: str
) -> dict[str, tuple[float, int]]:
    """Both servers run at once and take the load in alternating slices, so drift in the machine's speed
    falls on both alike. Returns requests/s and peak worker memory (KB) for each."""
    cache = scenario == "top10_warm"  # the other scenarios measure queries, not the cache
    servers = {
        kind: run_server(kind, db_path, project_dir, state_dir, cache) for kind in ("sluice", "baseline")
    }
    try:
        paths = {kind: scenario_paths(base, scenario, options.rows) for kind, (_, base) in servers.items()}
        for kind, ((_, port), _) in servers.items():
            for path in paths[kind][:4]:
                fetch(port, path)  # warm both workers' caches alike
        rates: dict[str, list[float]] = {kind: [] for kind in servers}
        slices = max(int(options.seconds // SLICE_SECONDS), 1)
        for _ in range(slices):
            for kind, ((_, port), _) in servers.items():
                rates[kind].append(load(port, paths[kind], SLICE_SECONDS, options.clients))
        return {
            kind: (sum(rates[kind]) / len(rates[kind]), worker_peak_kb(servers[kind][0][0]))
            for kind in servers
        }
    finally:
        for (process, _), _ in servers.values():
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def one_big_request(
    kind: str, options, db_path: str, project_dir: str, state_dir: str, suffix: str = ""
) -> tuple[float, int, int, int]:
    """Time, worker peak, bytes sent, and the serving worker's peak over its idle size, in KB."""
    (process, port), base = run_server(kind, db_path, project_dir, state_dir)
    try:
        for _ in range(4):
            fetch(port, f"{base}rows?count=10")  # every worker has loaded the project
        idle = worker_rss_kb(process)
        started = time.monotonic()
        size = fetch(port, f"{base}rows{suffix}?count={options.rows}")
        elapsed = time.monotonic() - started
        after = worker_rss_kb(process)
        growth = max(after[pid][1] - idle.get(pid, after[pid])[0] for pid in after)
        return elapsed, worker_peak_kb(process), size, growth
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--scenarios", default="lookup,top10,top10_warm,rows", help="comma-separated subset to run"
    )
    parser.add_argument("--no-big", action="store_true", help="skip the single all-rows request")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        project_dir, state_dir = Path(temporary) / "project", Path(temporary) / "state"
        make_project(project_dir, options.rows)
        project = load_project(Settings(project_dir=str(project_dir), state_dir=str(state_dir)))
        assert not project.errors, project.errors
        db_path = next(str(path) for path in state_dir.glob("project-*.duckdb"))
        print(
            f"{options.rows:,} rows; gunicorn -w 2 each; {options.clients} client threads; "
            f"{options.seconds:g} s each, in alternating {SLICE_SECONDS:g} s slices"
        )
        print(
            f"{'scenario':<10} {'sluice req/s':>13} {'baseline req/s':>15} {'ratio':>7} "
            f"{'sluice peak MB':>15} {'baseline peak MB':>17} {'ratio':>7}"
        )
        for scenario in options.scenarios.split(","):
            measured = measure(scenario, options, db_path, str(project_dir), str(state_dir))
            ours, theirs = measured["sluice"], measured["baseline"]
            print(
                f"{scenario:<10} {ours[0]:>13.1f} {theirs[0]:>15.1f} {ours[0] / theirs[0]:>7.2f} "
                f"{ours[1] / 1024:>15.1f} {theirs[1] / 1024:>17.1f} {ours[1] / theirs[1]:>7.2f}"
            )
        if options.no_big:
            return
        big_ours = one_big_request("sluice", options, db_path, str(project_dir), str(state_dir))
        big_theirs = one_big_request("baseline", options, db_path, str(project_dir), str(state_dir))
        print(
            f"one request for {options.rows:,} rows: sluice {big_ours[0]:.2f} s, peak {big_ours[1] / 1024:.0f} MB, "
            f"{big_ours[2] / 1e6:.0f} MB sent; baseline {big_theirs[0]:.2f} s, peak {big_theirs[1] / 1024:.0f} MB, "
            f"{big_theirs[2] / 1e6:.0f} MB sent; time ratio {big_ours[0] / big_theirs[0]:.2f}, "
            f"memory ratio {big_ours[1] / big_theirs[1]:.2f}"
        )


if __name__ == "__main__":
    main()
