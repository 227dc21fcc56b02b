"""Cost per request of safe parameters (SPEC §5): render + check + bind for a typical API, cold and warm.

Cold: the shape cache is emptied first, so the rendered shape is tokenized, parsed and checked.
Warm: the shape is cached (the steady state), so a request is a render, a lookup and the binding.
Run: python bench/bench_binding.py   (not part of the test run)
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from project.sql.binding import bind_sql, clear_shape_cache, shape_cache_info
from project.sql.rendering import Markers, compile_template, render_sql, template_data

TEMPLATE = """
SELECT publisher, domain, count(*) AS bids, sum(bid_price) AS spend
FROM ad_bids
WHERE domain = '{{ .args.domain }}'
  AND timestamp >= '{{ default "2024-01-01" .args.from }}'::DATE
  {{- if .args.publishers }} AND publisher IN {{ as_sql_list .args.publishers }}{{ end }}
  AND region = '{{ .user.region }}'
GROUP BY ALL
ORDER BY {{ .args.order }} {{ .args.direction }}
LIMIT {{ .args.limit }}
"""
ARGS = {
    "domain": "example.com",
    "from": "2024-03-01",
    "publishers": ["Google", "Yahoo"],
    "order": "spend",
    "direction": "desc",
    "limit": 10,
}


def request(template, data) -> tuple[str, list]:
    markers = Markers()
    shape = render_sql(template, data, markers)
    return bind_sql(shape, markers.values, markers.sources)


def per_call(function, number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=5)) / number


def main() -> None:
    template = compile_template(TEMPLATE, "apis/bench.yaml")
    data = template_data({}, "prod", ARGS, {"region": "eu"})
    render_only = per_call(lambda: render_sql(template, data, Markers()), 5000)

    def cold() -> None:
        clear_shape_cache()
        request(template, data)

    cold_seconds = per_call(cold, 300)
    request(template, data)
    warm_seconds = per_call(lambda: request(template, data), 5000)
    sql, params = request(template, data)
    print(" ".join(sql.split()))
    print(params)
    print(f"render only:               {render_only * 1e6:9.1f} µs")
    print(f"cold (render+check+bind):  {cold_seconds * 1e6:9.1f} µs per request (shape tokenized and parsed)")
    print(f"warm (render+lookup+bind): {warm_seconds * 1e6:9.1f} µs per request (shape cached)")
    print(
        f"warm/cold ratio:           {warm_seconds / cold_seconds:9.3f}  ({cold_seconds / warm_seconds:.0f}x faster)"
    )
    print(f"shape cache:               {shape_cache_info()}")


if __name__ == "__main__":
    main()
