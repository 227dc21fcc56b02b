"""Metrics, Server-Timing, build progress, project errors and `--check` for SQL, on real servers."""

from __future__ import annotations

import json
import re
import sys
import urllib.request

import pytest

from tests.conftest import PROJECTS, free_port, run_sluice, start, stop
from tests.helpers.polling import eventually

API = "/v1/instances/default/api/"
MISTAKES = PROJECTS / "sql_mistakes"


def fetch(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def samples(exposition: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include these."""
    total = 0.0
    for line in exposition.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(match.group(3))
    return total


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn with 2 workers and the shipped gunicorn.conf.py, over the basic project."""
    tmp = tmp_path_factory.mktemp("gunicorn-metrics")
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "server:create_app()"]
    env = {"SLUICE_PROJECT": str(PROJECTS / "basic"), "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics")}
    process = start(command, port, tmp, env)
    yield f"http://127.0.0.1:{port}", tmp / "server.log"
    stop(process)


def test_metrics_add_up_every_worker(gunicorn):
    base, _ = gunicorn
    for number in range(30):
        assert fetch(base + API + f"echo?x={number}")[0] == 200
    assert fetch(base + API + "no_such_api")[0] == 404
    # a request is counted once its answer is sent, which its caller may see first: wait for every request,
    # and for each answer's last series (rows are counted after the request, its time and its bytes)
    text = eventually(
        lambda: fetch(base + "/metrics")[2],
        lambda text: (
            samples(text, "sluice_rows_sent_total", api="echo") >= 30
            and samples(text, "sluice_requests_total", status="404") >= 1
        ),
    )
    assert samples(text, "sluice_requests_total", api="echo", status="200") == 30
    assert samples(text, "sluice_request_duration_seconds_count", api="echo") == 30
    assert samples(text, "sluice_rows_sent_total", api="echo") == 30
    assert samples(text, "sluice_bytes_sent_total", api="echo") == sum(
        len(json.dumps([{"x": str(number)}], separators=(",", ":"))) for number in range(30)
    )
    assert samples(text, "sluice_requests_total", status="404") >= 1
    assert samples(text, "sluice_model_build_seconds_count", model="bids") == 1  # built once, shared
    assert samples(text, "sluice_load_errors") >= 1  # the basic project has broken files (a gauge per worker)
    for name in (
        "sluice_queries_in_flight",
        "sluice_queries_rejected_total",
        "sluice_queries_timed_out_total",
    ):
        assert f"\n{name}" in "\n" + text or f"# TYPE {name.removesuffix('_total')}" in text, name


def test_answers_carry_server_timing(gunicorn):
    base, _ = gunicorn
    status, headers, _ = fetch(
        base + API + "echo?x=server-timing"
    )  # not an answer an earlier test left cached
    phases = dict(part.strip().split(";dur=") for part in headers["Server-Timing"].split(","))
    assert status == 200 and set(phases) == {"render", "bind", "query", "encode"}
    assert all(float(value) >= 0 for value in phases.values())


def test_model_builds_are_logged_with_rows_and_seconds(gunicorn):
    _, log = gunicorn
    text = log.read_text()
    assert re.search(r"sluice\.build: model bids built: 4 rows in \d+\.\d\d s", text), text[-2000:]
    assert re.search(r"sluice\.build: building model bids \(\d of \d\)", text)


@pytest.fixture(scope="module")
def mistakes_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mistakes")
    port = free_port()
    process = start([sys.executable, "server.py", str(MISTAKES), "--port", str(port)], port, tmp)
    yield f"http://127.0.0.1:{port}", tmp / "server.log"
    stop(process)


@pytest.mark.parametrize(
    ("api", "place", "quoted"),
    [
        ("unknown_column", "apis/unknown_column.yaml:5:9: Binder Error", "  sum(amount_eur) AS total"),
        ("reserved_table", "apis/reserved_table.yaml:4:8: Parser Error", "FROM order"),
        ("trailing_comma", "apis/trailing_comma.yaml:9:", "LIMIT 10"),
        ("runtime_template", "apis/runtime_template.yaml:5:", "error calling index"),
    ],
)
def test_errors_while_answering_name_the_file_and_line_and_are_logged_as_the_projects(
    mistakes_server, api, place, quoted
):
    base, log = mistakes_server
    status, _, body = fetch(base + API + api)
    error = json.loads(body)
    assert status == 400 and error["error"].startswith(place) and quoted in error["error"], error
    assert error["path"] == f"apis/{api}.yaml"
    line = eventually(
        lambda: [row for row in log.read_text().splitlines() if f"project error in API {api}:" in row],
        lambda rows: rows,
    )
    assert line and " ERROR sluice.project: " in line[0] and place in line[0]


def test_check_compiles_every_apis_sql_against_the_models():
    result = run_sluice("check", str(MISTAKES))
    assert result.returncode == 1
    out = result.stdout
    assert 'apis/unknown_column.yaml:5:9: Binder Error: Referenced column "amount_eur" not found' in out
    assert "\n  sum(amount_eur) AS total\n      ^\n" in out  # the author's line, not the bound SQL
    assert 'apis/reserved_table.yaml:4:8: Parser Error: syntax error at or near "order"' in out
    assert "apis/trailing_comma.yaml:9:" in out and "\nLIMIT 10\n" in out
    assert "fine.yaml" not in out and "runtime_template" not in out  # that one depends on its arguments
    assert "5 APIs, 3 errors" in out


def test_metrics_on_the_dev_server(mistakes_server):
    base, _ = mistakes_server
    fetch(base + API + "fine")
    text = eventually(
        lambda: fetch(base + "/metrics")[2],
        lambda text: samples(text, "sluice_requests_total", api="fine", status="200") >= 1,
    )
    assert samples(text, "sluice_requests_total", api="fine", status="200") >= 1
    assert samples(text, "sluice_project_errors_total") >= 0


def test_names_of_no_api_add_no_metrics_series(mistakes_server):
    """A caller asking for made-up API names (each would be a series kept for good: memory, /metrics size
    and, under gunicorn, the metrics files) is counted under `-`."""
    base, _ = mistakes_server
    made_up = [f"no-such-api-{number}" for number in range(20)]
    for name in made_up:
        assert fetch(base + API + name)[0] == 404
    fetch(base + API + "fine")
    text = eventually(  # every request counted (each is counted once its answer is sent)
        lambda: fetch(base + "/metrics")[2],
        lambda text: (
            samples(text, "sluice_requests_total", api="fine", status="200") >= 1
            and samples(text, "sluice_requests_total", api="-", status="404") >= len(made_up)
        ),
    )
    assert not any(name in text for name in made_up)
    assert samples(text, "sluice_requests_total", api="-", status="404") >= len(made_up)
