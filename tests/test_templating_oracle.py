"""The engine against the real Go: every conformance row and the generated set render identically in Debian's
Go text/template + Sprig (set up as Rill sets it up), or fail on both sides.

The oracle is built once per Go version (tests/templating/go_oracle.py). Without Go the test skips on a
developer's machine and fails in CI (CI=true), where `.ci/run` installs it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from templating import STANDARD, TemplateError, parse
from tests.conftest import missing_program
from tests.templating import generated
from tests.templating.go_oracle import OracleUnavailable, build, run

TABLE = yaml.safe_load((Path(__file__).parent / "templating" / "conformance.yaml").read_text())
TABLE_CASES = {
    f"table-{construct}-{number}": {"t": row["t"], "name": "", "data": row.get("data", TABLE["data"])}
    for construct, rows in TABLE["cases"].items()
    for number, row in enumerate(rows, start=1)
    # Rows of Go 1.22+ features (range over an integer, else with) are checked by our table alone.
    if "go" not in row
}
GENERATED_CASES = {f"gen-{number}": case for number, case in enumerate(generated.cases())}
CASES = {**TABLE_CASES, **GENERATED_CASES}


# Error texts must be Go's (with our file name where Rill prints ""), except these documented differences:
# (pattern of Go's message, pattern of the template or "", why).
ERROR_TEXT_DIFFERENCES = [
    (r"range can't iterate over -?\d+$", "", "Go 1.22+ ranges over integers (Sluice does); Go 1.19 cannot"),
    (r"exceeded maximum template depth", "", "Sluice stops at depth 100 (Go: 100000), within Python's stack"),
    (
        r"error calling mustToDate: parsing time",
        "",
        "time.Parse's detail (which element failed) is not reproduced",
    ),
    (
        r"reflect: slice index out of range",
        "",
        "Go's text depends on the capacity JSON decoding gave the slice",
    ),
    (r"len of nil pointer", "", "inside len Sluice does not tell a JSON null from a missing key"),
    (
        r"in type interface \{\}$",
        r"range",
        "a range element is a Go interface value; Sluice names its own type",
    ),
    (r'unexpected "/" in command', "", "newer Go's lexer message for a comment not opening the action"),
    (
        r"wrong type for value",
        r"\((and|or) ",
        "Go blames the argument and/or stopped at; Sluice the last one",
    ),
]


def go_text(error: str) -> str:
    """Our error text as Go prints it for Rill's template named "" (ours is named "t")."""
    return error.replace("template: t:", "template: :", 1).replace('executing "t"', 'executing ""')


def known_text_difference(go_error: str, template: str) -> bool:
    return any(
        re.search(message, go_error) and re.search(text, template)
        for message, text, _ in ERROR_TEXT_DIFFERENCES
    )


@pytest.fixture(scope="session")
def go_answers() -> dict:
    """Go's answer for every case, from one oracle process."""
    try:
        binary = build()
    except OracleUnavailable as missing:
        missing_program(f"no Go oracle here: {missing}")
    return dict(zip(CASES, run(binary, list(CASES.values()))))


def ours(case: dict) -> dict:
    """Our answer in the oracle's shape: {out} or {error}."""
    data = json.loads(json.dumps(case["data"]))
    try:
        return {"out": parse(case["t"], name="t").render(data)}
    except TemplateError as error:
        return {"error": str(error)}


GO_PARAMETERS = {
    "string": "str",
    "int": "int",
    "float64": "float",
    "bool": "bool",
    "uint32": "Uint32",
    "map[string]interface {}": "dict",
    "[]interface {}": "list",
    "time.Time": "datetime",
}


@pytest.mark.parametrize("name", sorted(generated.signatures()))
def test_every_sprig_function_has_gos_signature(name):
    """Rill's function map, function by function: defined here, with Go's arity and parameter types."""
    params, variadic = generated.signatures()[name]
    spec = STANDARD[name]
    assert (spec.min_args, spec.max_args) == (len(params), None if variadic else len(params))
    assert [spec.annotation(index) for index in range(len(params))] == [GO_PARAMETERS.get(p) for p in params]
    assert spec.rest_type == (GO_PARAMETERS.get(variadic) if variadic else None)


def test_generated_set_is_large_enough():
    assert len(GENERATED_CASES) >= 2000
    assert len(TABLE_CASES) >= 250


@pytest.mark.parametrize("key", list(CASES))
def test_same_as_go(key, go_answers):
    case, theirs = CASES[key], go_answers[key]
    mine = ours(case)
    if "error" in theirs:
        assert "error" in mine, f"Go fails with {theirs['error']!r}; we print {mine.get('out')!r}"
        if not known_text_difference(theirs["error"], case["t"]):
            assert go_text(mine["error"]) == theirs["error"]
    else:
        assert mine == {"out": theirs["out"]}, f"{case['t']!r}"
