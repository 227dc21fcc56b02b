"""The file sandbox at request time (SPEC §9): API SQL reads the project's visible files and the operator's
folders, by absolute paths whatever the server's working directory; hidden files (`.env`, the state dir,
any dot-file at any depth), links out of the sandbox and everything else are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.test import Client

from project.settings import Settings, settings_from_env
from server import create_app
from tests.conftest import BASE_URL, ROOT, assert_error, free_port, run_sluice, stop, wait_until_up

SECRET = "sluice-hidden-4d1c"

FILES = {
    ".env": f"SECRET={SECRET}\n",
    ".hidden_top.txt": SECRET,
    ".sluice/tokens.json": json.dumps({"token": SECRET}),
    "etc/passwd": "project passwd\n",
    "top.txt": "top\n",
    "data/visible.csv": "id\n1\n",
    "data/.hidden.txt": SECRET,
    "data/.secret/s.txt": SECRET,
    "data/sub/deep.txt": "deep\n",
    "public/a.csv": "id\n1\n",
    "public/b.csv": "id\n2\n",
}
LINKS = {
    "data/link_env": "../.env",
    "data/link_etc": "/etc",
    "data/link_secret": ".secret",
    "data/link_ok.txt": "sub/deep.txt",
}

# (API name, SQL; {project} is the project's absolute path)
REFUSED = [
    ("dotenv", "SELECT content FROM read_text('.env')"),
    ("dotenv_absolute", "SELECT content FROM read_text('{project}/.env')"),
    ("dotenv_csv", "SELECT * FROM read_csv('.env', header = false)"),
    ("dotenv_blob", "SELECT content FROM read_blob('.env')"),
    ("dotenv_climb", "SELECT content FROM read_text('data/../.env')"),
    ("dotenv_deep_climb", "SELECT content FROM read_text('data/sub/../../.env')"),
    ("hidden_top", "SELECT content FROM read_text('.hidden_top.txt')"),
    ("tokens_json", "SELECT * FROM read_json('.sluice/tokens.json')"),
    ("tokens_text", "SELECT content FROM read_text('.sluice/tokens.json')"),
    ("state_glob", "SELECT * FROM glob('.sluice/*')"),
    ("nested_hidden_file", "SELECT content FROM read_text('data/.hidden.txt')"),
    ("nested_hidden_dir", "SELECT content FROM read_text('data/.secret/s.txt')"),
    ("nested_hidden_glob", "SELECT * FROM glob('data/.secret/*')"),
    ("folder_with_hidden_glob", "SELECT * FROM glob('data/*')"),
    ("crawl", "SELECT content FROM read_text('data/**')"),
    ("link_to_dotenv", "SELECT content FROM read_text('data/link_env')"),
    ("link_out", "SELECT content FROM read_text('data/link_etc/passwd')"),
    ("link_to_hidden", "SELECT content FROM read_text('data/link_secret/s.txt')"),
    ("passwd", "SELECT content FROM read_text('/etc/passwd')"),
    ("passwd_csv", "SELECT * FROM read_csv('/etc/passwd')"),
    ("passwd_from", "SELECT * FROM '/etc/passwd'"),
    ("passwd_url", "SELECT content FROM read_text('file:///etc/passwd')"),
    ("environ", "SELECT content FROM read_text('/proc/self/environ')"),
    ("home", "SELECT content FROM read_text('~/.bashrc')"),
    ("sibling", "SELECT content FROM read_text('../outside.txt')"),
]
ALLOWED = [
    ("top", "SELECT content FROM read_text('top.txt')", [{"content": "top\n"}]),
    ("project_etc", "SELECT content FROM read_text('etc/passwd')", [{"content": "project passwd\n"}]),
    ("csv", "SELECT id FROM read_csv('data/visible.csv')", [{"id": 1}]),
    ("csv_from", "SELECT id FROM 'data/visible.csv'", [{"id": 1}]),
    ("deep", "SELECT content FROM read_text('data/sub/deep.txt')", [{"content": "deep\n"}]),
    ("link_inside", "SELECT content FROM read_text('data/link_ok.txt')", [{"content": "deep\n"}]),
    ("whole_folder_glob", "SELECT count(*) AS n FROM glob('public/*')", [{"n": 2}]),
    ("whole_folder_csvs", "SELECT sum(id) AS s FROM read_csv('public/*.csv')", [{"s": 3}]),
    ("absolute_inside", "SELECT content FROM read_text('{project}/top.txt')", [{"content": "top\n"}]),
]


def make_project(root: Path) -> Path:
    project = root / "project"
    for name, text in FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    for name, target in LINKS.items():
        os.symlink(target, project / name)
    (root / "outside.txt").write_text(SECRET)
    for name, sql, *_ in REFUSED + ALLOWED:
        text = sql.format(project=project).replace("'", "''")
        (project / "apis").mkdir(exist_ok=True)
        (project / "apis" / f"{name}.yaml").write_text(f"type: api\nsql: '{text}'\n")
    return project


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="module")
def client(project) -> Client:  # the state dir is the project's own `.sluice/`, as by default
    return Client(create_app(Settings(project_dir=str(project))))


WORKING_DIRECTORIES = ["/", "project", "project/data", "parent"]


def chdir_to(monkeypatch, where: str, project: Path) -> None:
    places = {"/": Path("/"), "project": project, "project/data": project / "data", "parent": project.parent}
    monkeypatch.chdir(places[where])


@pytest.mark.parametrize("cwd", WORKING_DIRECTORIES)
@pytest.mark.parametrize("name", [name for name, _ in REFUSED])
def test_hidden_and_outside_files_are_refused(client, project, monkeypatch, cwd, name):
    chdir_to(monkeypatch, cwd, project)
    response = client.get(BASE_URL + name)
    body = assert_error(response, 400, ("Permission Error", "IO Error: No files found", "Catalog Error"))
    assert body["error"].startswith(("Permission Error", "IO Error: No files found", "Catalog Error")), body
    assert SECRET not in response.get_data(as_text=True)
    assert "root:x:0:0" not in response.get_data(as_text=True)


@pytest.mark.parametrize("cwd", WORKING_DIRECTORIES)
@pytest.mark.parametrize("name, expected", [(name, expected) for name, _, expected in ALLOWED])
def test_visible_project_files_are_read_whatever_the_working_directory(
    client, project, monkeypatch, cwd, name, expected
):
    chdir_to(monkeypatch, cwd, project)
    response = client.get(BASE_URL + name)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_data()) == expected


def test_a_server_started_from_the_root_reads_the_project_etc_not_the_system_one(tmp_path):
    project = make_project(tmp_path)
    port = free_port()
    command = [sys.executable, str(ROOT / "server.py"), str(project), "--port", str(port), "--no-reload"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "server.log", "ab") as log:
        process = subprocess.Popen(command, cwd="/", env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process, log=tmp_path / "server.log")
        with urllib.request.urlopen(base + BASE_URL + "project_etc", timeout=30) as response:
            assert json.loads(response.read()) == [{"content": "project passwd\n"}]
        for name in ("passwd", "dotenv", "tokens_json", "nested_hidden_dir"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + BASE_URL + name, timeout=30)
            text = refused.value.read().decode()
            assert refused.value.code == 400 and "root:x:0:0" not in text and SECRET not in text, text
    finally:
        stop(process)


def outside_project(tmp_path: Path) -> tuple[Path, Path]:
    project, shared = tmp_path / "project", tmp_path / "shared"
    (project / "apis").mkdir(parents=True)
    shared.mkdir()
    (shared / "rates.csv").write_text("rate\n7\n")
    sql = f"SELECT rate FROM read_csv('{shared}/rates.csv')"
    (project / "apis" / "rates.yaml").write_text(f"type: api\nsql: {sql}\n")
    (project / "models").mkdir()
    (project / "models" / "rates_model.sql").write_text(f"-- @materialize: true\n{sql}\n")
    (project / "apis" / "rates_model.yaml").write_text("type: api\nsql: SELECT rate FROM rates_model\n")
    return project, shared


@pytest.mark.parametrize(
    "api, status, message",
    [
        ("rates", 400, "Permission Error: Cannot access file"),  # the API's own query is refused
        ("rates_model", 500, "model 'rates_model' failed to build: Permission Error: Cannot access file"),
    ],
)
def test_an_allowed_directory_is_readable_by_apis_and_models(tmp_path, api, status, message):
    project, shared = outside_project(tmp_path)
    closed = Client(create_app(Settings(project_dir=str(project), state_dir=str(tmp_path / "a"))))
    assert_error(closed.get(BASE_URL + api), status, message)
    opened = Client(
        create_app(
            Settings(project_dir=str(project), state_dir=str(tmp_path / "b"), allow_dirs=(str(shared),))
        )
    )
    assert json.loads(opened.get(BASE_URL + api).get_data()) == [{"rate": 7}]


@pytest.mark.parametrize("option, status", [("--allow-dir", 0), ("SLUICE_ALLOW_DIRS", 0), (None, 1)])
def test_the_command_line_and_the_environment_allow_directories(tmp_path, option, status):
    project, shared = outside_project(tmp_path)
    flags = ["--allow-dir", str(shared)] if option == "--allow-dir" else []
    env = {"SLUICE_ALLOW_DIRS": str(shared)} if option == "SLUICE_ALLOW_DIRS" else {}
    clean = {k: v for k, v in os.environ.items() if k != "SLUICE_ALLOW_DIRS"}
    result = run_sluice("--check", str(project), *flags, env={**clean, **env})
    assert result.returncode == status, result.stdout + result.stderr


@pytest.mark.parametrize("allowed", ["project", "parent", "state_parent"])
def test_an_allowed_directory_may_not_open_the_project_or_the_state_dir(tmp_path, allowed):
    project, _ = outside_project(tmp_path)
    state = tmp_path / "elsewhere" / "state"
    folder = {"project": project, "parent": tmp_path, "state_parent": state.parent}[allowed]
    state.mkdir(parents=True)
    result = run_sluice(str(project), "--state-dir", str(state), "--allow-dir", str(folder))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: allowed directory {folder} contains"), result.stderr


def test_allowed_directories_from_the_environment_split_like_path():
    value = os.pathsep.join(["/srv/a", "", "/srv/b"])
    assert settings_from_env({"SLUICE_ALLOW_DIRS": value}).allow_dirs == ("/srv/a", "/srv/b")
    assert settings_from_env({}).allow_dirs == ()


@pytest.mark.parametrize(
    "read", ["glob('state/*')", "read_text('state/build.lock')", "read_blob('state/*.duckdb')"]
)
def test_a_state_dir_inside_the_project_is_excluded_even_when_not_hidden(tmp_path, read):
    project = tmp_path / "project"
    (project / "apis").mkdir(parents=True)
    (project / "apis" / "peek.yaml").write_text(f"type: api\nsql: SELECT count(*) AS n FROM {read}\n")
    client = Client(create_app(Settings(project_dir=str(project), state_dir=str(project / "state"))))
    body = assert_error(client.get(BASE_URL + "peek"), 400, "Permission Error")
    assert str(project / "state") in body["error"]
