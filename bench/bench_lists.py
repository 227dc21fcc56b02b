"""Cost of binding `IN {{ as_sql_list .args.ids }}` for lists of many lengths: each length a new shape or not.

Run: python bench/bench_lists.py   (not part of the test run)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from project.sql.binding import bind_sql, clear_shape_cache, compile_shape, shape_cache_info
from project.sql.sentinels import marker

LENGTHS = (10, 100, 1_000, 10_000)


def printed(length: int) -> tuple[str, list[str], list[str]]:
    sql = "SELECT count(*) FROM t WHERE i IN (" + ", ".join(marker(i) for i in range(length)) + ")"
    return sql, [str(i) for i in range(length)], ["args.ids"] * length


def cpu(call, *arguments) -> float:
    started = time.process_time()
    call(*arguments)
    return time.process_time() - started


def as_printed(sql: str, values: list[str], sources: list[str]) -> None:
    """What binding cost before folding: every length its own shape to tokenize, parse and check."""
    compile_shape(sql, "duckdb", tuple(sources)).bind(values, sources)


if __name__ == "__main__":
    clear_shape_cache()
    for length in LENGTHS:
        sql, values, sources = printed(length)
        unfolded = cpu(as_printed, sql, values, sources)
        folded = cpu(bind_sql, sql, values, sources)
        print(
            f"{length:>6} items: shape as printed {unfolded * 1000:8.1f} ms, folded {folded * 1000:7.1f} ms"
        )
    info = shape_cache_info()
    print(
        f"shape cache: {info.entries} entries, {info.size_bytes / 1e6:.1f} MB of {info.max_bytes / 1e6:.0f} MB"
    )
