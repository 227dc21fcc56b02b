"""Builds and runs the Go oracle (oracle/main.go): Debian's Go with Debian's Sprig, in GOPATH mode.

The binary is built once per source and Go version into a cache directory (never committed) and renders a
whole batch of cases per process: JSON lines in, JSON lines out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).parent / "oracle" / "main.go"
DEBIAN_GOPATH = Path("/usr/share/gocode")
SPRIG = DEBIAN_GOPATH / "src/github.com/Masterminds/sprig"
SEMVER = DEBIAN_GOPATH / "src/github.com/Masterminds/semver"


class OracleUnavailable(Exception):
    """Go or Debian's Sprig sources are not installed here."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sluice-go-oracle"


def build() -> Path:
    """The oracle binary, built if its source or the Go version changed; raises OracleUnavailable."""
    go = shutil.which("go")
    if go is None or not SPRIG.is_dir():
        raise OracleUnavailable("needs golang-go and golang-github-masterminds-sprig-dev (Debian)")
    version = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout
    key = hashlib.sha256(SOURCE.read_bytes() + version.encode()).hexdigest()[:16]
    root = cache_root()
    binary = root / f"oracle-{key}"
    if binary.exists():
        return binary
    gopath = root / "gopath"
    package = gopath / "src/sluiceoracle"
    package.mkdir(parents=True, exist_ok=True)
    shutil.copy(SOURCE, package / "main.go")
    # Debian's Sprig imports semver as .../semver/v3 but ships it without the /v3 directory.
    alias = gopath / "src/github.com/Masterminds/semver/v3"
    alias.parent.mkdir(parents=True, exist_ok=True)
    if not alias.exists():
        alias.symlink_to(SEMVER)
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": f"{gopath}:{DEBIAN_GOPATH}",
        "GOCACHE": str(root / "gocache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
    }
    partial = binary.with_suffix(".tmp")
    result = subprocess.run(
        [go, "build", "-o", str(partial), "."],
        check=False,
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the Go oracle failed:\n{result.stderr}")
    partial.replace(binary)
    return binary


def run(binary: Path, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Renders cases ({t, name, data}) in one process; each answer is {out} or {error, phase}."""
    lines = "".join(json.dumps(case) + "\n" for case in cases)
    result = subprocess.run([str(binary)], input=lines, capture_output=True, text=True, check=True)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    if len(answers) != len(cases):
        raise RuntimeError(f"the oracle answered {len(answers)} of {len(cases)} cases: {result.stderr}")
    return answers
