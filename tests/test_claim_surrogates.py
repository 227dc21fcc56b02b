"""Lone surrogates in a caller's attributes (a JWT claim `"\\ud800"`, a token file edited by hand, a token
command's undecodable bytes) become U+FFFD, as Go's decoder (Rill's) makes them: the attribute then binds as
a query parameter, reads in an access rule and prints in an error like any text. Before, the query failed
with DuckDB's `cannot encode str as UTF-8` blamed on the API's file."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from project.auth.tokens import TokenStore, TokenStoreError, service_attributes
from project.encoding.surrogates import without_lone_surrogates
from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, PROJECTS

SECRET = "a-secret-for-the-claim-surrogate-tests-0123456789"
HALVES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT = st.text(alphabet=st.one_of(HALVES, st.characters(max_codepoint=0x2FF), st.just("'")), max_size=12)


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    from werkzeug.test import Client

    tmp = tmp_path_factory.mktemp("claims")
    tokens = TokenStore(str(tmp / "tokens.json"))
    app = create_app(
        Settings(
            project_dir=str(PROJECTS / "secured"),
            state_dir=str(tmp / "state"),
            auth=True,
            jwt_secret=SECRET,
            tokens_path=tokens.path,
            cache_bytes=0,
        )
    )
    return Client(app), tokens


def decoded(value: str) -> str:
    """What a JSON decoder reads back (`\\ud83d\\ude00` pairs join) with each lone half made U+FFFD."""
    return without_lone_surrogates(json.loads(json.dumps(value)))


def whoami(client, token: str):
    return client.get(BASE_URL + "whoami", headers={"Authorization": f"Bearer {token}"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=TEXT, key=TEXT)
def test_a_jwt_claim_with_lone_surrogates_binds_as_its_replacement(secured, email, key):
    client, _ = secured
    claims = {
        "email": email,
        "exp": int(time.time()) + 600,
        **({key: 1} if key not in ("email", "exp") else {}),
    }
    response = whoami(client, jwt.encode(claims, SECRET, algorithm="HS256"))  # PyJWT writes `\\udXXX` escapes
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json[0]["email"] == decoded(email)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(domain=TEXT)
def test_an_access_rule_reads_a_claim_with_lone_surrogates(secured, domain):
    """`acme` lets in callers whose domain is acme.com: any other domain, halves included, is a 403."""
    client, _ = secured
    token = jwt.encode({"domain": domain, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    response = client.get(BASE_URL + "acme", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.json == {"error": 'does not have access to api "acme"'}


@pytest.mark.parametrize("email", ["\ud800", "a\udc00b", "\udcff\udcfe"])
def test_an_opaque_tokens_attributes_with_lone_surrogates_bind_as_their_replacement(secured, email):
    """A service token whose attributes came from a command line's undecodable bytes (surrogateescape)."""
    client, tokens = secured
    name = f"svc-{len(tokens.records())}-\udcff"
    token, record = tokens.create_service(name, "viewer", {"email": email})
    assert record.name == name.replace("\udcff", "\ufffd") and record.attributes["email"] == decoded(email)
    with pytest.raises(TokenStoreError, match="already exists"):
        tokens.create_service(name, "viewer")
    response = whoami(client, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json[0]["email"] == decoded(email)


def test_a_token_file_edited_by_hand_with_an_escaped_half_is_read_as_its_replacement(secured):
    client, tokens = secured
    token, _ = tokens.create_service("by-hand", "viewer", {"email": "placeholder"})
    with open(tokens.path, encoding="utf-8") as file:
        text = file.read()
    with open(tokens.path, "w", encoding="utf-8") as file:
        file.write(text.replace('"placeholder"', '"x\\ud800y"'))
    response = whoami(client, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json[0]["email"] == "x\ufffdy"


def test_service_attributes_keep_their_text_otherwise():
    assert service_attributes("s", "viewer", {"email": "a\U0001f600b"})["email"] == "a\U0001f600b"


def test_a_user_tokens_name_and_email_from_undecodable_bytes_bind_as_their_replacement(secured):
    client, tokens = secured
    token, record = tokens.issue_user_token("Bo\udcff", email="bo\udcfe@acme.com")
    assert (record.name, record.attributes["email"]) == ("Bo\ufffd", "bo\ufffd@acme.com")
    assert whoami(client, token).json[0]["email"] == "bo\ufffd@acme.com"
