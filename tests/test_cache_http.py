"""The result cache, ETags and conditional requests, gzip, through HTTP (SPEC §3.5).

A file read directly by an API (not through a model) changes without a build: an answer that stays the
same after the file changed came from the cache; one that follows the file ran the query again.
"""

from __future__ import annotations

import gzip
import json
import shutil
import time

import jwt
import pytest
from werkzeug.test import Client

from project.calls.result_cache import CachedAnswer, ResultCache
from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, PROJECTS

SECRET = "a-secret-for-the-cache-tests-0123456789"


@pytest.fixture
def project(tmp_path):
    directory = tmp_path / "project"
    shutil.copytree(PROJECTS / "cached", directory)
    (directory / "data" / "live.csv").write_text("n\n1\n")
    return directory


def a_token(email: str) -> str:
    claims = {"sub": email, "email": email, "exp": int(time.time()) + 600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def client_for(project, tmp_path, **settings) -> Client:
    options = {"project_dir": str(project), "state_dir": str(tmp_path / "state"), **settings}
    return Client(create_app(Settings(**options)))


def total(response) -> int:
    assert response.status_code == 200, response.get_data()
    return response.get_json()[0]["total"]


def change_live_file(project, value: int) -> None:
    (project / "data" / "live.csv").write_text(f"n\n{value}\n")


def test_a_repeated_call_is_answered_from_the_cache(project, tmp_path):
    client = client_for(project, tmp_path)
    first = client.get(f"{BASE_URL}live_file")
    change_live_file(project, 41)
    second = client.get(f"{BASE_URL}live_file")
    assert total(first) == total(second) == 1
    assert first.headers["ETag"] == second.headers["ETag"]


@pytest.mark.parametrize("api", ["live_uncached", "via_proxy", "live_ttl"])
def test_apis_with_caching_off_or_expired_run_again(project, tmp_path, api):
    client = client_for(project, tmp_path)
    assert total(client.get(f"{BASE_URL}{api}")) == 1
    change_live_file(project, 41)
    time.sleep(0.01)  # live_ttl's 1 ms TTL has passed (a fast server answers again within it, from the cache)
    assert total(client.get(f"{BASE_URL}{api}")) == 41


def test_answers_that_change_by_themselves_are_not_cached(project, tmp_path):
    client = client_for(project, tmp_path)
    first, second = client.get(f"{BASE_URL}clock"), client.get(f"{BASE_URL}clock")
    assert first.get_json() != second.get_json()
    assert "ETag" not in first.headers


def test_no_cache_when_its_size_is_zero(project, tmp_path):
    client = client_for(project, tmp_path, cache_bytes=0)
    assert total(client.get(f"{BASE_URL}live_file")) == 1
    change_live_file(project, 41)
    response = client.get(f"{BASE_URL}live_file")
    assert total(response) == 41 and "ETag" not in response.headers


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("total?tag=a", "total?tag=b"),
        ("total?tag=1", "total.csv?tag=1"),
        ("total.csv", "total.parquet"),
        ("total", "everyone"),
    ],
)
def test_different_calls_have_different_etags(project, tmp_path, first, second):
    client = client_for(project, tmp_path)
    one, other = client.get(BASE_URL + first), client.get(BASE_URL + second)
    assert one.headers["ETag"] != other.headers["ETag"]
    assert client.get(BASE_URL + second).get_data() == other.get_data()


@pytest.mark.parametrize("path", ["total?tag=x", "total.csv", "total.parquet", "total.arrow", "total.ndjson"])
def test_if_none_match_is_a_304_without_running_the_query(project, tmp_path, path):
    client = client_for(project, tmp_path)
    etag = client.get(BASE_URL + path).headers["ETag"]
    shutil.rmtree(tmp_path / "state")  # the database is gone: running the query now would fail
    response = client.get(BASE_URL + path, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.get_data() == b""
    assert response.headers["ETag"] == etag
    other = client.get(BASE_URL + path, headers={"If-None-Match": '"something-else", W/' + etag})
    assert other.status_code == 304  # a list, and weak comparison


def test_a_304_even_after_the_answer_left_the_cache(project, tmp_path):
    """The ETag comes from what the answer depends on: no stored answer is needed to revalidate."""
    client = client_for(project, tmp_path, cache_bytes=1024)
    etag = client.get(f"{BASE_URL}big?count=2000").headers["ETag"]  # too big to be kept
    assert client.get(f"{BASE_URL}big?count=2000", headers={"If-None-Match": etag}).status_code == 304


def test_a_stale_etag_gets_the_full_answer(project, tmp_path):
    client = client_for(project, tmp_path)
    response = client.get(f"{BASE_URL}total", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200 and response.get_json()[0]["total"] == 1


def test_a_rebuild_invalidates_cached_answers(project, tmp_path):
    client = client_for(project, tmp_path)
    before = client.get(f"{BASE_URL}total")
    assert total(before) == 1
    (project / "data" / "numbers.csv").write_text("n\n1\n2\n3\n")  # a model's input: the project rebuilds
    client.application.reload()  # what the file watcher calls when it sees the change
    after = client.get(f"{BASE_URL}total", headers={"If-None-Match": before.headers["ETag"]})
    assert total(after) == 6 and after.headers["ETag"] != before.headers["ETag"]


def test_streamed_answers_are_cached_when_they_fit(project, tmp_path):
    client = client_for(project, tmp_path)
    first = client.get(f"{BASE_URL}big.csv?count=70000")  # streamed: more than one batch
    assert first.headers.get("Content-Length") is None
    first_body = first.get_data()  # read to the end: only a finished answer is kept
    second = client.get(f"{BASE_URL}big.csv?count=70000")
    assert second.headers.get("Content-Length") is not None  # from the cache, whole
    assert first_body == second.get_data() and first.headers["ETag"] == second.headers["ETag"]


@pytest.mark.parametrize(
    ("auth", "expected"),
    [(False, "public, max-age=0, must-revalidate"), (True, "private, no-cache")],
)
def test_cache_control(project, tmp_path, auth, expected):
    client = client_for(project, tmp_path, auth=auth, jwt_secret=SECRET)
    token = a_token("a@x.com")
    response = client.get(f"{BASE_URL}total", headers={"Authorization": f"Bearer {token}"})
    assert response.headers["Cache-Control"] == expected
    assert "Accept" in response.headers["Vary"]


def test_the_ttl_sets_max_age(project, tmp_path):
    response = client_for(project, tmp_path).get(f"{BASE_URL}live_ttl")
    assert response.headers["Cache-Control"] == "public, max-age=0"


def test_callers_get_answers_for_their_own_attributes(project, tmp_path):
    client = client_for(project, tmp_path, auth=True, jwt_secret=SECRET)

    def call(api: str, email: str):
        token = a_token(email)
        return client.get(BASE_URL + api, headers={"Authorization": f"Bearer {token}"})

    ana, bo = call("whoami", "ana@x.com"), call("whoami", "bo@x.com")
    assert ana.get_json()[0]["email"] == "ana@x.com" and bo.get_json()[0]["email"] == "bo@x.com"
    assert ana.headers["ETag"] != bo.headers["ETag"]
    # an API that reads no attribute shares one answer among callers
    assert call("everyone", "ana@x.com").headers["ETag"] == call("everyone", "bo@x.com").headers["ETag"]


@pytest.mark.parametrize("path", ["big?count=3000", "big.csv?count=3000", "big.ndjson?count=100000"])
def test_gzip_when_the_caller_accepts_it(project, tmp_path, path):
    client = client_for(project, tmp_path)
    plain = client.get(BASE_URL + path).get_data()
    for _ in range(2):  # the second answer comes from the cache
        response = client.get(BASE_URL + path, headers={"Accept-Encoding": "gzip, deflate"})
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert gzip.decompress(response.get_data()) == plain
        assert response.headers["ETag"].endswith('-gzip"')


@pytest.mark.parametrize(
    ("path", "settings"),
    [("big.parquet?count=3000", {}), ("big?count=3000", {"gzip": False}), ("total", {})],
)
def test_no_gzip_for_compressed_formats_small_answers_or_when_off(project, tmp_path, path, settings):
    response = client_for(project, tmp_path, **settings).get(
        BASE_URL + path, headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_a_304_for_the_gzipped_etag(project, tmp_path):
    client = client_for(project, tmp_path)
    etag = client.get(f"{BASE_URL}big?count=3000", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    response = client.get(f"{BASE_URL}big?count=3000", headers={"If-None-Match": etag})
    assert response.status_code == 304


@pytest.mark.parametrize("ttl", ["0", "1.5", "30s", "5m", "1h", "1d", "250ms"])
def test_ttl_spellings_load(project, tmp_path, ttl):
    (project / "apis" / "total.yaml").write_text(f"type: api\ncache:\n  ttl: {ttl}\nsql: SELECT 1 AS total\n")
    assert total(client_for(project, tmp_path).get(f"{BASE_URL}total")) == 1


@pytest.mark.parametrize(
    ("cache", "message"),
    [
        ("5", "cache: must be a mapping"),
        ("{ttl: soon}", "cache.ttl: must be a duration"),
        ("{enabled: maybe}", "cache.enabled: must be true or false"),
        ("{size: 3}", "cache: unknown key 'size'"),
    ],
)
def test_bad_cache_settings_are_load_errors(project, tmp_path, cache, message):
    (project / "apis" / "total.yaml").write_text(f"type: api\ncache: {cache}\nsql: SELECT 1 AS total\n")
    response = client_for(project, tmp_path).get(f"{BASE_URL}total")
    assert response.status_code == 500 and message in json.loads(response.get_data())["error"]


def answer(body: bytes, expires: float | None = None) -> CachedAnswer:
    return CachedAnswer(body, "application/json", '"e"', expires)


def test_the_cache_is_bounded_and_drops_the_least_recently_used():
    cache = ResultCache(max_bytes=800)  # entries up to 100 bytes
    for key in "abcdefgh":
        cache.put(key, answer(b"x" * 100))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("i", answer(b"x" * 100))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("i") is not None
    cache.put("huge", answer(b"x" * 101))
    assert cache.get("huge") is None  # more than an eighth of the cache is never kept


def test_expired_answers_are_not_served():
    cache = ResultCache(max_bytes=800)
    cache.put("old", answer(b"x", expires=1.0))
    assert cache.get("old") is None


def test_workers_share_answers_through_a_directory(tmp_path):
    one, other = ResultCache(10_000, str(tmp_path)), ResultCache(10_000, str(tmp_path))
    one.put("key", answer(b"[1]"))
    assert other.get("key") == answer(b"[1]")
    assert list(tmp_path.iterdir()) == [tmp_path / "key.answer"]
