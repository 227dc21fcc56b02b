"""Instructions per request, counted by valgrind (callgrind), for Sluice's app, the naive baseline app and
the scenario's query alone, all in-process (no HTTP server, no client) on the same built table.

Wall-clock figures on a shared 2-core VM move by up to 2x from one minute to the next; instruction counts
barely move, so a change to the request path shows as a difference of a few percent that time cannot show.
Callgrind counts only the requests, on the thread that makes them (`measured`), so DuckDB runs with one
thread on every side. Each side runs twice, with `--requests` more requests the second time, and the
difference of the two counts divided by that many requests is the figure: what a run counts once cancels out.
These are instructions, not time: cache misses and waits do not show, so the figure is CPU work, not latency.
Usage: python bench/bench_instructions.py [--rows 1000000] [--requests 200] [--scenarios lookup,top10]
Not part of the test run; needs valgrind.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.queries import scenario_args, scenario_queries

SIDES = ("sluice", "baseline", "query")
WARM_REQUESTS = 20  # before counting: the caches of shapes, descriptions and cursors are filled
FEW_REQUESTS = 10  # the first run's: what is counted once per run, not per request, cancels out
TOTAL = re.compile(r"Collected\s*:\s*([\d,]+)")


def run_requests(side: str, scenario: str, project_dir: str, state_dir: str, count: int) -> None:
    """The child's work: WARM_REQUESTS then `count` requests of the scenario, on one side."""
    rows, db_path = int(os.environ["BENCH_ROWS"]), os.environ["BENCH_DB"]
    if side == "query":
        import duckdb

        sql, params = scenario_queries(scenario, rows)
        cursor = duckdb.connect(db_path, read_only=True, config={"threads": 1}).cursor()
        measured(lambda values: cursor.execute(sql, values).fetchall(), cycled(params, count))
        return
    from urllib.parse import urlencode

    from werkzeug.test import EnvironBuilder

    app: Callable[..., Any]
    if side == "sluice":
        from project.settings import Settings
        from server import create_app

        settings = Settings(project_dir=project_dir, state_dir=state_dir, cache_bytes=0, duckdb_threads=1)
        app, prefix = create_app(settings), "/v1/instances/default/api/"
    else:
        os.environ["BASELINE_DB"] = db_path
        from bench import baseline_app

        # one DuckDB thread, as the other sides: callgrind counts only the thread that makes the requests
        baseline_app.connection.execute("SET threads = 1")
        app, prefix = baseline_app.app, "/"
    environs = [
        EnvironBuilder(path=prefix + scenario, query_string=urlencode(args)).get_environ()
        for args in cycled(scenario_args(scenario, rows), count)
    ]

    def request(environ: dict) -> None:
        body = app(dict(environ), start_response)
        for _ in body:
            pass
        getattr(body, "close", lambda: None)()

    measured(request, environs)


def cycled(items: list, count: int) -> list:
    """The warm-up's and `count` more requests' items, going round the scenario's."""
    return [items[index % len(items)] for index in range(WARM_REQUESTS + count)]


def start_response(status: str, headers: list, exc_info: Any = None) -> Callable[[bytes], None]:
    return lambda data: None


def measured(work: Callable[[Any], Any], items: list) -> None:
    """Run `work` over the warm-up items, then over the others inside `map` (its C function, map_next, is
    what callgrind counts: only the measured requests, on this thread)."""
    for item in items[:WARM_REQUESTS]:
        work(item)
    collections.deque(map(work, items[WARM_REQUESTS:]), maxlen=0)


def instructions(side: str, scenario: str, project_dir: str, state_dir: str, count: int) -> int:
    """Instructions of one child process that makes `count` requests (after the warm-up)."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--toggle-collect=map_next",  # only inside `measured`'s map (see there)
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        side,
        scenario,
        project_dir,
        state_dir,
        str(count),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    found = TOTAL.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind: {done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_request(side: str, scenario: str, project_dir: str, state_dir: str, requests: int) -> float:
    few = instructions(side, scenario, project_dir, state_dir, FEW_REQUESTS)
    many = instructions(side, scenario, project_dir, state_dir, FEW_REQUESTS + requests)
    return (many - few) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--scenarios", default="lookup,top10")
    options = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    from bench.bench_server import build

    with tempfile.TemporaryDirectory() as temporary:
        project_dir, state_dir, db_path = build(Path(temporary) / "main", options.rows)
        os.environ.update(BENCH_ROWS=str(options.rows), BENCH_DB=db_path)  # for the children
        print(f"{options.rows:,} rows; thousands of instructions per request, in-process, cache off")
        print(
            f"{'scenario':<9} {'sluice':>8} {'baseline':>9} {'query':>8} {'sluice own':>11} "
            f"{'baseline own':>13} {'baseline/sluice':>16}"
        )
        for scenario in options.scenarios.split(","):
            counts = {
                side: per_request(side, scenario, project_dir, state_dir, options.requests) for side in SIDES
            }
            ours, theirs, query = (counts[side] / 1000 for side in SIDES)
            print(
                f"{scenario:<9} {ours:>8.0f} {theirs:>9.0f} {query:>8.0f} {ours - query:>11.0f} "
                f"{theirs - query:>13.0f} {theirs / ours:>15.2f}x"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        side, scenario, project_dir, state_dir, count = sys.argv[2:7]
        run_requests(side, scenario, project_dir, state_dir, int(count))
    else:
        main()
