"""Project loading: variables and their precedence, model files of every kind, the template context."""

import json

from tests.conftest import BASE_URL


def test_variables_rill_yaml_then_dotenv_then_command_line(project_client):
    client = project_client("variables", env_overrides={"overridden_by_flag": "flag"}, environment="prod")
    assert json.loads(client.get(BASE_URL + "variables").get_data()) == [
        {
            "from_yaml": "yaml",
            "dotenv": "dotenv",
            "flag": "flag",
            "quoted": "with spaces",
            "old_style": "vars",
            "environment": "prod",
            "dev": "not dev",
        }
    ]


def test_yaml_models_sql_models_and_ref(project_client):
    rows = json.loads(project_client("variables").get(BASE_URL + "models").get_data())
    assert rows == [{"labels": ["yaml", "yaml", "yaml"], "doubled": 6}]


def test_duckdb_threads_setting_reaches_the_serving_connection(project_client):
    database = project_client("variables", duckdb_threads=1).application.current_project().database
    cursor = database.cursor()
    assert cursor.execute("SELECT current_setting('threads')").fetchone()[0] == 1
