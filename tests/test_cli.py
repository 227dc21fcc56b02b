"""The command line and the project lifecycle: `--check`, reloading on change, settings from the environment."""

import json
import shutil
import subprocess
import sys

import pytest
from werkzeug.test import Client

from project.settings import Settings, SettingsError, settings_from_env
from server import create_app, parse_command_line, settings_from_command_line
from tests.conftest import EXAMPLE, PROJECTS, ROOT


def check(project) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "server.py", "--check", str(project)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_lists_every_problem_with_its_place_and_fails():
    result = check(PROJECTS / "basic")
    assert result.returncode == 1
    for expected in (
        "apis/broken_template.yaml:4:9: unclosed action",
        "apis/broken_yaml.yaml:3:6: invalid YAML",
        "apis/ddl.yaml: only read-only queries are allowed, not DROP",
        'warning: apis/loop_a.yaml: infinite recursion detected: the API "loop_b" proxies to itself',
        "apis/two_resolvers.yaml: the API definition specifies more than one resolver",
    ):
        assert expected in result.stdout


def test_check_passes_the_example_project():
    result = check(EXAMPLE)
    assert result.returncode == 0, result.stdout
    assert "0 errors" in result.stdout


def test_check_also_answers_to_the_spelling_without_dashes():
    result = subprocess.run(
        [sys.executable, "server.py", "check", str(PROJECTS / "cycle")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and "model dependency cycle" in result.stdout


def test_json_logs_are_one_object_per_line():
    import logging

    from serving.logs import JsonFormatter as JsonLogFormatter

    record = logging.LogRecord("sluice", logging.WARNING, __file__, 1, "query failed: %s", ("boom",), None)
    assert json.loads(JsonLogFormatter().format(record))["message"] == "query failed: boom"


def test_check_reports_a_model_cycle():
    result = check(PROJECTS / "cycle")
    assert result.returncode == 1
    assert "model dependency cycle: a -> b -> a" in result.stdout


def test_edits_are_served_after_a_reload_and_a_broken_file_breaks_only_itself(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "basic", project)
    app = create_app(Settings(project_dir=str(project), state_dir=str(tmp_path / "state"), reload=True))
    client = Client(app)
    assert json.loads(client.get("/v1/instances/default/api/echo?x=1").get_data()) == [{"x": "1"}]
    (project / "apis" / "echo.yaml").write_text("type: api\nsql: SELECT 'changed {{ .args.x }}' AS x\n")
    (project / "apis" / "by_domain.yaml").write_text("type: api\nsql: SELECT {{ broken\n")
    app.watcher.check()  # what the watcher's thread does each second (waits for a check it has begun)
    assert json.loads(client.get("/v1/instances/default/api/echo?x=1").get_data()) == [{"x": "changed 1"}]
    assert client.get("/v1/instances/default/api/by_domain").status_code == 500
    assert client.get("/v1/instances/default/api/limited?n=1").status_code == 200


@pytest.mark.parametrize(
    "env, field, value",
    [
        ({"SLUICE_PROJECT": "/srv/p"}, "project_dir", "/srv/p"),
        ({"SLUICE_ROW_CAP": "50"}, "row_cap", 50),
        ({"SLUICE_QUERY_TIMEOUT": "2.5"}, "query_timeout", 2.5),
        ({"SLUICE_AUTH": "on"}, "auth", True),
        ({"SLUICE_DUCKDB_THREADS": "1"}, "duckdb_threads", 1),
        ({}, "duckdb_threads", None),
        ({"SLUICE_MAX_QUERIES": "8"}, "max_queries", 8),
        ({}, "max_queries", 16),
        (
            {"SLUICE_CORS_ORIGINS": "https://a.example, https://b.example"},
            "cors_origins",
            ("https://a.example", "https://b.example"),
        ),
        ({}, "auth", False),
        ({"SLUICE_AUTH": " YES "}, "auth", True),
        ({"SLUICE_AUTH": "0"}, "auth", False),
        ({"SLUICE_AUTH": "off"}, "auth", False),
        ({"SLUICE_RELOAD": "true"}, "reload", True),
        ({}, "environment", "prod"),
        ({"SLUICE_PORT": ""}, "port", 9009),
        ({"SLUICE_STATE_DIR": ""}, "state_dir", None),
        ({"SLUICE_TOKENS": "/etc/t.json"}, "tokens_path", "/etc/t.json"),
        ({"SLUICE_JWT_SECRET": "s" * 32}, "jwt_secret", "s" * 32),
        ({"SLUICE_JWT_PUBLIC_KEY": "/k.pem"}, "jwt_public_key", "/k.pem"),
        ({"SLUICE_JWT_ALGORITHMS": "RS256, ,PS256"}, "jwt_algorithms", ("RS256", "PS256")),
        ({"SLUICE_JWT_AUDIENCE": "sluice"}, "jwt_audience", "sluice"),
        ({"SLUICE_JWT_ISSUER": ""}, "jwt_issuer", None),
    ],
)
def test_settings_from_environment(env, field, value):
    assert getattr(settings_from_env(env), field) == value


@pytest.mark.parametrize(
    "env, argv, expected",
    [
        ({}, ["p"], {"port": 9009, "auth": False, "environment": "dev", "reload": True}),
        ({"SLUICE_PORT": "7000", "SLUICE_AUTH": "on"}, ["p"], {"port": 7000, "auth": True}),
        ({"SLUICE_PORT": "7000"}, ["p", "--port", "7001", "--no-reload"], {"port": 7001, "reload": False}),
        ({"SLUICE_JWT_SECRET": "s" * 32}, ["p"], {"jwt_secret": "s" * 32, "project_dir": "p"}),
        ({"SLUICE_CORS_ORIGINS": "https://a"}, ["p"], {"cors_origins": ("https://a",)}),
        (
            {"SLUICE_CORS_ORIGINS": "https://a"},
            ["p", "--cors-origin", "https://b"],
            {"cors_origins": ("https://b",)},
        ),
        ({}, ["p", "--env", "a=b=c"], {"environment": "dev", "env_overrides": {"a": "b=c"}}),
        ({"SLUICE_ENVIRONMENT": "prod"}, ["p"], {"environment": "prod"}),
        ({"SLUICE_ENVIRONMENT": "prod"}, ["p", "--environment", "dev"], {"environment": "dev"}),
        ({"SLUICE_RELOAD": "off"}, ["p"], {"reload": False}),
        ({"SLUICE_RELOAD": "off"}, ["p", "--reload"], {"reload": True}),
        ({"SLUICE_GZIP": "on"}, ["p", "--no-gzip"], {"gzip": False}),
        ({}, ["p", "--allow-dir", "/a", "--allow-dir", "/b"], {"allow_dirs": ("/a", "/b")}),
        ({"SLUICE_ALLOW_DIRS": "/a:/b"}, ["p"], {"allow_dirs": ("/a", "/b")}),
        ({}, ["p", "--log-level", "debug"], {"log_level": "DEBUG"}),
        ({"SLUICE_GRACE_SECONDS": "5"}, ["p"], {"grace_seconds": 5.0}),
        ({}, [], {"project_dir": ".", "max_queries": 16}),
        ({"SLUICE_PROJECT": "/srv/p"}, [], {"project_dir": "/srv/p"}),
    ],
)
def test_the_command_line_lays_flags_over_the_environment(env, argv, expected):
    settings = settings_from_command_line(parse_command_line(argv), env)
    assert {name: getattr(settings, name) for name in expected} == expected


def test_serving_on_a_public_address_without_auth_is_refused():
    result = subprocess.run(
        [sys.executable, "server.py", str(EXAMPLE), "--host", "0.0.0.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "with auth off" in result.stderr


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SLUICE_PORT": "abc"}, "SLUICE_PORT='abc': not a valid int"),
        ({"SLUICE_AUTH": "maybe"}, "SLUICE_AUTH='maybe': must be on or off"),
        ({"SLUICE_LOG_FORMAT": "xml"}, "SLUICE_LOG_FORMAT='xml': must be one of text, json"),
        ({"SLUICE_QUERY_TIMEOUT": "soon"}, "SLUICE_QUERY_TIMEOUT='soon': not a valid float"),
    ],
)
def test_a_variable_that_is_not_a_value_of_its_kind_is_refused_by_name(env, message):
    with pytest.raises(SettingsError, match=message):
        settings_from_env(env)
