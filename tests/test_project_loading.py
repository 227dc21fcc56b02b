"""Project loading: variables and their precedence, model files of every kind, the template context."""

import json

from tests.conftest import BASE_URL


def test_variables_rill_yaml_then_dotenv_then_command_line(project_client):
    client = project_client("variables", env_overrides={"overridden_by_flag": "flag"}, environment="prod")
    assert json.loads(client.get(BASE_URL + "variables").get_data()) == [{
        "from_yaml": "yaml", "dotenv": "dotenv", "flag": "flag", "quoted": "with spaces", "old_style": "vars",
        "environment": "prod", "dev": "not dev",
    }]


def test_yaml_models_sql_models_and_ref(project_client):
    rows = json.loads(project_client("variables").get(BASE_URL + "models").get_data())
    assert rows == [{"labels": ["yaml", "yaml", "yaml"], "doubled": 6}]
