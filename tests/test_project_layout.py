"""A file's kind comes from its `type:` wherever it sits, as in Rill (`tests/projects/rill_layout`): root-level
models and metrics views, root-level SQL models, APIs outside apis/, old dashboards/ without type:, legacy
sources with `type: <connector>`, and rill.yaml's ignore_paths; through HTTP and `server.py check`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import BASE_URL, PROJECTS, ROOT

ANSWERS = [
    ("by_publisher", [{"publisher": "Google", "bids": 8}, {"publisher": "Yahoo", "bids": 4}]),
    ("points", [{"id": 1, "score": 10}, {"id": 2, "score": 20}]),
    ("root_metrics", [{"publisher": "Google", "total_bids": 8}, {"publisher": "Yahoo", "total_bids": 4}]),
    ("dashboard_metrics", [{"all_bids": 12}]),
    ("companion", [{"models": 5}]),
]


@pytest.mark.parametrize(("api", "rows"), ANSWERS)
def test_resources_are_found_by_their_type(project_client, api, rows):
    response = project_client("rill_layout").get(BASE_URL + api)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_data(as_text=True)) == rows


def test_check_reports_what_it_cannot_serve_and_what_it_ignores():
    done = subprocess.run(
        [sys.executable, "server.py", "check", str(PROJECTS / "rill_layout")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert 'sources/remote.yaml: the "s3" source connector is not supported by Sluice' in out
    assert "warning: explore.yaml: a 'explore' resource is not served by Sluice; ignored" in out
    assert "warning: notes.yaml: no type:" in out
    assert "scratch" not in out  # rill.yaml ignore_paths
    assert "1 errors" in out


def test_only_the_unsupported_source_fails(project_client):
    health = project_client("rill_layout").get("/v1/health")
    failed = json.dumps(json.loads(health.get_data(as_text=True)))
    assert "remote.yaml" in failed
    assert "points.yaml" not in failed
