"""Rules of the code base that no linter checks: every `# type: ignore[code]` says why after it (mypy's
warn_unused_ignores, in setup.cfg, catches the ones no longer needed)."""

from __future__ import annotations

import re

from tests.conftest import ROOT

IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")
PACKAGES = (
    "server.py",
    "gunicorn.conf.py",
    "handlers",
    "templating",
    "project",
    "cli",
    "serving",
    "tests",
    "bench",
)


def python_files():
    for name in PACKAGES:
        path = ROOT / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_every_type_ignore_names_its_code_and_says_why():
    unexplained = []
    for path in python_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found = IGNORE.search(line)
            if found is None or "IGNORE = re.compile" in line:
                continue
            reason = found.group("rest").strip().lstrip("#").strip()
            if not found.group("codes") or not reason:
                unexplained.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert unexplained == [], "\n".join(unexplained)
