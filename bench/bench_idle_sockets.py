"""How long a request waits behind 200 idle sockets: the old sync-worker line against gunicorn.conf.py.

Run: python bench/bench_idle_sockets.py   (not part of the test run; about two minutes with sync workers)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "projects" / "streams"
IDLE = 200
SETUPS = {
    "sync workers (gunicorn -w 2, no config)": ["-c", "/dev/null", "-w", "2", "server:create_app()"],
    "gunicorn.conf.py (Sluice's gthread worker, 2 workers)": [],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url}")


def seconds_behind_idle_sockets(arguments: list[str]) -> str:
    port = free_port()
    env = {**os.environ, "SLUICE_PROJECT": str(PROJECT), "WEB_CONCURRENCY": "2"}
    with tempfile.TemporaryDirectory() as state:
        env["SLUICE_STATE_DIR"] = state
        command = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", *arguments]
        server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/v1/ping")
            idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(IDLE)]
            started = time.monotonic()
            try:
                urllib.request.urlopen(base + "/v1/instances/default/api/hello", timeout=90).close()
                return f"answered after {time.monotonic() - started:.2f} s"
            except OSError:
                return "got no answer in 90 s"
            finally:
                for connection in idle:
                    connection.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    for name, arguments in SETUPS.items():
        print(
            f"{name}: a request behind {IDLE} idle sockets answered after {seconds_behind_idle_sockets(arguments)}"
        )
