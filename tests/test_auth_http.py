"""Auth through a real `python server.py --auth` process: tokens, JWTs, access rules, cloud routes, CORS, logs.

The server serves `tests/projects/secured` with a JWT secret and audience, a token file written by the
`token`/`service` command lines, one organization/project name and one CORS origin.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import (
    PROJECTS,
    ROOT,
    assert_error,
    assert_unauthenticated,
    free_port,
    run_sluice,
    start,
    wait_until_up,
)
from tests.helpers.auth import AUDIENCE, SECRET, a_jwt, bearer, launch
from tests.helpers.http import Reply, fetch

ORIGIN = "https://app.example.com"
ORG, PROJECT = "acme", "bids"
BASE = "/v1/instances/default/api/"
CLOUD = f"/v1/organizations/{ORG}/projects/{PROJECT}/runtime/api/"
NO_BEARER = "no bearer token found in authorization header"
INVALID = "invalid token"


def cli(*argv: str, tokens: str) -> str:
    """Run `python server.py token|service ...` and return its stdout (the new token, for issue/create)."""
    done = run_sluice(*argv, "--tokens", tokens, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def token_id(tokens: str, name: str) -> str:
    records = json.loads(cli("token", "list", "--json", tokens=tokens)) + json.loads(
        cli("service", "list", "--json", tokens=tokens)
    )
    return next(record["id"] for record in records if record["name"] == name)


@dataclass
class Server:
    base: str
    log_path: str
    tokens_path: str
    tokens: dict[str, str]

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8") as log:
            return log.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("auth-http")
    tokens_path = str(tmp / "tokens.json")
    tokens = {
        "admin": cli(
            "token",
            "issue",
            "--display-name",
            "Ana",
            "--email",
            "ana@acme.com",
            "--admin",
            tokens=tokens_path,
        ),
        "member": cli("token", "issue", "--display-name", "Bo", "--email", "bo@acme.com", tokens=tokens_path),
        "service": cli(
            "service",
            "create",
            "reports",
            "--attributes",
            json.dumps({"customer_id": "o'brien", "company": "Macy's"}),
            tokens=tokens_path,
        ),
        "revoked": cli(
            "token", "issue", "--display-name", "Gone", "--email", "gone@acme.com", tokens=tokens_path
        ),
    }
    cli("token", "revoke", token_id(tokens_path, "Gone"), tokens=tokens_path)
    env = {"SLUICE_JWT_SECRET": SECRET, "SLUICE_JWT_AUDIENCE": AUDIENCE, "SLUICE_TOKENS": tokens_path}
    process, base, log_path = launch(
        "secured", tmp, ["--org", ORG, "--project-name", PROJECT, "--cors-origin", ORIGIN], env
    )
    yield Server(base, log_path, tokens_path, tokens)
    process.terminate()
    process.wait(timeout=20)


# --- 401: every way a caller can fail to authenticate ------------------------------------------------------

UNAUTHENTICATED = [
    # (case, Authorization header or None, message)
    ("no header", None, NO_BEARER),
    ("basic scheme", "Basic YW5hOnNlY3JldA==", NO_BEARER),
    ("bearer without token", "Bearer", NO_BEARER),
    ("two words", "Bearer a b", NO_BEARER),
    ("garbage", "Bearer not-a-token", INVALID),
    ("wrong signature", "Bearer " + a_jwt(secret="another-secret-that-is-long-enough-000"), INVALID),
    ("expired", "Bearer " + a_jwt(expires_in=-3600), INVALID),
    ("wrong audience", "Bearer " + a_jwt(audience="someone-else"), INVALID),
    ("no audience", "Bearer " + a_jwt(audience=None), INVALID),
    ("unknown opaque token", "Bearer sluice_usr_" + "A" * 43, INVALID),
    (
        "unsigned",
        "Bearer " + jwt.encode({"exp": int(time.time()) + 600, "aud": AUDIENCE}, "", algorithm="none"),
        INVALID,
    ),
]


@pytest.mark.parametrize("route", [BASE, CLOUD])
@pytest.mark.parametrize("case, header, message", UNAUTHENTICATED, ids=[row[0] for row in UNAUTHENTICATED])
def test_bad_or_missing_credentials_are_401(server, route, case, header, message):
    reply = fetch(server.base, route + "open", {"Authorization": header} if header else {})
    assert_unauthenticated(reply, message)


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", BASE + "nope", None),
        ("GET", "/v1/instances/other/api/open", None),
        ("POST", BASE + "open", b"{not json"),
        ("GET", "/v1/organizations/other/projects/other/runtime/api/open", None),
        ("POST", CLOUD + "nope", b"[1]"),
    ],
)
def test_without_a_token_nothing_else_is_revealed(server, method, path, body):
    assert_unauthenticated(fetch(server.base, path, method=method, data=body), NO_BEARER)


@pytest.mark.parametrize("api", ["open", "nope"])
def test_a_revoked_token_is_401_like_any_other(server, api):
    assert_unauthenticated(fetch(server.base, BASE + api, bearer(server.tokens["revoked"])), INVALID)


def test_revoking_takes_effect_on_the_running_server(server):
    token = cli("service", "create", "short-lived", tokens=server.tokens_path)
    assert fetch(server.base, BASE + "open", bearer(token)).status_code == 200
    cli("service", "revoke", token_id(server.tokens_path, "short-lived"), tokens=server.tokens_path)
    assert_unauthenticated(fetch(server.base, BASE + "open", bearer(token)), INVALID)


@pytest.mark.parametrize("path", ["/v1/ping", "/v1/health"])
def test_ping_and_health_need_no_token(server, path):
    assert fetch(server.base, path).status_code == 200


# --- access rules: users that differ in one attribute ------------------------------------------------------

ACCESS = [
    # (api, JWT claims, status); rows for one API differ in one attribute
    ("open", {}, 200),
    ("unguarded", {}, 200),
    ("closed", {"admin": True}, 403),
    ("admins", {"admin": True}, 200),
    ("admins", {"admin": False}, 403),
    ("admins", {}, 403),  # no such attribute: `<no value>` is not a boolean
    ("admins", {"attr": {"admin": True}}, 200),  # Rill's runtime JWTs carry attributes in `attr`
    ("acme", {"domain": "acme.com"}, 200),
    ("acme", {"domain": "acme.co"}, 403),
    ("acme", {"domain": "' = '' OR 'acme.com"}, 403),  # quotes in an attribute are data
    ("enterprise", {"tier": "enterprise"}, 200),
    ("enterprise", {"tier": "pro"}, 403),
    ("partners", {"domain": "partner.io"}, 200),  # compared with `.env.partner_domain`
    ("partners", {"domain": "partner.com"}, 403),
    ("quoted", {"company": "Macy's"}, 200),
    ("quoted", {"company": "Macys"}, 403),
    ("quoted", {"company": "x' OR 'a'='a"}, 403),
    ("sales", {"groups": ["support", "sales"]}, 200),
    ("sales", {"groups": ["support", "sales-eu"]}, 403),
    ("sales", {"groups": "sales"}, 403),  # a string is not a list of groups
    ("not_boolean", {"domain": "acme.com"}, 403),  # length(...) is a number, not a boolean
    ("proxy_closed", {"admin": True}, 200),  # the proxy's own rule is checked ...
    ("proxy_closed", {"admin": False}, 403),
    ("to_closed", {"admin": True}, 403),  # ... and so is the rule of the API it calls
]


@pytest.mark.parametrize("api, claims, status", ACCESS)
def test_access_rules(server, api, claims, status):
    reply = fetch(server.base, BASE + api, bearer(a_jwt(**claims)))
    if status == 200:
        assert reply.status_code == 200, reply.body
        assert reply.json() and "gate" in reply.json()[0]
    else:
        target = "closed" if api == "to_closed" else api
        body = assert_error(reply, 403, f'does not have access to api "{target}"')
        assert body == {"error": f'does not have access to api "{target}"'}


@pytest.mark.parametrize(
    "token, api, status",
    [
        ("admin", "admins", 200),
        ("member", "admins", 403),
        ("admin", "acme", 200),  # the domain attribute comes from the e-mail address
        ("service", "quoted", 200),
        ("service", "admins", 403),  # a viewer service is not an admin
    ],
)
def test_access_rules_with_opaque_tokens(server, token, api, status):
    reply = fetch(server.base, BASE + api, bearer(server.tokens[token]))
    if status == 200:
        assert reply.status_code == 200 and reply.json() == [{"gate": api}], reply.body
    else:
        message = f'does not have access to api "{api}"'
        assert assert_error(reply, 403, message) == {"error": message}


USER_VALUES = [
    # (api, how the caller authenticates, expected rows)
    ("my_revenue", {"customer_id": "acme"}, [{"customer_id": "acme", "revenue": 100}]),
    ("my_revenue", {"customer_id": "globex"}, [{"customer_id": "globex", "revenue": 200}]),
    ("my_revenue", {"customer_id": "x' OR '1'='1"}, []),
    ("my_revenue", "service", [{"customer_id": "o'brien", "revenue": 300}]),
    ("whoami", {"email": "cy@globex.com"}, [{"email": "cy@globex.com", "attributes": 2, "role": "member"}]),
    ("whoami", "admin", [{"email": "ana@acme.com", "attributes": 5, "role": "admin"}]),
]


@pytest.mark.parametrize("api, caller, rows", USER_VALUES)
def test_user_attributes_reach_templates_as_values(server, api, caller, rows):
    token = server.tokens[caller] if isinstance(caller, str) else a_jwt(**caller)
    reply = fetch(server.base, BASE + api, bearer(token))
    assert reply.status_code == 200, reply.body
    assert reply.json() == rows


# --- cloud-style routes ------------------------------------------------------------------------------------

CLOUD_ROUTES = [
    # (org, project, api, status, message)
    (ORG, PROJECT, "open", 200, None),
    ("other", PROJECT, "open", 404, 'organization "other" not found'),
    (ORG, "other", "open", 404, f'project "other" not found in organization "{ORG}"'),
    (ORG, PROJECT, "closed", 403, 'does not have access to api "closed"'),
    (ORG, PROJECT, "nope", 404, 'api with name "nope" not found'),
]


@pytest.mark.parametrize("org, project, api, status, message", CLOUD_ROUTES)
def test_cloud_style_routes(server, org, project, api, status, message):
    path = f"/v1/organizations/{org}/projects/{project}/runtime/api/{api}"
    reply = fetch(server.base, path, bearer(a_jwt()))
    if status == 200:
        assert reply.status_code == 200 and reply.json() == [{"gate": "open"}]
    else:
        assert_error(reply, status, message)


# --- CORS --------------------------------------------------------------------------------------------------


def preflight(server, origin: str) -> Reply:
    return fetch(
        server.base,
        BASE + "open",
        {
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        "OPTIONS",
    )


def test_preflight_from_a_listed_origin_needs_no_token(server):
    reply = preflight(server, ORIGIN)
    assert reply.status_code == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]
    assert "GET" in reply.headers["Access-Control-Allow-Methods"]
    assert "Origin" in reply.headers["Vary"]


def test_preflight_from_an_unlisted_origin_is_refused(server):
    reply = preflight(server, "https://evil.example.com")
    assert_error(reply, 403, 'origin "https://evil.example.com" is not allowed')
    assert "Access-Control-Allow-Origin" not in reply.headers


@pytest.mark.parametrize(
    "origin, headers, status, allowed",
    [
        (ORIGIN, bearer(a_jwt()), 200, True),
        (ORIGIN, {}, 401, True),  # a browser client can read why it failed
        ("https://evil.example.com", bearer(a_jwt()), 200, False),
        ("https://app.example.com.evil.com", bearer(a_jwt()), 200, False),
    ],
)
def test_cors_header_on_normal_responses(server, origin, headers, status, allowed):
    reply = fetch(server.base, BASE + "open", {"Origin": origin, **headers})
    if status == 200:
        assert reply.status_code == 200 and reply.json() == [{"gate": "open"}], reply.body
    else:
        assert_unauthenticated(reply, NO_BEARER)
    assert reply.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)


# --- logs --------------------------------------------------------------------------------------------------


def test_tokens_never_reach_the_logs(server):
    presented = [
        a_jwt(admin=True),
        a_jwt(secret="another-secret-that-is-long-enough-000"),
        a_jwt(expires_in=-3600),
        server.tokens["revoked"],
        server.tokens["admin"],
        "sluice_svc_" + "Z" * 43,
    ]
    statuses = [
        fetch(server.base, path, bearer(token)).status_code
        for token in presented
        for path in (BASE + "admins", CLOUD + "closed", BASE + "nope")
    ]
    assert {200, 401, 403, 404} <= set(statuses)
    log = server.log()
    assert "authentication failed: invalid token" in log and "/api/admins" in log  # the capture works
    for token in presented:
        for piece in [token, *token.split(".")]:
            assert len(piece) < 16 or piece not in log


# --- start-up checks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_public_host_with_auth_off_is_refused(host, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "SLUICE_AUTH"}
    secured = str(PROJECTS / "secured")
    done = run_sluice(
        secured, "--host", host, "--port", str(free_port()), env={**env, "SLUICE_STATE_DIR": str(tmp_path)}
    )
    assert done.returncode == 2
    assert f"refusing to serve on {host} with auth off" in done.stderr


def test_public_host_with_auth_off_serves_when_explicitly_allowed(tmp_path):
    port = free_port()
    command = [
        sys.executable,
        "server.py",
        str(PROJECTS / "secured"),
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        "--allow-public-without-auth",
        "--no-reload",
    ]
    env = {**{k: v for k, v in os.environ.items() if k != "SLUICE_AUTH"}, "SLUICE_STATE_DIR": str(tmp_path)}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        reply = fetch(f"http://127.0.0.1:{port}", BASE + "closed")
        assert reply.status_code == 200 and reply.json() == [{"gate": "closed"}]
    finally:
        process.terminate()
        process.wait(timeout=20)


# --- auth off: Rill's local mode ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "api, rows",
    [
        ("closed", [{"gate": "closed"}]),
        ("admins", [{"gate": "admins"}]),
        ("not_boolean", [{"gate": "not_boolean"}]),
        ("to_closed", [{"gate": "closed"}]),
        ("whoami", [{"email": "<no value>", "attributes": 0, "role": "member"}]),
        ("my_revenue", []),
    ],
)
@pytest.mark.parametrize("headers", [{}, bearer("whatever"), bearer(a_jwt(admin=True, email="x@y.z"))])
def test_auth_off_ignores_tokens_and_rules(project_client, api, rows, headers):
    response = project_client("secured").get(BASE + api, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_data()) == rows


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SLUICE_JWT_SECRET": "short"}, "the JWT secret must be at least 32 bytes long"),
        ({"SLUICE_JWT_SECRET": SECRET, "SLUICE_JWT_PUBLIC_KEY": "key.pem"}, "not both"),
        ({"SLUICE_JWT_PUBLIC_KEY": "/no/such/key.pem"}, "cannot read JWT public key /no/such/key.pem"),
        (
            {"SLUICE_JWT_AUDIENCE": AUDIENCE},
            "SLUICE_JWT_* settings need SLUICE_JWT_SECRET or SLUICE_JWT_PUBLIC_KEY",
        ),
        (
            {"SLUICE_JWT_SECRET": SECRET, "SLUICE_JWT_ALGORITHMS": "RS256"},
            "JWT algorithm RS256 cannot be used",
        ),
    ],
)
def test_unusable_auth_settings_stop_the_server_with_a_clear_error(env, message, tmp_path):
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SLUICE_JWT_")}
    secured = str(PROJECTS / "secured")
    done = run_sluice(
        secured, "--port", str(free_port()), "--auth", env={**clean, **env, "SLUICE_STATE_DIR": str(tmp_path)}
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert "Traceback" not in done.stderr


def test_rs256_jwts_from_a_public_key(tmp_path):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "key.pem").write_bytes(pem)
    env = {"SLUICE_JWT_PUBLIC_KEY": str(tmp_path / "key.pem"), "SLUICE_TOKENS": str(tmp_path / "tokens.json")}
    process, base, _ = launch("secured", tmp_path, [], env)
    claims = {"admin": True, "exp": int(time.time()) + 600}
    try:
        signed = jwt.encode(claims, private_key, algorithm="RS256")
        assert fetch(base, BASE + "admins", bearer(signed)).json() == [{"gate": "admins"}]
        not_admin = bearer(jwt.encode({**claims, "admin": False}, private_key, algorithm="RS256"))
        assert_error(fetch(base, BASE + "admins", not_admin), 403, 'does not have access to api "admins"')
        confused = forge_hs256(claims, pem)  # the public key used as an HMAC secret
        assert_unauthenticated(fetch(base, BASE + "admins", bearer(confused)), INVALID)
    finally:
        process.terminate()
        process.wait(timeout=20)


def forge_hs256(claims: dict, secret: bytes) -> str:
    """An HS256 token signed by hand (PyJWT refuses to use a PEM key as an HMAC secret)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


def test_gunicorn_takes_auth_cors_and_cloud_names_from_the_environment(tmp_path):
    port = free_port()
    env = {
        "SLUICE_PROJECT": str(PROJECTS / "secured"),
        "SLUICE_AUTH": "on",
        "SLUICE_JWT_SECRET": SECRET,
        "SLUICE_TOKENS": str(tmp_path / "tokens.json"),
        "SLUICE_ORG": ORG,
        "SLUICE_PROJECT_NAME": PROJECT,
        "SLUICE_CORS_ORIGINS": f"https://other.example, {ORIGIN}",
    }
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "server:create_app()"]
    process = start(command, port, tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    try:
        assert_error(fetch(base, BASE + "admins"), 401, NO_BEARER)
        reply = fetch(base, CLOUD + "admins", {**bearer(a_jwt(audience=None, admin=True)), "Origin": ORIGIN})
        assert reply.json() == [{"gate": "admins"}] and reply.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert_error(fetch(base, BASE + "admins", bearer(a_jwt(audience=None))), 403, "admins")
        assert_error(
            fetch(base, CLOUD.replace(ORG, "other") + "admins", bearer(a_jwt(audience=None))), 404, "other"
        )
    finally:
        process.terminate()
        process.wait(timeout=20)
