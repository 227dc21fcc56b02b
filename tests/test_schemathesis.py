"""Schemathesis against a live `python server.py`, driven by the server's own OpenAPI document.

For every API of the openapi fixture project it generates valid and invalid arguments and checks that no
answer is a 5xx and that every answer matches what the document declares (status, content type, row schema).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from tests.conftest import PROJECTS, serving

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def live_schema(tmp_path_factory):
    """The document of a live server on a loopback port; the server stops after the module."""
    with serving(PROJECTS / "openapi", tmp_path_factory.mktemp("schemathesis")) as base:
        yield schemathesis.openapi.from_url(f"{base}/v1/instances/default/api/openapi")


POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# (path, method, mode): invalid data only where there are declared arguments to break
CASES = [
    ("/echo", "GET", POSITIVE),
    ("/inferred", "GET", POSITIVE),
    ("/kinds", "GET", POSITIVE),
    ("/via_proxy", "GET", POSITIVE),
    ("/prefixed", "POST", POSITIVE),
    ("/prefixed", "POST", NEGATIVE),
    ("/recent", "GET", POSITIVE),
    ("/recent", "GET", NEGATIVE),
    ("/search", "POST", POSITIVE),
    ("/search", "POST", NEGATIVE),
]


@pytest.mark.parametrize(("path", "method", "mode"), CASES)
def test_api_answers_as_documented(live_schema, path, method, mode):
    operation = live_schema[path][method]
    assert operation.base_url.startswith("http://127.0.0.1:")

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def answers_as_documented(case):
        case.call_and_validate(timeout=30)

    answers_as_documented()
