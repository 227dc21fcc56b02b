"""Partitioned and incremental models (Rill's `partitions:`, `incremental:`, `output.incremental_strategy`,
`pre_exec`/`post_exec`) through HTTP on `tests/projects/partitions`, with the cases of Rill's
runtime/resolvers/testdata/models_incremental_duckdb.yaml and more."""

from __future__ import annotations

import json
import shutil

import pytest
from werkzeug.test import Client

from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, PROJECTS, assert_error

ANSWERS = [
    # Rill's two cases: ten partitions appended, or merged on their key
    ("append_stats", [{"count": 10, "min": 0, "max": 9}]),
    ("merge_stats", [{"count": 10, "min": 0, "max": 9}]),
    # merge: partitions 0..4 on key n % 2, the last partition of each key wins
    ("latest", [{"parity": 0, "latest": 4}, {"parity": 1, "latest": 3}]),
    # glob: one partition per file, the file's path in `.partition.path`
    (
        "files",
        [
            {"id": 1, "v": "a", "file": "first.csv"},
            {"id": 2, "v": "b", "file": "first.csv"},
            {"id": 3, "v": "c", "file": "second.csv"},
        ],
    ),
]


@pytest.mark.parametrize(("api", "rows"), ANSWERS)
def test_partitioned_models_hold_every_partition(project_client, api, rows):
    response = project_client("partitions").get(BASE_URL + api)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_data(as_text=True)) == rows


def test_a_glob_outside_the_sandbox_finds_nothing_and_fails_only_its_model(project_client):
    response = project_client("partitions").get(BASE_URL + "outside")
    assert_error(response, 500, "model 'outside' failed to build: partitions: found no partitions")


def test_pre_exec_follows_the_model_rules(project_client):
    health = json.loads(project_client("partitions").get("/v1/health").get_data(as_text=True))
    assert "only read-only queries are allowed, not ATTACH" in json.dumps(health)


def test_a_new_file_is_a_new_partition_after_a_reload(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "partitions", project)
    state = tmp_path / "state"

    def rows():
        app = create_app(Settings(project_dir=str(project), state_dir=str(state)))
        return json.loads(Client(app).get(BASE_URL + "files").get_data(as_text=True))

    assert [row["id"] for row in rows()] == [1, 2, 3]
    (project / "data" / "parts" / "third.csv").write_text("id,v\n4,d\n")
    assert [row["id"] for row in rows()] == [1, 2, 3, 4]


LOAD_ERRORS = [
    # (model YAML, the load error)
    ({"sql": "SELECT 1", "partitions": {"sql": "SELECT 1", "glob": "x"}}, "exactly one of sql: or glob:"),
    ({"sql": "SELECT 1", "partitions": "x"}, "exactly one of sql: or glob:"),
    ({"sql": "SELECT 1", "output": {"incremental_strategy": "upsert"}}, "must be append or merge"),
    (
        {"sql": "SELECT 1", "partitions": {"sql": "SELECT 1"}, "output": {"incremental_strategy": "merge"}},
        "needs output.unique_key",
    ),
    ({"sql": "SELECT 1", "pre_exec": ["SELECT 1"]}, "pre_exec: must be SQL text"),
]


@pytest.mark.parametrize(("document", "message"), LOAD_ERRORS)
def test_partition_settings_are_checked_when_loading(tmp_path, document, message):
    import yaml

    from project.errors import ProjectError
    from project.loading.models import read_model

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text(yaml.safe_dump({"type": "model", **document}))
    with pytest.raises(ProjectError, match=message):
        read_model(str(tmp_path), "models/m.yaml")
