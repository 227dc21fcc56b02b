"""CPU to check SQL of growing size (what a call's SQL costs before SLUICE_MAX_SQL_BYTES refuses it): an IN
list of literals, tokenized, parsed and checked by the binder. It grows linearly; the default limit (128 KiB)
keeps one call's parse near a second on this machine.

Run: python bench/bench_sql_parse.py [ITEMS...]   (not part of the test run)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from project.sql.binding import bind_sql, clear_shape_cache
from project.sql.sizes import DEFAULT_MAX_SQL_BYTES

ITEMS = (1_000, 10_000, 20_000)


def in_list(items: int) -> str:
    return "SELECT * FROM t WHERE id IN (" + ", ".join(str(item) for item in range(items)) + ")"


if __name__ == "__main__":
    for items in [int(argument) for argument in sys.argv[1:]] or ITEMS:
        clear_shape_cache()
        sql = in_list(items)
        started = time.process_time()
        bind_sql(sql, (), ())
        seconds = time.process_time() - started
        print(
            f"{items:>8} items {len(sql):>9} bytes {seconds:7.2f} s CPU  "
            f"{seconds / len(sql) * 1e6:5.1f} us/byte  (limit {DEFAULT_MAX_SQL_BYTES} bytes)"
        )
