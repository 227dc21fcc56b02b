"""Metrics views read from YAML documents: defaults, security rules, and load errors with their path."""

from __future__ import annotations

import pytest

from project.errors import ProjectError
from project.metrics.views import Dimension, FieldRule, Measure, check_model, parse_metrics_view

PATH = "metrics/m.yaml"
MEASURES = [{"name": "n", "expression": "count(*)"}]


def view(**document):
    document.setdefault("model", "ad_bids")
    document.setdefault("measures", MEASURES)
    return parse_metrics_view("m", document, PATH)


def test_fields_and_defaults():
    parsed = view(
        timeseries="ts",
        dimensions=[
            {"name": "pub", "display_name": "Publisher", "column": "publisher"},
            {"column": "domain"},
            {"expression": "upper(domain)"},
            {"column": "gone", "ignore": True},
        ],
        measures=[{"expression": "sum(x)"}, {"name": "n", "label": "Count", "expression": "count(*)"}],
    )
    assert parsed.dimensions == (
        Dimension("pub", "Publisher", column="publisher"),
        Dimension("domain", "domain", column="domain"),
        Dimension("dimension_2", "dimension_2", expression="upper(domain)"),
    )
    assert parsed.measures == (Measure("measure_0", "measure_0", "sum(x)"), Measure("n", "Count", "count(*)"))
    assert (parsed.name, parsed.model, parsed.timeseries, parsed.security) == ("m", "ad_bids", "ts", None)
    assert parsed.dimension("PUB") is parsed.dimensions[0] and parsed.measure("nope") is None


def test_table_and_name_override():
    parsed = parse_metrics_view("file_name", {"name": "other", "table": "events", "measures": MEASURES}, PATH)
    assert (parsed.name, parsed.model) == ("other", "events")


def test_security_rules():
    parsed = view(
        dimensions=[{"name": "pub", "column": "publisher"}],
        security={
            "access": True,
            "row_filter": "publisher = '{{ .user.pub }}'",
            "exclude": [{"if": "NOT {{ .user.admin }}", "names": ["PUB"]}, {"if": "false", "names": "*"}],
        },
    )
    assert parsed.security.access == "true"
    assert parsed.security.row_filter == "publisher = '{{ .user.pub }}'"
    assert parsed.security.exclude == (
        FieldRule("NOT {{ .user.admin }}", ("pub",)),
        FieldRule("false", ("*",)),
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"model": None}, 'must set a value for either the "model" field or the "table" field'),
        ({"table": "t"}, 'cannot set both the "model" field and the "table" field'),
        (
            {"dimensions": [{"name": "d"}]},
            'exactly one of column or expression should be set for dimension: "d"',
        ),
        (
            {"dimensions": [{"name": "d", "column": "c", "expression": "c"}]},
            'exactly one of column or expression should be set for dimension: "d"',
        ),
        ({"measures": [{"name": "m"}]}, 'measure "m" must have an "expression"'),
        ({"dimensions": [{"name": "N", "column": "c"}]}, 'found duplicate dimension or measure name "n"'),
        (
            {"dimensions": [{"column": "x"}, {"name": "X", "expression": "1"}]},
            'found duplicate dimension or measure name "X"',
        ),
        ({"measures": [{"name": "m", "expression": "sum(x"}]}, 'measure "m": invalid SQL expression'),
        ({"dimensions": [{"name": "d", "expression": "a FROM t"}]}, 'dimension "d": invalid SQL expression'),
        ({"dimensions": "pub"}, '"dimensions" must be a list of mappings'),
        (
            {"security": {"include": [{"names": ["n"]}]}},
            "invalid 'security': 'include' fields must have a valid 'if' condition and 'names' list",
        ),
        (
            {"security": {"exclude": [{"if": "true", "names": ["nope"]}]}},
            "invalid 'security': 'exclude' property \"nope\" does not exists in dimensions or measures list",
        ),
        (
            {
                "security": {
                    "include": [{"if": "true", "names": "*"}],
                    "exclude": [{"if": "true", "names": "*"}],
                }
            },
            "invalid 'security': only one of 'include' and 'exclude' can be specified",
        ),
    ],
)
def test_load_errors(document, message):
    with pytest.raises(ProjectError) as raised:
        view(**document)
    assert raised.value.message.startswith(message)
    assert raised.value.path == PATH


def test_check_model():
    parsed = view()
    check_model(parsed, {"ad_bids", "other"})  # known: nothing to report
    with pytest.raises(ProjectError) as raised:
        check_model(parsed, {"other"})
    assert (raised.value.message, raised.value.path) == (
        'model "ad_bids" used by metrics view "m" not found',
        PATH,
    )
