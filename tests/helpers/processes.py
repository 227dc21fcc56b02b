"""Processes of a running server, read from /proc."""

from __future__ import annotations

import os
from pathlib import Path


def worker_pids(master: int) -> list[int]:
    """The pids of the processes whose parent is `master` (a gunicorn master's workers)."""
    pids = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{name}/status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{master}\n" in status:
            pids.append(int(name))
    return pids
