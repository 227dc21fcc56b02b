"""A caller's sizes cannot make a template hang or exhaust memory (templating/budget.py): functions whose
result grows with an argument refuse values over MAX_VALUE_BYTES before allocating them, and a render stops
after MAX_RENDER_WORK units of work. Through HTTP each is a quick 400 naming the limit; normal sizes render
as Go renders them (tests/test_templating_oracle.py keeps that)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from templating import TemplateError, render
from templating.budget import MAX_RENDER_WORK, MAX_VALUE_BYTES
from templating.values import GoInt
from tests.conftest import PROJECTS, serving

VALUE_LIMIT = f"over the limit of {MAX_VALUE_BYTES} per template value"
WORK_LIMIT = f"render budget of {MAX_RENDER_WORK} units of work"
BIG = 10**9
OVER = {"n": GoInt(BIG), "big": "x" * (MAX_VALUE_BYTES // 2 + 1), "list": list(range(5000))}

REFUSED = [
    # (template, limit named in the error) with data OVER
    ('{{ repeat .n "ab" }}', VALUE_LIMIT),
    ("{{ repeat 3 .big }}", VALUE_LIMIT),
    ("{{ randAlpha .n }}", VALUE_LIMIT),
    ("{{ randAlphaNum .n }}", VALUE_LIMIT),
    ("{{ randAscii .n }}", VALUE_LIMIT),
    ("{{ randNumeric .n }}", VALUE_LIMIT),
    ("{{ randBytes .n }}", VALUE_LIMIT),
    ("{{ until .n }}", VALUE_LIMIT),
    ("{{ untilStep 0 .n 1 }}", VALUE_LIMIT),
    ("{{ untilStep .n 0 -1 }}", VALUE_LIMIT),
    ("{{ seq .n }}", VALUE_LIMIT),
    ("{{ seq 1 2 .n }}", ""),  # few numbers: no limit, Go's answer
    ('{{ indent .n "x" }}', VALUE_LIMIT),
    ('{{ nindent .n "x" }}', VALUE_LIMIT),
    ('{{ indent 4 (repeat 500000 "\\n") }}', VALUE_LIMIT),
    ('{{ replace "" .big "abc" }}', VALUE_LIMIT),
    ('{{ replace "x" "yyy" .big }}', VALUE_LIMIT),
    ("{{ join .big (list 1 2 3) }}", VALUE_LIMIT),
    ("{{ $l := list }}{{ range until 2000 }}{{ $l = append $l $.big }}{{ end }}", WORK_LIMIT),
    ('{{ wrapWith 1 .big (repeat 2000 "a ") }}', VALUE_LIMIT),
    ('{{ regexReplaceAll "(x+)" .big "${1}${1}${1}" }}', VALUE_LIMIT),
    ('{{ regexFindAll "x" .big -1 }}', "more than 50000 regular expression matches"),
    ('{{ printf "%9999999d" 1 }}', VALUE_LIMIT),
    ('{{ printf "%*d" 1000000 1 | repeat 3 }}', VALUE_LIMIT),
    ("{{ range .n }}x{{ end }}", WORK_LIMIT),
    ("{{ range $i := .n }}{{ $i }}{{ end }}", WORK_LIMIT),
    ("{{ range .list }}{{ range $.list }}.{{ end }}{{ end }}", WORK_LIMIT),
    ("{{ range until 1000 }}{{ sha256sum $.big }}{{ end }}", WORK_LIMIT),
    ("{{ range until 1000 }}{{ $s := shuffle $.big }}{{ end }}", WORK_LIMIT),
    ('{{ range until 1000 }}{{ regexMatch "y" $.big }}{{ end }}', WORK_LIMIT),
    ("{{ range until 1000 }}{{ $j := toJson $.list }}{{ end }}", WORK_LIMIT),
    ('{{ range until 100 }}{{ bcrypt "x" }}{{ end }}', WORK_LIMIT),
    ('{{ range until 100 }}{{ $k := genPrivateKey "ecdsa" }}{{ end }}', WORK_LIMIT),
    ('{{ define "t" }}{{ template "t" . }}{{ template "t" . }}{{ end }}{{ template "t" . }}', ""),
    (
        (
            '{{ define "t" }}{{ if gt . 0 }}{{ range until 8 }}{{ template "t" (sub $ 1) }}{{ end }}{{ end }}'
            '{{ end }}{{ template "t" 20 }}'
        ),
        WORK_LIMIT,
    ),
]


@pytest.mark.parametrize(("template", "limit"), REFUSED, ids=[row[0][:40] for row in REFUSED])
def test_a_costly_render_stops_with_an_error_naming_the_limit(template, limit):
    try:
        render(template, OVER)
    except TemplateError as error:
        if limit:
            assert error.over_limit and limit in error.message, error.message
        return
    assert not limit, "rendered"


NORMAL = [
    # (template, data, expected): normal sizes render as Go does
    ('{{ repeat 3 "ab" }}', {}, "ababab"),
    ("{{ len (randAlpha 1000) }}", {}, "1000"),
    ("{{ until 5 }}", {}, "[0 1 2 3 4]"),
    ("{{ untilStep 10 0 -3 }}", {}, "[10 7 4 1]"),
    ("{{ seq 3 }}", {}, "1 2 3"),
    ('{{ indent 2 "a\\nb" }}', {}, "  a\n  b"),
    ('{{ replace "" "-" "abc" }}', {}, "-a-b-c-"),
    ('{{ join "," (list 1 2) }}', {}, "1,2"),
    ('{{ printf "%5d|%-3s|" 42 "x" }}', {}, "   42|x  |"),
    ('{{ printf "%99999999d|x" 1 }}', {}, "%!(NOVERB)%!(EXTRA int=1)"),  # Go's parsenum gives up
    ("{{ range 3 }}x{{ end }}", {}, "xxx"),
    ("{{ kebabcase .s | len }}", {"s": "SomeWords_and-more " * 20000}, "400000"),
    ("{{ uniq .l | len }}", {"l": [*range(10000), *range(10000)]}, "10000"),
    ('{{ uniq (list 1 1.0 "1" true 1 2.5 2.5) }}', {}, "[1 1 1 true 2.5]"),
    ("{{ range until 10000 }}{{ add1 . | mul 2 | toString | len }}{{ end }}", {}, None),
]


@pytest.mark.parametrize(("template", "data", "expected"), NORMAL, ids=[row[0][:40] for row in NORMAL])
def test_normal_sizes_render_as_go_does(template, data, expected):
    text = render(template, data)
    assert expected is None or text == expected


API = "/v1/instances/default/api/"
HOSTILE = {
    # API -> strategy for a body whose sizes come from the caller
    "repeated": st.fixed_dictionaries({"n": st.integers(MAX_VALUE_BYTES + 1, 10**15), "s": st.just("x")}),
    "random": st.fixed_dictionaries({"n": st.integers(MAX_VALUE_BYTES + 1, 10**15)}),
    "counted": st.fixed_dictionaries({"n": st.integers(MAX_VALUE_BYTES + 1, 10**15)}),
    "stepped": st.fixed_dictionaries({"n": st.integers(10**8, 10**15), "step": st.integers(1, 16)}),
    "numbered": st.fixed_dictionaries({"n": st.integers(MAX_VALUE_BYTES + 1, 10**15)}),
    "indented": st.fixed_dictionaries(
        {"n": st.integers(MAX_VALUE_BYTES + 1, 10**15), "s": st.text(max_size=5)}
    ),
    "replaced": st.fixed_dictionaries(
        {"s": st.text(min_size=100, max_size=100), "t": st.text(min_size=30000, max_size=30000)}
    ),
    "formatted": st.integers(MAX_VALUE_BYTES + 1, 9_999_999).map(lambda width: {"f": f"%{width}d"}),
    "looped": st.fixed_dictionaries({"n": st.integers(MAX_RENDER_WORK // 16, 10**15)}),
    "nested": st.integers(3000, 10000).map(lambda size: {"a": list(range(size)), "b": list(range(size))}),
    "hashed": st.integers(100, 10000).map(lambda size: {"a": list(range(size)), "s": "x" * 200_000}),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(PROJECTS / "costly", tmp_path_factory.mktemp("costly"), "--query-timeout", "5") as base:
        yield base


def post(base: str, api: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + API + api, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:  # a hang fails the test by the socket timeout
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.sampled_from(sorted(HOSTILE)).flatmap(lambda api: st.tuples(st.just(api), HOSTILE[api])))
def test_hostile_sizes_through_http_are_a_400_naming_the_limit(server, case):
    api, body = case
    status, answer = post(server, api, body)
    assert status == 400, answer
    assert "the request makes the template too costly" in answer["error"]
    assert VALUE_LIMIT in answer["error"] or WORK_LIMIT in answer["error"]


@pytest.mark.parametrize(
    ("api", "body", "expected"),
    [
        ("repeated", {"n": 3, "s": "ab"}, 6),
        ("counted", {"n": 1000}, 1000),
        ("looped", {"n": 100}, 100),
        ("unique", {"a": [*range(5000), *range(5000)]}, 5000),
        ("formatted", {"f": "%99999999d"}, len("%!(NOVERB)%!(EXTRA int=1)")),
    ],
)
def test_normal_sizes_through_http_answer(server, api, body, expected):
    status, answer = post(server, api, body)
    assert (status, answer) == (200, [{"n": expected}])
