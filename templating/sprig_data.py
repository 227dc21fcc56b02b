"""Sprig's semantic versions and UUIDs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

SEMVER = re.compile(
    r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)


class SemVer(dict):
    """A parsed semantic version: fields Major, Minor, Patch, Prerelease, Metadata, Original."""

    def go_string(self) -> str:
        text = f"{self['Major']}.{self['Minor']}.{self['Patch']}"
        text += f"-{self['Prerelease']}" if self["Prerelease"] else ""
        return text + (f"+{self['Metadata']}" if self["Metadata"] else "")


def semver(version: str) -> SemVer:
    """`semver "1.2.3-beta"`: Masterminds semver's NewVersion (missing minor/patch are 0)."""
    match = SEMVER.fullmatch(version)
    if match is None:
        raise ValueError("Invalid Semantic Version")
    major, minor, patch, prerelease, metadata = match.groups()
    return SemVer(
        Major=int(major),
        Minor=int((minor or ".0")[1:]),
        Patch=int((patch or ".0")[1:]),
        Prerelease=prerelease or "",
        Metadata=metadata or "",
        Original=version,
    )


def uuidv4() -> str:
    return str(uuid.uuid4())


DATA: dict[str, Callable] = {"uuidv4": uuidv4, "semver": semver}
