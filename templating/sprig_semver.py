"""Sprig's semantic versions: Masterminds semver v3 (NewVersion, its methods, constraints for semverCompare)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .values import INT64_MAX

CORE = r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
VERSION = re.compile("^" + CORE + "$")
CV = (
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
CONSTRAINT = re.compile(rf"^\s*({OPS})\s*({CV})\s*$")
RANGE = re.compile(rf"\s*({CV})\s+-\s+({CV})\s*")
FIND = re.compile(rf"({OPS})\s*({CV})")
VALID = re.compile(rf"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")
UINT64_MAX = (1 << 64) - 1
ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789")


class SemVerError(ValueError):
    """A version or constraint Masterminds semver refuses."""


class Version:
    """A Masterminds *semver.Version: prints as String(), encodes as its string in JSON, has Go's methods."""

    __slots__ = ("major", "metadata", "minor", "original", "patch", "pointer", "pre")
    go_kind = "ptr"

    def __init__(self, major: int, minor: int, patch: int, pre: str, metadata: str, original: str) -> None:
        self.major, self.minor, self.patch = major, minor, patch
        self.pre, self.metadata, self.original = pre, metadata, original
        self.pointer = True

    @property
    def go_name(self) -> str:
        return "*semver.Version" if self.pointer else "semver.Version"

    def go_string(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        text += f"-{self.pre}" if self.pre else ""
        return text + (f"+{self.metadata}" if self.metadata else "")

    def go_copy(self) -> Version:
        """copystructure's copy: the unexported fields are not copied."""
        return Version(0, 0, 0, "", "", "")

    def go_struct(self) -> tuple:
        from .values import Uint64

        return (
            Uint64(self.major),
            Uint64(self.minor),
            Uint64(self.patch),
            self.pre,
            self.metadata,
            self.original,
        )

    def go_syntax(self) -> str:
        return (
            f"&semver.Version{{major:{self.major:#x}, minor:{self.minor:#x}, patch:{self.patch:#x}, "
            f'pre:"{self.pre}", metadata:"{self.metadata}", original:"{self.original}"}}'
        )

    def go_json(self) -> str:
        return '"' + self.go_string() + '"'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def key(self) -> tuple:
        return (self.major, self.minor, self.patch, self.pre, self.metadata, self.original, self.pointer)

    def value(self, **changes: Any) -> Version:
        """A Version value (not a pointer), as IncMinor and friends return."""
        fields: dict[str, Any] = {
            "major": self.major,
            "minor": self.minor,
            "patch": self.patch,
            "pre": self.pre,
            "metadata": self.metadata,
            "original": self.original,
        }
        fields.update(changes)
        copy = Version(**fields)
        copy.pointer = False
        copy.original = ("v" if self.original.startswith("v") else "") + copy.go_string()
        return copy


def parse_uint(text: str) -> int:
    value = int(text)
    if value > UINT64_MAX:
        raise SemVerError(
            f'Error parsing version segment: strconv.ParseUint: parsing "{text}": value out of range'
        )
    return value


def new_version(text: str) -> Version:
    """semver.NewVersion: v prefix, missing minor/patch as 0, validated prerelease and metadata."""
    found = VERSION.match(text)
    if found is None:
        raise SemVerError("Invalid Semantic Version")
    major = parse_uint(found.group(1))
    minor = parse_uint(found.group(2)[1:]) if found.group(2) else 0
    patch = parse_uint(found.group(3)[1:]) if found.group(3) else 0
    pre, metadata = found.group(5) or "", found.group(8) or ""
    for part in pre.split(".") if pre else ():
        if part.isdigit():
            if len(part) > 1 and part[0] == "0":
                raise SemVerError("Version segment starts with 0")
        elif not set(part) <= ALLOWED:
            raise SemVerError("Invalid Prerelease string")
    for part in metadata.split(".") if metadata else ():
        if not set(part) <= ALLOWED:
            raise SemVerError("Invalid Metadata string")
    return Version(major, minor, patch, pre, metadata, text)


def compare_part(left: str, right: str) -> int:
    if left == right:
        return 0
    if not left:
        return -1
    if not right:
        return 1
    left_number, right_number = number_or_none(left), number_or_none(right)
    if left_number is None and right_number is None:
        return 1 if left > right else -1
    if right_number is None:
        return -1
    if left_number is None:
        return 1
    return 1 if left_number > right_number else -1


def number_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) <= UINT64_MAX else None


def compare_prerelease(left: str, right: str) -> int:
    left_parts, right_parts = left.split("."), right.split(".")
    for index in range(max(len(left_parts), len(right_parts))):
        result = compare_part(
            left_parts[index] if index < len(left_parts) else "",
            right_parts[index] if index < len(right_parts) else "",
        )
        if result:
            return result
    return 0


def compare(left: Version, right: Version) -> int:
    """Version.Compare: -1, 0 or 1 (metadata ignored; a prerelease sorts before its release)."""
    for a, b in ((left.major, right.major), (left.minor, right.minor), (left.patch, right.patch)):
        if a != b:
            return -1 if a < b else 1
    if not left.pre and not right.pre:
        return 0
    if not left.pre:
        return 1
    if not right.pre:
        return -1
    return compare_prerelease(left.pre, right.pre)


class Constraint:
    """One comparison of a constraint (`>=1.2`, `~1.x`)."""

    def __init__(self, text: str) -> None:
        found = CONSTRAINT.match(text)
        if found is None:
            raise SemVerError(f"improper constraint: {text}")
        self.op, self.orig = found.group(1), found.group(2)
        major, minor, patch, pre = (
            found.group(3),
            found.group(4) or "",
            found.group(5) or "",
            found.group(6) or "",
        )
        self.minor_dirty = self.patch_dirty = self.dirty = False
        version = self.orig
        if is_x(major):
            version, self.dirty = f"0.0.0{pre}", True
        elif is_x(minor[1:]) or not minor:
            version, self.dirty, self.minor_dirty = f"{major}.0.0{pre}", True, True
        elif is_x(patch[1:]) or not patch:
            version, self.dirty, self.patch_dirty = f"{major}{minor}.0{pre}", True, True
        try:
            self.version = new_version(version)
        except SemVerError:
            raise SemVerError("constraint Parser Error") from None

    def check(self, v: Version) -> bool:
        c = self.version
        if v.pre and not c.pre and self.op != "!=":
            return False
        op = self.op
        if op in ("", "="):
            return self.tilde(v) if self.dirty else compare(v, c) == 0
        if op == "!=":
            return self.not_equal(v)
        if op == ">":
            return self.greater(v)
        if op == "<":
            return compare(v, c) < 0
        if op in (">=", "=>"):
            return compare(v, c) >= 0
        if op in ("<=", "=<"):
            return self.less_equal(v)
        if op in ("~", "~>"):
            return self.tilde(v)
        return self.caret(v)

    def not_equal(self, v: Version) -> bool:
        c = self.version
        if not self.dirty:
            return compare(v, c) != 0
        if v.pre and not c.pre:
            return False
        if c.major != v.major:
            return True
        if c.minor != v.minor and not self.minor_dirty:
            return True
        if self.minor_dirty:
            return False
        if c.patch != v.patch and not self.patch_dirty:
            return True
        if self.patch_dirty and (v.pre or c.pre):
            return compare_prerelease(v.pre, c.pre) != 0
        return False

    def greater(self, v: Version) -> bool:
        c = self.version
        if not self.dirty:
            return compare(v, c) == 1
        if v.major != c.major:
            return v.major > c.major
        if self.minor_dirty:
            return False
        if self.patch_dirty:
            return v.minor > c.minor
        return compare(v, c) == 1

    def less_equal(self, v: Version) -> bool:
        c = self.version
        if not self.dirty:
            return compare(v, c) <= 0
        if v.major > c.major:
            return False
        return not (v.major == c.major and v.minor > c.minor and not self.minor_dirty)

    def tilde(self, v: Version) -> bool:
        c = self.version
        if compare(v, c) < 0:
            return False
        if c.major == c.minor == c.patch == 0 and not self.minor_dirty and not self.patch_dirty:
            return True
        if v.major != c.major:
            return False
        return not (v.minor != c.minor and not self.minor_dirty)

    def caret(self, v: Version) -> bool:
        c = self.version
        if compare(v, c) < 0:
            return False
        if c.major > 0 or self.minor_dirty:
            return v.major == c.major
        if v.major > 0:
            return False
        if c.minor > 0 or self.patch_dirty:
            return v.minor == c.minor
        if v.minor > 0:
            return False
        return c.patch == v.patch


def is_x(text: str) -> bool:
    return text in ("x", "*", "X")


def rewrite_range(text: str) -> str:
    for found in RANGE.finditer(text):
        text = text.replace(found.group(0), f">= {found.group(1)}, <= {found.group(11)}", 1)
    return text


def new_constraint(text: str) -> list[list[Constraint]]:
    """semver.NewConstraint: `||`-separated groups of comparisons that must all hold."""
    groups = []
    for part in rewrite_range(text).split("||"):
        if not VALID.match(part):
            raise SemVerError(f"improper constraint: {part}")
        found = [match.group(0) for match in FIND.finditer(part)] or [part]
        groups.append([Constraint(item) for item in found])
    return groups


def semver_compare(constraint: str, version: str) -> bool:
    groups = new_constraint(constraint)
    parsed = new_version(version)
    return any(all(item.check(parsed) for item in group) for group in groups)


def semver(version: str) -> Version:
    return new_version(version)


def increment(receiver: Version, part: str) -> Version:
    if part == "major":
        return receiver.value(major=receiver.major + 1, minor=0, patch=0, pre="", metadata="")
    if part == "minor":
        return receiver.value(minor=receiver.minor + 1, patch=0, pre="", metadata="")
    if receiver.pre:
        return receiver.value(pre="", metadata="")
    return receiver.value(patch=receiver.patch + 1, pre="", metadata="")


def version_methods() -> dict[str, Callable]:
    """Version's Go methods, receiver first (the engine calls them for `.Name` on a version)."""
    from .values import Uint64

    def major(v: Version) -> Uint64:
        return Uint64(v.major)

    def minor(v: Version) -> Uint64:
        return Uint64(v.minor)

    def patch(v: Version) -> Uint64:
        return Uint64(v.patch)

    def prerelease(v: Version) -> str:
        return v.pre

    def metadata(v: Version) -> str:
        return v.metadata

    def original(v: Version) -> str:
        return v.original

    def string(v: Version) -> str:
        return v.go_string()

    def inc_major(v: Version) -> Version:
        return increment(v, "major")

    def inc_minor(v: Version) -> Version:
        return increment(v, "minor")

    def inc_patch(v: Version) -> Version:
        return increment(v, "patch")

    def compare_to(v: Version, other: Version) -> Any:
        from .values import GoInt

        return GoInt(compare(v, other))

    def less_than(v: Version, other: Version) -> bool:
        return compare(v, other) < 0

    def greater_than(v: Version, other: Version) -> bool:
        return compare(v, other) > 0

    def equal(v: Version, other: Version) -> bool:
        return compare(v, other) == 0

    return {
        "Major": major,
        "Minor": minor,
        "Patch": patch,
        "Prerelease": prerelease,
        "Metadata": metadata,
        "Original": original,
        "String": string,
        "IncMajor": inc_major,
        "IncMinor": inc_minor,
        "IncPatch": inc_patch,
        "Compare": compare_to,
        "LessThan": less_than,
        "GreaterThan": greater_than,
        "Equal": equal,
    }


SEMVER: dict[str, Callable] = {"semver": semver, "semverCompare": semver_compare}
_ = INT64_MAX
