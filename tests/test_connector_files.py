"""Connector files and variables (no server needed): Rill's property names, templates over `.env`, the
`connector.<name>.<property>` variables, dsn-or-properties, and secrets kept out of every message."""

from __future__ import annotations

import pytest

from project.engines.clickhouse import client_arguments
from project.engines.mysql import connection_arguments
from project.engines.pooled import redact
from project.engines.postgres import conninfo
from project.loading.connectors import load_connectors
from project.loading.loader import load_project
from project.settings import Settings

SECRET = "s3cr3t-Pa55"


def write(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    "text, env, expected",
    [
        (
            "type: connector\ndriver: postgres\nhost: db\nport: 5433\nuser: u\npassword: '{{ .env.PW }}'\ndbname: d\n",
            {"PW": SECRET},
            {"host": "db", "port": 5433, "user": "u", "password": SECRET, "dbname": "d"},
        ),
        (
            "type: connector\ndriver: postgres\nhost: db\npassword: '{{ .env.connector.wh.password }}'\n",
            {"connector.wh.password": SECRET},
            {"host": "db", "password": SECRET},
        ),
        (  # a variable named connector.<name>.<property> sets it with no template, and wins
            "type: connector\ndriver: mysql\nhost: db\n",
            {"connector.wh.host": "other", "connector.wh.password": SECRET},
            {"host": "other", "password": SECRET},
        ),
        (
            "type: connector\ndriver: clickhouse\nhost: db\ndev:\n  host: dev-db\n",
            {},
            {"host": "dev-db"},
        ),
    ],
)
def test_properties_come_from_the_file_templates_and_variables(tmp_path, text, env, expected):
    write(tmp_path, {"connectors/wh.yaml": text})
    errors: list = []
    configs = load_connectors(str(tmp_path), ["connectors/wh.yaml"], env, "dev", errors)
    assert errors == []
    assert dict(configs["wh"].properties) == expected
    assert SECRET not in repr(configs["wh"])


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "type: connector\ndriver: postgres\ndsn: postgresql://u:p@h/d\nhost: h\n",
            "either dsn or the separate",
        ),
        ("type: connector\ndriver: oracle\n", "driver must be one of"),
        ("type: connector\ndriver: postgres\npassword: '{{ .env.PW | nosuch }}'\n", "property 'password'"),
    ],
)
def test_bad_connector_files_are_load_errors_with_their_place(tmp_path, text, message):
    write(tmp_path, {"connectors/wh.yaml": text})
    errors: list = []
    load_connectors(str(tmp_path), ["connectors/wh.yaml"], {}, "dev", errors)
    assert len(errors) == 1 and message in errors[0].message and errors[0].path == "connectors/wh.yaml"


def test_driver_arguments_from_dsn_and_properties():
    assert conninfo({"dsn": "postgresql://u:p@h:5/d"}) == "postgresql://u:p@h:5/d"
    assert "dbname=d" in conninfo({"host": "h", "dbname": "d"})
    assert connection_arguments({"dsn": "mysql://u:p%40@h:3307/db"}) == {
        "host": "h",
        "port": 3307,
        "user": "u",
        "password": "p@",
        "database": "db",
    }
    assert connection_arguments({"dsn": "u:p@tcp(h:3308)/db"})["port"] == 3308
    assert client_arguments({"dsn": "clickhouse://u:p@h:9001/db"})["port"] == 9001
    assert client_arguments({"host": "h", "username": "u", "ssl": "true"})["secure"] is True


@pytest.mark.parametrize(
    "text",
    [
        f"connection to postgresql://u:{SECRET}@h:5432/d failed",
        f"bad dsn: host=h password={SECRET} dbname=d",
        f"Access denied for user 'u' (using password: {SECRET})",
    ],
)
def test_secrets_are_redacted(text):
    assert SECRET not in redact(text, [SECRET])
    assert SECRET not in redact(text.replace(SECRET, "x" + SECRET), []) or "://" not in text


def test_an_unknown_connector_is_the_apis_load_error_and_a_bad_dsn_never_shows(tmp_path):
    write(
        tmp_path,
        {
            "apis/a.yaml": "type: api\nconnector: nowhere\nsql: SELECT 1\n",
            "apis/b.yaml": "type: api\nconnector: broken\nsql: SELECT 1\n",
            "connectors/broken.yaml": f"type: connector\ndriver: postgres\ndsn: 'not a dsn {SECRET} ='\n",
        },
    )
    project = load_project(Settings(project_dir=str(tmp_path), state_dir=str(tmp_path / ".state")))
    messages = [str(error) for error in project.errors]
    assert any('apis/a.yaml: connector "nowhere" not found' in message for message in messages), messages
    assert any('connector "broken": invalid connection settings' in message for message in messages), messages
    assert all(SECRET not in message for message in messages)


@pytest.mark.parametrize("extra", ["postgres", "mysql", "clickhouse"])
def test_a_missing_driver_names_the_extra_to_install(extra):
    from project.engines.requirements import MissingDriverError, require

    with pytest.raises(MissingDriverError) as raised:
        require("sluice_no_such_driver_module", extra)
    assert f"pip install 'sluice[{extra}]'" in raised.value.message


@pytest.mark.parametrize(
    "dialect, sql",
    [
        ("clickhouse", "SELECT * FROM url('__sluice_arg_0__', CSV, 'a String')"),
        ("clickhouse", "SELECT * FROM remote('__sluice_arg_0__', default, items)"),
        ("clickhouse", "SELECT * FROM file('__sluice_arg_0__', CSV, 'a String')"),
        ("postgres", "SELECT pg_read_file('__sluice_arg_0__')"),
        ("mysql", "SELECT LOAD_FILE('__sluice_arg_0__')"),
    ],
)
def test_caller_values_cannot_choose_what_other_engines_read(dialect, sql):
    from project.errors import ArgumentError
    from project.sql.binding import compile_shape

    with pytest.raises(ArgumentError, match="file and table functions take no caller values"):
        compile_shape(sql, dialect, ("args.v",))
