"""Every row of tests/templating/conformance.yaml renders as Go's text/template + Sprig would."""

from pathlib import Path

import pytest
import yaml

from templating import TemplateError, parse

TABLE = yaml.safe_load((Path(__file__).parent / "templating" / "conformance.yaml").read_text())
ROWS = [
    pytest.param(row, id=f"{construct}-{number}")
    for construct, rows in TABLE["cases"].items()
    for number, row in enumerate(rows, start=1)
]


def test_table_is_large_enough():
    assert len(ROWS) >= 250


@pytest.mark.parametrize("row", ROWS)
def test_conformance(row):
    data = row.get("data", TABLE["data"])
    if "error" in row:
        with pytest.raises(TemplateError) as caught:
            parse(row["t"], name="t").render(data)
        assert row["error"] in str(caught.value)
    else:
        assert parse(row["t"], name="t").render(data) == row["out"]
