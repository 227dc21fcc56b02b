"""Lists of caller values folded into one marker, so a list's length does not change the query's shape.

`{{ as_sql_list .args.ids }}` prints `(m0, 'm1', m2, ...)`: without folding, every new length is a new shape
to tokenize, parse and cache (a 200,000-item list cost 11 s of CPU and 700 MB). Folded, `IN (m0)` is checked
once and binding writes as many placeholders as the list has items.

Only a parenthesized run of two or more markers with the same source (one argument's items) is folded,
and every marker is numbered anew, so the folded text is the same for every length. The binder falls back
to the shape as printed when a folded marker does not end up as one whole slot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from project.sql import sentinels

_ITEM = r"'?__sluice_arg_\d+__'?"
_PREFIX = len("__sluice_arg_")
_TOKEN = re.compile(rf"(?P<run>\(\s*{_ITEM}(?:\s*,\s*{_ITEM})+\s*\))|__sluice_arg_(?P<one>\d+)__")


@dataclass(frozen=True)
class Member:
    """One caller value of a folded marker: its index in the render, and whether it was printed quoted."""

    index: int
    quoted: bool = False
    clean: bool = True  # the whole item is the marker, bare or in quotes (not half of a string literal)


@dataclass(frozen=True)
class Folded:
    """The shape with runs folded: `groups[k]` lists the caller values marker k stands for."""

    sql: str
    sources: tuple[str, ...]
    groups: tuple[tuple[Member, ...], ...]


def fold_lists(shape_sql: str, sources: Sequence[str]) -> Folded | None:
    """The folded shape, or None when there is no run to fold (or a marker the render did not print)."""
    if len(sources) < 2:  # a run is two or more printed values, each its own marker: none to fold
        return None
    groups: list[tuple[Member, ...]] = []
    seen = {"folded": False, "unknown": False}

    def renumber(match: re.Match) -> str:
        index = int(match.group(1))
        seen["unknown"] |= index >= len(sources)
        groups.append((Member(index),))
        return sentinels.marker(len(groups) - 1)

    def replace(match: re.Match) -> str:
        members = _members(match)
        if not any(member.index >= len(sources) for member in members) and _foldable(members, sources):
            seen["folded"] = True
            groups.append(members)
            return "(" + sentinels.marker(len(groups) - 1) + ")"
        return sentinels.PATTERN.sub(renumber, match.group(0))  # every other character kept as printed

    sql = _TOKEN.sub(replace, shape_sql)
    if seen["unknown"] or not seen["folded"]:
        return None  # nothing folded, or text the project wrote that looks like a marker (refused unfolded)
    return Folded(sql, tuple(sources[group[0].index] for group in groups), tuple(groups))


def _foldable(members: tuple[Member, ...], sources: Sequence[str]) -> bool:
    """Two or more items of one argument, each a bare or a wholly quoted marker."""
    return (
        len(members) > 1
        and all(member.clean for member in members)
        and len({sources[member.index] for member in members}) == 1
    )


def _members(match: re.Match) -> tuple[Member, ...]:
    if match.group("one") is not None:
        return (Member(int(match.group("one"))),)
    return tuple(_member(item) for item in re.findall(_ITEM, match.group("run")))


def _member(item: str) -> Member:
    quoted = item.startswith("'") and item.endswith("'")
    clean = quoted or "'" not in item
    return Member(int(item.strip("'")[_PREFIX:-2]), quoted, clean)
