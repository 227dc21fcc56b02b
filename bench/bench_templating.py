"""Micro-benchmark of the template engine: parse time and renders per second of a typical API template.

Run: python bench/bench_templating.py   (not part of the test run)
"""

from __future__ import annotations

import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from templating import Tainted, parse

TEMPLATE = """
SELECT {{ .env.columns }}, count(*) AS n
FROM {{ .env.table }}
WHERE domain = '{{ .args.domain }}'
  AND day >= '{{ default "2024-01-01" .args.from }}'
{{- if .args.country }}
  AND country = '{{ .args.country | upper }}'
{{- end }}
{{- if eq .environment "prod" }}
  AND NOT test
{{- else }}
  AND sampled
{{- end }}
GROUP BY {{ .env.columns }}
ORDER BY {{ .args.order }} {{ .args.direction }}
LIMIT {{ .args.limit }} OFFSET {{ .args.offset }} -- {{ .user.email }}
"""


CPU = time.process_time  # CPU time of this process: stable on a shared machine, unlike wall time


def data() -> dict:
    args = {
        "domain": "example.com",
        "country": "fr",
        "order": "n",
        "direction": "desc",
        "limit": "10",
        "offset": "0",
    }
    return {
        "args": Tainted(args, "args"),
        "user": Tainted({"email": "a@b.c"}, "user"),
        "env": {"table": "events", "columns": "domain, day"},
        "vars": {},
        "environment": "prod",
        "export": False,
    }


def main() -> None:
    number = 20000
    parse_seconds = (
        min(timeit.repeat(lambda: parse(TEMPLATE, name="bench"), number=200, repeat=5, timer=CPU)) / 200
    )
    template, values = parse(TEMPLATE, name="bench"), data()
    markers: list[str] = []

    def emit(text: str, source: str) -> str:
        markers.append(text)
        return f"__sluice_arg_{len(markers)}__"

    def render() -> None:
        markers.clear()
        template.render(values, emit=emit)

    seconds = min(timeit.repeat(render, number=number, repeat=5, timer=CPU)) / number
    print(f"parse:  {parse_seconds * 1e6:8.1f} µs per parse")
    print(f"render: {seconds * 1e6:8.2f} µs per render, {1 / seconds:,.0f} renders/second")


if __name__ == "__main__":
    main()
