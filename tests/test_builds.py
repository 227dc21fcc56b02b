"""Builds that cannot poison a later start: a failed build (full disk) is never moved into place nor reused,
a read-only state dir serves a complete build, and an API over a model that failed to build is a 500 that
names the model. A server whose first build fails starts anyway, answers 503 with the reason and retries.
Failures are real: a file size limit, a small tmpfs, a read-only bind mount."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, assert_error, free_port, start, stop

BIG_ROWS = 300_000
BIG_MODEL = (  # random text does not compress: about 15 MB on disk
    f"-- @materialize: true\nSELECT range AS id, md5(random()::VARCHAR) AS noise FROM range({BIG_ROWS})\n"
)


def write_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def big_project(root: Path) -> Path:
    return write_project(
        root,
        {
            "models/small.sql": "SELECT 1 AS one\n",
            "models/big.sql": BIG_MODEL,
            "apis/count_big.yaml": "type: api\nsql: SELECT count(*) AS n FROM big\n",
        },
    )


def serve_command(project: Path, state: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "server.py",
        str(project),
        "--state-dir",
        str(state),
        "--port",
        str(port),
        "--no-reload",
    ]


@contextlib.contextmanager
def failing_server(
    project: Path, state: Path, tmp_path: Path, limit_bytes: int | None = None, kind: str = "dev"
) -> Iterator[str]:
    """A server whose build fails: it starts anyway (ping answers), answers 503 until a build succeeds,
    and retries. `limit_bytes`: the processes' file size limit (writes beyond it fail: "File too large")."""
    port = free_port()
    command = serve_command(project, state, port)
    if kind == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
    if limit_bytes is not None:
        command = ["prlimit", f"--fsize={limit_bytes}", *command]
    env = {"SLUICE_PROJECT": str(project), "SLUICE_STATE_DIR": str(state)}
    process = start(command, port, tmp_path, env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def health_of(base: str) -> tuple[int, dict]:
    try:
        with urlopen(base + "/v1/health") as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def assert_unavailable_cleanly(base: str, state: Path, log: Path, reason: str) -> None:
    """503 with the build's error in health and an `error:` line in the log (no traceback); no half build."""
    status, health = health_of(base)
    assert status == 503 and health["status"] == "unavailable" and reason in health["error"], health
    assert [line for line in log.read_text().splitlines() if "error: " in line and reason in line]
    assert "Traceback" not in log.read_text()
    left = sorted(path.name for path in state.iterdir()) if state.exists() else []
    placed = [name for name in left if name.startswith("project-") and ".building" not in name]
    assert not placed, left  # a build under way (a retry) is only ever a `.building` file


def eventually_ok(base: str, seconds: float = 120.0) -> bool:
    """Health says ok within `seconds` (the server retries a failed build by itself): waits, never measures."""
    deadline = time.monotonic() + seconds
    while health_of(base)[0] != 200:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def count_big(project: Path, state: Path, tmp_path: Path) -> int:
    port = free_port()
    process = start(serve_command(project, state, port), port, tmp_path)
    try:
        with urlopen(f"http://127.0.0.1:{port}{BASE_URL}count_big") as response:
            return json.loads(response.read())[0]["n"]
    finally:
        stop(process)


def urlopen(url: str):
    import urllib.request

    return urllib.request.urlopen(url, timeout=30)


@pytest.mark.parametrize("kind", ["dev", "gunicorn"])
def test_a_build_that_runs_out_of_space_is_never_put_in_place_nor_reused(tmp_path, kind):
    project, state = big_project(tmp_path / "project"), tmp_path / "state"
    with failing_server(project, state, tmp_path, limit_bytes=4 * 1024 * 1024, kind=kind) as base:
        assert_unavailable_cleanly(base, state, tmp_path / "server.log", "File too large")
    assert count_big(project, state, tmp_path) == BIG_ROWS  # the next start builds again, completely


@contextlib.contextmanager
def mounted(*commands: list[str], target: Path) -> Iterator[None]:
    """Run mount commands (root only; skip where the machine does not allow mounting) and unmount after."""
    target.mkdir(parents=True, exist_ok=True)
    first = subprocess.run(commands[0], capture_output=True, text=True, check=False)
    if first.returncode != 0:
        pytest.skip(f"cannot mount here: {first.stderr.strip()}")
    try:
        for command in commands[1:]:
            subprocess.run(command, check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def test_a_full_disk_during_a_build_leaves_nothing_to_serve_until_there_is_room(tmp_path):
    project, disk = big_project(tmp_path / "project"), tmp_path / "disk"
    tmpfs = ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)]
    with mounted(tmpfs, target=disk), failing_server(project, disk, tmp_path) as base:
        assert_unavailable_cleanly(base, disk, tmp_path / "server.log", "No space left on device")
        subprocess.run(["mount", "-o", "remount,size=128m", str(disk)], check=True)
        assert eventually_ok(base)  # retried without a restart, and without a file change
        with urlopen(f"{base}{BASE_URL}count_big") as response:
            assert json.loads(response.read())[0]["n"] == BIG_ROWS


def test_a_read_only_state_dir_with_a_complete_build_serves(tmp_path):
    project = write_project(
        tmp_path / "project",
        {
            "models/numbers.sql": "SELECT 7 AS n\n",
            "apis/numbers.yaml": "type: api\nsql: SELECT n FROM numbers\n",
        },
    )
    state, read_only = tmp_path / "state", tmp_path / "read-only"
    create_app(Settings(project_dir=str(project), state_dir=str(state))).current_project().database.close()
    bind = ["mount", "--bind", str(state), str(read_only)]
    with mounted(bind, ["mount", "-o", "remount,bind,ro", str(read_only)], target=read_only):
        assert (
            subprocess.run(["touch", str(read_only / "probe")], check=False, capture_output=True).returncode
            != 0
        )
        client = Client(create_app(Settings(project_dir=str(project), state_dir=str(read_only))))
        assert json.loads(client.get(BASE_URL + "numbers").get_data()) == [{"n": 7}]


def test_a_read_only_state_dir_without_a_build_is_a_clear_error(tmp_path):
    project = write_project(tmp_path / "project", {"models/numbers.sql": "SELECT 7 AS n\n"})
    empty, read_only = tmp_path / "empty", tmp_path / "read-only"
    empty.mkdir()
    bind = ["mount", "--bind", str(empty), str(read_only)]
    remount = ["mount", "-o", "remount,bind,ro", str(read_only)]
    with mounted(bind, remount, target=read_only), failing_server(project, read_only, tmp_path) as base:
        reason = f"cannot build the database in {read_only}: Read-only file system"
        assert_unavailable_cleanly(base, read_only, tmp_path / "server.log", reason)


FAILED_MODEL_PROJECT = {
    "models/good.sql": "SELECT 1 AS id\n",
    "models/broken.sql": "SELECT no_such_column FROM good\n",
    "models/over_broken.sql": "SELECT * FROM broken\n",
    "apis/good.yaml": "type: api\nsql: SELECT id FROM good\n",
    "apis/broken.yaml": "type: api\nsql: SELECT * FROM broken WHERE true\n",
    "apis/over_broken.yaml": "type: api\nsql: SELECT count(*) FROM over_broken\n",
    "apis/joined.yaml": "type: api\nsql: SELECT * FROM good JOIN broken ON true\n",
    "apis/missing.yaml": "type: api\nsql: SELECT * FROM never_a_model\n",
}


@pytest.fixture(scope="module")
def failed_model_client(tmp_path_factory):
    project = write_project(tmp_path_factory.mktemp("failed-model"), FAILED_MODEL_PROJECT)
    return Client(create_app(Settings(project_dir=str(project), state_dir=str(project / ".sluice"))))


@pytest.mark.parametrize(
    "api, status, message",
    [
        ("broken", 500, "model 'broken' failed to build: Binder Error"),
        ("joined", 500, "model 'broken' failed to build: Binder Error"),
        ("over_broken", 500, "model 'over_broken' failed to build: Catalog Error"),
        ("missing", 400, "Table with name never_a_model does not exist"),  # not a model: the query's fault
    ],
)
def test_an_api_over_a_model_that_failed_to_build_is_a_500_naming_it(
    failed_model_client, api, status, message
):
    body = assert_error(failed_model_client.get(BASE_URL + api), status, message)
    if status == 500:
        assert "no_such_column" in body["error"] or "broken" in body["error"]


def test_the_other_apis_serve_next_to_a_failed_model(failed_model_client):
    assert json.loads(failed_model_client.get(BASE_URL + "good").get_data()) == [{"id": 1}]


def test_a_reload_whose_model_fails_keeps_the_last_good_build_serving(tmp_path, caplog):
    project = write_project(
        tmp_path / "project",
        {
            "models/numbers.sql": "SELECT 1 AS n\n",
            "apis/numbers.yaml": "type: api\nsql: SELECT n FROM numbers\n",
        },
    )
    app = create_app(Settings(project_dir=str(project), state_dir=str(tmp_path / "state"), reload=True))
    client = Client(app)
    assert json.loads(client.get(BASE_URL + "numbers").get_data()) == [{"n": 1}]
    (project / "models" / "numbers.sql").write_text("SELECT no_such_column FROM range(3)\n")
    app.watcher.check()  # what the watcher's thread does each second (waits for a check it has begun)
    assert json.loads(client.get(BASE_URL + "numbers").get_data()) == [{"n": 1}]
    assert "model 'numbers' failed to build" in caplog.text
    health = json.loads(client.get("/v1/health").get_data())
    assert health["status"] == "degraded" and "keeps serving" in health["errors"][0]["error"]
    (project / "models" / "numbers.sql").write_text("SELECT 2 AS n -- fixed\n")
    app.watcher.check()
    assert json.loads(client.get(BASE_URL + "numbers").get_data()) == [{"n": 2}]
    assert json.loads(client.get("/v1/health").get_data())["status"] == "ok"
