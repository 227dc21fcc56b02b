"""Models follow the APIs' rules (SPEC §9): one read-only query each, no writes, no settings, files only
inside the project (hidden ones excluded) and the operator's folders; `--check` never writes anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.test import Client

from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, ROOT, assert_error

SECRET = "sluice-test-secret-7f3a"


def bad_models(outside: Path) -> dict[str, tuple[str, str]]:
    """Model name -> (SQL, what the load error says). `outside` is a folder no model may write to."""
    return {
        "bad_stacked_copy": (
            f"SELECT 1; COPY (SELECT 42) TO '{outside}/stacked.csv'",
            "expected exactly one SQL",
        ),
        "bad_copy": (
            f"COPY (SELECT 42) TO '{outside}/copy.csv'",
            "only read-only queries are allowed, not COPY",
        ),
        "bad_attach": (
            f"ATTACH '{outside}/attached.duckdb' AS other",
            "only read-only queries are allowed, not ATTACH",
        ),
        "bad_install": ("INSTALL httpfs", "only read-only queries are allowed, not INSTALL"),
        "bad_load": ("LOAD httpfs", "only read-only queries are allowed, not LOAD"),
        "bad_set": ("SET enable_external_access = true", "only read-only queries are allowed, not SET"),
        "bad_pragma": ("PRAGMA enable_external_access", "only read-only queries are allowed, not PRAGMA"),
        "bad_drop_other": ("DROP TABLE keep", "only read-only queries are allowed, not DROP"),
        "bad_create": (f"CREATE TABLE made AS SELECT 1; SELECT '{outside}'", "not CREATE"),
        "bad_export": (
            f"EXPORT DATABASE '{outside}/export'",
            "only read-only queries are allowed, not EXPORT",
        ),
        "bad_environ": ("SELECT content FROM read_text('/proc/self/environ')", "Permission Error"),
        "bad_passwd": ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
        "bad_dotenv": ("SELECT content FROM read_text('.env')", "Permission Error"),
        "bad_tokens": ("SELECT * FROM read_json('.sluice/tokens.json')", "Permission Error"),
        "bad_remote": ("SELECT * FROM read_csv('https://example.com/x.csv')", "Permission Error"),
        "bad_climb": ("SELECT content FROM read_text('data/../../outside/kept.txt')", "Permission Error"),
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    project, outside = root / "project", root / "outside"
    (project / "models").mkdir(parents=True)
    (project / "apis").mkdir()
    (project / "data").mkdir()
    outside.mkdir()
    (outside / "kept.txt").write_text("outside the project\n")
    (project / ".env").write_text(f"SECRET={SECRET}\n")
    (project / ".sluice").mkdir()
    (project / ".sluice" / "tokens.json").write_text(json.dumps({"secret": SECRET}))
    (project / "data" / "rows.csv").write_text("id,name\n1,a\n2,b\n")
    (project / "models" / "keep.sql").write_text(
        "-- @materialize: true\nSELECT * FROM read_csv('data/rows.csv')\n"
    )
    (project / "apis" / "keep.yaml").write_text("type: api\nsql: SELECT count(*) AS n FROM keep\n")
    for name, (sql, _) in bad_models(outside).items():
        (project / "models" / f"{name}.sql").write_text(f"-- @materialize: true\n{sql}\n")
        (project / "apis" / f"{name}.yaml").write_text(f"type: api\nsql: SELECT * FROM {name}\n")
    return project


@pytest.fixture(scope="module")
def checked(project) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "server.py", "--check", str(project)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "SLUICE_JWT_SECRET": SECRET},
    )


@pytest.mark.parametrize("name", sorted(bad_models(Path("/x"))))
def test_check_refuses_each_model_that_is_not_one_sandboxed_read(project, checked, name):
    _, message = bad_models(project.parent / "outside")[name]
    lines = [line for line in checked.stdout.splitlines() if line.startswith(f"error: models/{name}.sql: ")]
    assert lines and message in lines[0], checked.stdout
    assert f"model '{name}'" in lines[0]
    assert checked.returncode == 1


def test_check_writes_nothing_and_reads_no_secret(project, checked):
    assert sorted(path.name for path in (project.parent / "outside").iterdir()) == ["kept.txt"]
    assert not (project / "made").exists()
    assert SECRET not in checked.stdout + checked.stderr
    assert "error: models/keep.sql" not in checked.stdout


@pytest.fixture(scope="module")
def client(project, tmp_path_factory) -> Client:
    state = tmp_path_factory.mktemp("models-state")
    return Client(create_app(Settings(project_dir=str(project), state_dir=str(state))))


def test_the_model_another_one_tried_to_drop_still_serves(client):
    assert json.loads(client.get(BASE_URL + "keep").get_data()) == [{"n": 2}]


@pytest.mark.parametrize("name", sorted(bad_models(Path("/x"))))
def test_an_api_over_a_refused_model_is_a_500_naming_it_and_leaks_nothing(client, name):
    body = assert_error(client.get(BASE_URL + name), 500, f"model '{name}'")
    assert SECRET not in json.dumps(body)
