"""Sprig's string functions (the string to work on comes last, as in Sprig)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .printf import go_quote
from .sprig import strval

GO_SPACES = " \t\n\v\f\r\x85\xa0"


def trim_all(cutset: str, text: str) -> str:
    return text.strip(cutset)


def trim_prefix(prefix: str, text: str) -> str:
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def trim_suffix(suffix: str, text: str) -> str:
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def title(text: str) -> str:
    """strings.Title: the first letter of each word upper-cased, the rest left alone."""
    out, previous = [], " "
    for char in text:
        out.append(char.upper() if is_separator(previous) else char)
        previous = char
    return "".join(out)


def is_separator(char: str) -> bool:
    """Go's word separator for Title: anything but letters, digits and underscore."""
    return not (char.isalnum() or char == "_")


def replace(old: str, new: str, text: str) -> str:
    return text.replace(old, new)


def repeat(count: int, text: str) -> str:
    if count < 0:
        raise ValueError("strings: negative Repeat count")
    return text * count


def byte_slice(text: str, start: int, end: int | None = None) -> str:
    """text[start:end] counted in UTF-8 bytes, as Go slices strings."""
    return text.encode()[start:end].decode(errors="replace")


def substr(start: int, end: int, text: str) -> str:
    """`substr 0 5 "hello world"`: bytes start..end; a negative start means 0, a bad end the rest."""
    size = len(text.encode())
    if start < 0:
        return byte_slice(text, 0, end)
    if end < 0 or end > size:
        return byte_slice(text, start)
    return byte_slice(text, start, end)


def trunc(count: int, text: str) -> str:
    """`trunc 5 s`: the first 5 bytes; `trunc -5 s`: the last 5."""
    size = len(text.encode())
    if count < 0 and size + count > 0:
        return byte_slice(text, size + count)
    if count >= 0 and size > count:
        return byte_slice(text, 0, count)
    return text


def contains(part: str, text: str) -> bool:
    return part in text


def has_prefix(prefix: str, text: str) -> bool:
    return text.startswith(prefix)


def has_suffix(suffix: str, text: str) -> bool:
    return text.endswith(suffix)


def quote(*values: Any) -> str:
    """`quote a b`: each non-nil value Go-quoted ("..."), joined by spaces."""
    return " ".join(go_quote(strval(value)) for value in values if value is not None)


def squote(*values: Any) -> str:
    """`squote a b`: each non-nil value in single quotes, joined by spaces (no escaping, like Sprig)."""
    return " ".join(f"'{strval(value)}'" for value in values if value is not None)


def cat(*values: Any) -> str:
    return " ".join(strval(value) for value in values if value is not None)


def indent(spaces: int, text: str) -> str:
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def nospace(text: str) -> str:
    return "".join(char for char in text if not char.isspace())


def abbrev(width: int, text: str) -> str:
    """`abbrev 5 "hello world"` -> "he...": at most width characters, ending in "..."."""
    if width < 4 or len(text) <= width:
        return text
    return text[: width - 3] + "..."


def trim(text: str) -> str:
    return text.strip()


def upper(text: str) -> str:
    return text.upper()


def lower(text: str) -> str:
    return text.lower()


TEXT: dict[str, Callable] = {
    "trim": trim,
    "trimAll": trim_all,
    "trimPrefix": trim_prefix,
    "trimSuffix": trim_suffix,
    "upper": upper,
    "lower": lower,
    "title": title,
    "replace": replace,
    "repeat": repeat,
    "substr": substr,
    "trunc": trunc,
    "contains": contains,
    "hasPrefix": has_prefix,
    "hasSuffix": has_suffix,
    "quote": quote,
    "squote": squote,
    "cat": cat,
    "indent": indent,
    "nospace": nospace,
    "abbrev": abbrev,
}
