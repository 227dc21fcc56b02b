"""Tests of the `token` and `service` command lines, run as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from project.auth.tokens import SERVICE_PREFIX, USER_PREFIX, TokenStore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENTRY = "import sys; from cli.tokens import run_token_command; sys.exit(run_token_command(sys.argv[1:]))"


def sluice(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the token command line in a fresh interpreter from the repository root."""
    environment = {key: value for key, value in os.environ.items() if key != "SLUICE_TOKENS"}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *argv],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
        timeout=60,
    )


def stored(project) -> list[dict]:
    with open(project / ".sluice" / "tokens.json", encoding="utf-8") as file:
        return json.load(file)["tokens"]


def test_token_issue_prints_the_token_once_and_stores_its_hash(tmp_path):
    result = sluice(
        "token",
        "issue",
        "--project",
        str(tmp_path),
        "--display-name",
        "API Testing",
        "--email",
        "ana@example.com",
        "--admin",
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith(USER_PREFIX) and result.stdout == token + "\n"
    assert "cannot be shown again" in result.stderr and token not in result.stderr
    [record] = stored(tmp_path)
    assert record["kind"] == "user" and record["name"] == "API Testing" and record["revoked"] is False
    assert record["attributes"] == {
        "email": "ana@example.com",
        "domain": "example.com",
        "name": "API Testing",
        "admin": True,
        "groups": [],
    }
    assert token not in (tmp_path / ".sluice" / "tokens.json").read_text()
    assert (
        TokenStore(str(tmp_path / ".sluice" / "tokens.json")).lookup(token).attributes["email"]
        == "ana@example.com"
    )


def test_service_create_with_role_and_attributes(tmp_path):
    result = sluice(
        "service",
        "create",
        "my-api-service",
        "--project",
        str(tmp_path),
        "--project-role",
        "admin",
        "--attributes",
        '{"customer_id": "acme-corp"}',
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(SERVICE_PREFIX)
    [record] = stored(tmp_path)
    assert record["attributes"] == {"name": "my-api-service", "admin": True, "customer_id": "acme-corp"}


def test_list_shows_records_but_never_tokens_or_hashes(tmp_path):
    user_token = sluice("token", "issue", "--project", str(tmp_path), "--display-name", "dev").stdout.strip()
    service_token = sluice("service", "create", "svc", "--project", str(tmp_path)).stdout.strip()
    hashes = [record["hash"] for record in stored(tmp_path)]
    users, services = (sluice(group, "list", "--project", str(tmp_path)) for group in ("token", "service"))
    assert users.stdout.splitlines()[0] == "id\tkind\tname\tcreated\trevoked\tattributes"
    assert users.stdout.splitlines()[1].split("\t")[1:3] == ["user", "dev"]
    assert services.stdout.splitlines()[1].split("\t")[1:3] == ["service", "svc"]
    for secret in (user_token, service_token, *hashes):
        assert secret not in users.stdout + services.stdout


def test_list_json(tmp_path):
    sluice("service", "create", "svc", "--project", str(tmp_path), "--attributes", '{"tier": 2}')
    [listed] = json.loads(sluice("service", "list", "--project", str(tmp_path), "--json").stdout)
    assert set(listed) == {"id", "kind", "name", "created", "revoked", "attributes"}
    assert listed["attributes"] == {"name": "svc", "admin": False, "tier": 2}


def test_revoke_and_edit(tmp_path):
    token = sluice("service", "create", "svc", "--project", str(tmp_path)).stdout.strip()
    token_id = stored(tmp_path)[0]["id"]
    edited = sluice(
        "service", "edit", token_id, "--project", str(tmp_path), "--attributes", '{"customer_id": "globex"}'
    )
    assert edited.returncode == 0, edited.stderr
    assert stored(tmp_path)[0]["attributes"]["customer_id"] == "globex"
    revoked = sluice("service", "revoke", token_id, "--project", str(tmp_path))
    assert revoked.returncode == 0 and token_id in revoked.stdout
    assert stored(tmp_path)[0]["revoked"] is True
    assert TokenStore(str(tmp_path / ".sluice" / "tokens.json")).lookup(token) is None


@pytest.mark.parametrize(
    ("argv", "code", "stderr"),
    [
        (["service", "create", "svc", "--attributes", "{bad"], 2, "--attributes: not valid JSON"),
        (["service", "create", "svc", "--attributes", "[1, 2]"], 2, "must be a JSON object"),
        (["token", "edit", "x", "--attributes", "nope"], 2, "not valid JSON"),
        (["service", "create", "svc", "--attributes", '{"a": NaN}'], 2, "NaN is not a JSON value"),
        (["service", "create", "svc", "--project-role", "owner"], 2, "invalid choice"),
        (["token", "issue"], 2, "--display-name"),
        (["token", "revoke", "nope"], 1, 'no user token with id "nope"'),
        (["service", "edit", "nope", "--attributes", "{}"], 1, 'no service token with id "nope"'),
        (["token"], 2, "required"),
    ],
)
def test_errors(tmp_path, argv, code, stderr):
    result = sluice(*argv, "--project", str(tmp_path))
    assert result.returncode == code
    assert stderr in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / ".sluice" / "tokens.json").exists()


def test_token_commands_do_not_touch_service_tokens(tmp_path):
    sluice("service", "create", "svc", "--project", str(tmp_path))
    service_id = stored(tmp_path)[0]["id"]
    assert sluice("token", "revoke", service_id, "--project", str(tmp_path)).returncode == 1
    assert stored(tmp_path)[0]["revoked"] is False


@pytest.mark.parametrize("use_flag", [True, False])
def test_token_file_from_flag_or_environment(tmp_path, use_flag):
    token_file = tmp_path / "custom" / "tokens.json"
    options = ["--tokens", str(token_file)] if use_flag else []
    env = {} if use_flag else {"SLUICE_TOKENS": str(token_file)}
    result = sluice("token", "issue", "--project", str(tmp_path), "--display-name", "dev", *options, env=env)
    assert result.returncode == 0, result.stderr
    assert TokenStore(str(token_file)).lookup(result.stdout.strip()).attributes["name"] == "dev"
    assert not (tmp_path / ".sluice").exists()


def test_unwritable_token_file_is_a_clear_error(tmp_path):
    (tmp_path / "not-a-folder").write_text("")
    token_file = tmp_path / "not-a-folder" / "tokens.json"
    result = sluice("token", "issue", "--display-name", "dev", "--tokens", str(token_file))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert result.stdout == ""
