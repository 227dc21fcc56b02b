"""Sluice against a naive baseline, both under gunicorn, on the same 1,000,000-row table.

Sluice runs as shipped (`gunicorn.conf.py` when present, else 2 workers), the baseline with 2 sync workers.
Clients keep their connection open where the server allows it (the sync baseline closes it). Prints
requests/s side by side, as ratios against the targets of issue 15, for a point lookup, a top-10 aggregate
with the result cache off (cold) and on (warm: the same 20 domains repeated) and a 100,000-row answer; then
one 1,000,000-row JSON request (time, memory) and, per format, a worker's peak memory over its idle memory
for 1,000,000 rows and for all 10,000,000 rows of a 10,000,000-row table.
Usage: python bench/bench_server.py [--seconds 10] [--clients 4] [--rows 1000000] [--scenarios lookup,top10]
       [--memory-rows 10000000 | 0] [--formats json,csv]
Not part of the test run.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.queries import scenario_api, scenario_args, scenario_queries
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
    # reads every column's blocks (an aggregate of plain columns may be answered from the statistics)
    "scan": "cache: {enabled: false}\n"
    "sql: SELECT sum(hash(id, bid_time, publisher, domain, bid_price, impressions)) AS h FROM bids",
}
SLICE_SECONDS = 2.0
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


def worker_cpu_seconds(master: subprocess.Popen) -> float:
    """CPU time (user and system) used so far by the gunicorn master's worker processes."""
    ticks = 0
    for pid in worker_rss_kb(master):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_peak_kb(master: subprocess.Popen) -> int:
    """Largest peak resident size (VmHWM) among the gunicorn master's worker processes."""
    return max((peak for _, peak in worker_rss_kb(master).values()), default=0)


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


WRK = shutil.which("wrk")
WRK_SCRIPT = """
local paths = {%s}
math.randomseed(%d)
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  io.write(string.format("sluice-bench %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def load(port: int, paths: list[str], seconds: float, clients: int) -> float:
    """Requests per second from `clients` kept-alive connections calling random paths for `seconds`: wrk
    when installed (a client in C, so the client's own CPU takes little from the servers on a small machine),
    else Python threads."""
    if WRK is not None:
        return load_with_wrk(port, paths, seconds, clients)
    return load_with_threads(port, paths, seconds, clients)


def load_with_wrk(port: int, paths: list[str], seconds: float, clients: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % (", ".join(f'"{path}"' for path in paths), random.randrange(1 << 30)))
        script.flush()
        command = [str(WRK), "-t1", f"-c{clients}", f"-d{seconds:g}s", "-s", script.name]
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True
        ).stdout
    requests, microseconds, bad_status, socket_errors = (
        int(field) for field in output.split("sluice-bench ", 1)[1].split()[:4]
    )
    if bad_status or socket_errors:
        raise RuntimeError(f"wrk: {bad_status} answers were not 2xx/3xx, {socket_errors} socket errors")
    return requests / (microseconds / 1e6)


def load_with_threads(port: int, paths: list[str], seconds: float, clients: int) -> float:
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
    return [f"{base}{scenario_api(name)}?{urlencode(args)}" for args in scenario_args(name, rows)]


def query_alone_ms(db_path: str, scenario: str, rows: int, seconds: float) -> float:
    """CPU milliseconds of the scenario's query alone, as any server would run it at best: in this process,
    DuckDB with one thread (as each of Sluice's workers on this machine), one cursor kept, bound
    parameters, rows fetched as Python values, nothing else."""
    sql, params = scenario_queries(scenario, rows)
    with duckdb.connect(db_path, read_only=True, config={"threads": 1}) as connection:
        cursor = connection.cursor()
        count, started, deadline = 0, time.process_time(), time.monotonic() + seconds
        while time.monotonic() < deadline:
            cursor.execute(sql, params[count % len(params)]).fetchall()
            count += 1
        return (time.process_time() - started) * 1000 / count


def run_server(kind: str, db_path: str, project_dir: str, state_dir: str, cache: bool = True):
    if kind == "floor":
        return start_gunicorn("bench.hello_app:app", {}, shipped=True), "/"
    if kind == "sluice":
        # 10,000,000 rows take longer than the default 30 s query timeout on a busy machine
        env = {"SLUICE_PROJECT": project_dir, "SLUICE_STATE_DIR": state_dir, "SLUICE_QUERY_TIMEOUT": "600"}
        if not cache:
            env["SLUICE_CACHE_BYTES"] = "0"
        return start_gunicorn("server:create_app()", env, shipped=True), "/v1/instances/default/api/"
    return start_gunicorn("bench.baseline_app:app", {"BASELINE_DB": db_path}), "/"


def measure(
    scenario: str, options, db_path: str, project_dir: str, state_dir: str
) -> dict[str, tuple[float, int, float]]:
    """The servers run at once and take the load in alternating slices, so drift in the machine's speed
    falls on all alike. Returns requests/s, peak worker memory (KB) and the workers' CPU milliseconds per
    request for each: Sluice, the baseline and, for a scenario of CEILING_SCENARIOS, the stack's floor
    (`bench/hello_app.py`, shipped config) and the query alone."""
    cache = scenario == "top10_warm"  # the other scenarios measure queries, not the cache
    kinds = ("sluice", "baseline", "floor") if scenario in CEILING_SCENARIOS else ("sluice", "baseline")
    servers = {kind: run_server(kind, db_path, project_dir, state_dir, cache) for kind in kinds}
    try:
        paths = {kind: scenario_paths(base, scenario, options.rows) for kind, (_, base) in servers.items()}
        for kind, ((_, port), _) in servers.items():
            for path in paths[kind][:4]:
                fetch(port, path)  # warm both workers' caches alike
        rates: dict[str, list[float]] = {kind: [] for kind in servers}
        cpu: dict[str, list[float]] = {kind: [] for kind in servers}
        slices = max(int(options.seconds // SLICE_SECONDS), 1)
        for _ in range(slices):
            for kind, ((process, port), _) in servers.items():
                before = worker_cpu_seconds(process)
                rate = load(port, paths[kind], SLICE_SECONDS, options.clients)
                rates[kind].append(rate)
                if rate > 0:  # a slow side may finish no request in a slice (the baseline's 100,000 rows)
                    cpu[kind].append((worker_cpu_seconds(process) - before) * 1000 / (rate * SLICE_SECONDS))
            if scenario in CEILING_SCENARIOS:  # between the slices, so it meets the same drift
                cpu["alone"] = cpu.get("alone", []) + [query_alone_ms(db_path, scenario, options.rows, 1.0)]
        measured = {
            kind: (
                sum(rates[kind]) / len(rates[kind]),
                worker_peak_kb(servers[kind][0][0]),
                statistics.median(cpu[kind]) if cpu[kind] else math.nan,
            )
            for kind in servers
        }
        if "alone" in cpu:  # a query, not a server: only its CPU per run
            measured["alone"] = (0.0, 0, statistics.median(cpu["alone"]))
        return measured
    finally:
        for (process, _), _ in servers.values():
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def one_big_request(
    kind: str, rows: int, db_path: str, project_dir: str, state_dir: str, suffix: str = "", warm: bool = False
) -> tuple[float, int, int, int]:
    """Time, worker peak, bytes sent, and the serving worker's peak over its idle size, in KB. Each worker's
    peak is reset (clear_refs) once it is idle, so the growth is this request's alone; `warm`: the workers
    have read the whole table first, so the growth is the answer's, not DuckDB's cache of the table's blocks."""
    (process, port), base = run_server(kind, db_path, project_dir, state_dir)
    try:
        # Every worker loads the project (and, warm, reads every column's blocks, which DuckDB then keeps:
        # the table's size). The connections are opened together and kept open, so that Sluice's workers
        # share them out; one connection at a time may reach the same worker each time.
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=300) for _ in range(4)]
        for connection in connections:
            connection.connect()
        for connection in connections:
            fetch(port, f"{base}rows?count=10", connection)
            if warm and kind == "sluice":
                fetch(port, f"{base}scan", connection)
        for connection in connections:
            connection.close()
        reset_peaks(process)
        idle = worker_rss_kb(process)
        started = time.monotonic()
        size = fetch(port, f"{base}rows{suffix}?count={rows}")
        elapsed = time.monotonic() - started
        after = worker_rss_kb(process)
        growth = max(after[pid][1] - idle.get(pid, after[pid])[0] for pid in after)
        return elapsed, worker_peak_kb(process), size, growth
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def reset_peaks(master: subprocess.Popen) -> None:
    """Reset the workers' peak resident size to their current size (Linux: /proc/PID/clear_refs)."""
    for pid in worker_rss_kb(master):
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass  # not permitted: the peak then also covers the worker's start


def build(directory: Path, rows: int) -> tuple[str, str, str]:
    """A project of `rows` bids, built: its folder, state folder and database file."""
    project_dir, state_dir = directory / "project", directory / "state"
    make_project(project_dir, rows)
    project = load_project(Settings(project_dir=str(project_dir), state_dir=str(state_dir)))
    assert not project.errors, project.errors
    db_path = next(str(path) for path in state_dir.glob("project-*.duckdb"))
    return str(project_dir), str(state_dir), db_path


TARGETS = {"lookup": 1.3, "top10": 1.2, "top10_warm": 10.0, "rows": 5.0}
# Scenarios whose every request runs its query: no server on this stack can do better than running that
# query alone plus what gunicorn and Werkzeug cost an app that does nothing (the "floor" server).
CEILING_SCENARIOS = ("lookup", "top10")
BIG_SECONDS_TARGET = 0.5
GROWTH_TARGET_MB = 100
TEN_TIMES_ALLOWANCE = 1.10  # 10x the rows may hold at most 10% more memory


def verdict(met: bool) -> str:
    return "yes" if met else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--scenarios", default="lookup,top10,top10_warm,rows", help="comma-separated subset to run ('' none)"
    )
    parser.add_argument("--no-big", action="store_true", help="skip the single all-rows request")
    parser.add_argument(
        "--memory-rows",
        type=int,
        default=10_000_000,
        help="table size for the per-format memory check of --rows and of all its rows (0: skip)",
    )
    parser.add_argument("--formats", default=",".join(FORMATS), help="formats of the memory check")
    parser.add_argument(
        "--cold",
        dest="warm",
        action="store_false",
        help="memory check without reading the table first (the growth then includes DuckDB's cache of the "
        "table's blocks, up to the table's size on disk: 30 MB for 10,000,000 rows)",
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        project_dir, state_dir, db_path = build(Path(temporary) / "main", options.rows)
        print(
            f"{options.rows:,} rows; Sluice: shipped gunicorn.conf.py, baseline: gunicorn -w 2 (sync); "
            f"{options.clients} keep-alive {'wrk connections' if WRK else 'client threads'}; {options.seconds:g} s each, in alternating "
            f"{SLICE_SECONDS:g} s slices"
        )
        print(
            f"{'scenario':<11} {'sluice req/s':>13} {'baseline req/s':>15} {'ratio':>7} {'target':>7} "
            f"{'met':>4} {'sluice peak MB':>15} {'baseline peak MB':>17}"
        )
        ceilings = []
        for scenario in filter(None, options.scenarios.split(",")):
            measured = measure(scenario, options, db_path, project_dir, state_dir)
            ours, theirs = measured["sluice"], measured["baseline"]
            ratio, target = ours[0] / theirs[0], TARGETS.get(scenario, 1.0)
            print(
                f"{scenario:<11} {ours[0]:>13.1f} {theirs[0]:>15.1f} {ratio:>7.2f} {target:>6.1f}x "
                f"{verdict(ratio >= target):>4} {ours[1] / 1024:>15.1f} {theirs[1] / 1024:>17.1f}"
            )
            if "alone" in measured:
                ceilings.append((scenario, measured))
        if ceilings:
            print_ceilings(ceilings)
        if not options.no_big:
            ours_big = one_big_request("sluice", options.rows, db_path, project_dir, state_dir)
            theirs_big = one_big_request("baseline", options.rows, db_path, project_dir, state_dir)
            print(
                f"one request for {options.rows:,} rows as JSON: sluice {ours_big[0]:.2f} s "
                f"(target <= {BIG_SECONDS_TARGET} s: {verdict(ours_big[0] <= BIG_SECONDS_TARGET)}), "
                f"+{ours_big[3] / 1024:.0f} MB over idle, {ours_big[2] / 1e6:.0f} MB sent; baseline "
                f"{theirs_big[0]:.2f} s, +{theirs_big[3] / 1024:.0f} MB; time ratio "
                f"{theirs_big[0] / ours_big[0]:.1f}x in Sluice's favour"
            )
        if options.memory_rows:
            memory_check(options, Path(temporary) / "memory")


def print_ceilings(ceilings: list[tuple[str, dict[str, tuple[float, int, float]]]]) -> None:
    """Workers' CPU per request (medians of the slices), and the best ratio any server on this stack could
    reach: with the cores busy, requests/s go as the inverse of CPU per request, and a request costs at
    least its query alone plus the floor server's request."""
    print(
        "worker CPU ms per request; ceiling = baseline / (query alone + floor: gunicorn and Werkzeug, "
        "shipped config, an app that does nothing)"
    )
    print(
        f"{'scenario':<11} {'sluice':>8} {'baseline':>9} {'query alone':>12} {'floor':>7} "
        f"{'ceiling':>8} {'target':>7}"
    )
    for scenario, measured in ceilings:
        ours, theirs, alone, floor = (measured[kind][2] for kind in ("sluice", "baseline", "alone", "floor"))
        print(
            f"{scenario:<11} {ours:>8.3f} {theirs:>9.3f} {alone:>12.3f} {floor:>7.3f} "
            f"{theirs / (alone + floor):>7.2f}x {TARGETS[scenario]:>6.1f}x"
        )


def memory_check(options, directory: Path) -> None:
    """Per format: a worker's peak over idle for --rows rows and for all --memory-rows rows of a table that
    large (the same table, so the same idle size)."""
    project_dir, state_dir, db_path = build(directory, options.memory_rows)
    small, large = options.rows, options.memory_rows
    state = (
        "table read once before (DuckDB's block cache warm)" if options.warm else "first read of the table"
    )
    print(
        f"worker peak RSS over idle, MB, on a {large:,}-row table (Sluice, shipped gunicorn.conf.py; {state})"
    )
    print(
        f"{'format':<8} {f'{small:,} rows':>14} {'s':>6} {f'{large:,} rows':>15} {'s':>6} "
        f"{'<=100 MB':>9} {'10x rows <= +10%':>17}"
    )
    for format_name in options.formats.split(","):
        suffix = "" if format_name == "json" else f".{format_name}"
        few = one_big_request("sluice", small, db_path, project_dir, state_dir, suffix, options.warm)
        many = one_big_request("sluice", large, db_path, project_dir, state_dir, suffix, options.warm)
        few_mb, many_mb = few[3] / 1024, many[3] / 1024
        print(
            f"{format_name:<8} {few_mb:>14.0f} {few[0]:>6.1f} {many_mb:>15.0f} {many[0]:>6.1f} "
            f"{verdict(max(few_mb, many_mb) <= GROWTH_TARGET_MB):>9} "
            f"{verdict(many_mb <= few_mb * TEN_TIMES_ALLOWANCE):>17}"
        )


if __name__ == "__main__":
    main()
