"""Sprig's encodings (JSON as encoding/json writes it, base64/32, hashes), RE2 regular expressions with Go's
match and replacement rules, paths (Go's path package), URLs and type reflection."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import re2

from .budget import MAX_REGEX_MATCHES, MAX_VALUE_BYTES, LimitError, check_size
from .printf import go_quote
from .printing import float_digits
from .sprig_lists import go_kind
from .values import GoInt, StringList, go_type

JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
JSON_CONTROL = {"\b": "\\u0008", "\f": "\\u000c", "\u2028": "\\u2028", "\u2029": "\\u2029"}
RE2_OPTIONS = re2.Options()
RE2_OPTIONS.log_errors = False


def json_float(value: float) -> str:
    """encoding/json's float64: shortest digits, exponent only below 1e-6 or from 1e21."""
    if not math.isfinite(value):
        raise ValueError(f"json: unsupported value: {value!r}".replace("inf", "+Inf").replace("nan", "NaN"))
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        sign, digits, point = (
            float_digits(value) if value else ("-" if math.copysign(1, value) < 0 else "", "0", 1)
        )
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        whole, fraction = (digits + "0" * point)[:point], digits[point:]
        return sign + whole + ("." + fraction if fraction else "")
    text = repr(value).replace("e-0", "e-")
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa.removesuffix('.0')}e{'' if exponent.startswith('-') else '+'}{exponent.lstrip('+')}"


def json_string(text: str, escape_html: bool) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    out = []
    for char in encoded:
        if escape_html and char in JSON_ESCAPES:
            out.append(JSON_ESCAPES[char])
        else:
            out.append(JSON_CONTROL.get(char, char))
    return (
        "".join(out).replace("\\b", "\\u0008").replace("\\f", "\\u000c") if "\\" in encoded else "".join(out)
    )


def go_json(value: Any, escape_html: bool = True, indent: str | None = None, depth: int = 0) -> str:
    """encoding/json.Marshal (sorted map keys, `<>&` escaped unless escape_html is false), or MarshalIndent."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, str):
        return json_string(value, escape_html)
    if isinstance(value, datetime):
        from .sprig_time import rfc3339_nano

        return json_string(rfc3339_nano(value), escape_html)
    if hasattr(value, "go_json"):
        return value.go_json()
    inner = None if indent is None else "\n" + indent * (depth + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{json_string(str(key), escape_html)}:{'' if inner is None else ' '}"
            f"{go_json(value[key], escape_html, indent, depth + 1)}"
            for key in sorted(value)
        ]
        return wrap_json("{", items, "}", inner, indent, depth)
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]" if value is not None else "null"
        items = [go_json(item, escape_html, indent, depth + 1) for item in value]
        return wrap_json("[", items, "]", inner, indent, depth)
    raise ValueError(f"json: unsupported type: {go_type(value)}")


def wrap_json(
    start: str, items: list[str], end: str, inner: str | None, indent: str | None, depth: int
) -> str:
    if inner is None:
        return start + ",".join(items) + end
    return start + inner + ("," + inner).join(items) + "\n" + (indent or "") * depth + end


def to_json(value: Any) -> str:
    """`toJson`: the JSON text, or "" when the value cannot be encoded (as Sprig)."""
    try:
        return go_json(value)
    except ValueError:
        return ""


def must_to_json(value: Any) -> str:
    return go_json(value)


def to_pretty_json(value: Any) -> str:
    try:
        return go_json(value, indent="  ")
    except ValueError:
        return ""


def must_to_pretty_json(value: Any) -> str:
    return go_json(value, indent="  ")


def to_raw_json(value: Any) -> str:
    return go_json(value, escape_html=False)


def reject_constant(name: str) -> float:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def json_number(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value


def must_from_json(text: str) -> Any:
    """encoding/json.Unmarshal into interface{}: every number a float64."""
    try:
        return json.loads(
            text, parse_int=json_number, parse_float=json_number, parse_constant=reject_constant
        )
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()):
            raise ValueError("unexpected end of JSON input") from None
        char = text[error.pos]
        if error.msg == "Expecting value":
            raise ValueError(f"invalid character {go_char(char)} looking for beginning of value") from None
        if error.msg == "Extra data":
            raise ValueError(f"invalid character {go_char(char)} after top-level value") from None
        raise ValueError(
            f"invalid character {go_char(char)} {JSON_CONTEXTS.get(error.msg, 'in JSON')}"
        ) from None


JSON_CONTEXTS = {
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
}


def go_char(char: str) -> str:
    """encoding/json's quoteChar: `'a'`, `'\\''`, `'"'`."""
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    return "'" + go_quote(char)[1:-1] + "'"


def from_json(text: str) -> Any:
    """`fromJson`: the decoded value, or nil for bad JSON (as Sprig)."""
    try:
        return must_from_json(text)
    except ValueError:
        return None


def b64enc(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def b64dec(text: str) -> str:
    """`b64dec`: the decoded text, or Go's error message as the text (as Sprig)."""
    try:
        return base64.b64decode(text.encode(), validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        return f"illegal base64 data at input byte {bad_base64_byte(text, 4, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}"


def bad_base64_byte(text: str, quantum: int, alphabet: str) -> int:
    """The offset Go's decoder reports for bad base64/base32 input."""
    data = text.encode()
    for index, byte in enumerate(data):
        char = chr(byte)
        if char == "=":
            if index % quantum < 2 or len(data) % quantum:
                return index if index % quantum < 2 else len(data) - (len(data) % quantum or quantum)
            return len(data)
        if char not in alphabet:
            return index
    return len(data) - len(data) % quantum if len(data) % quantum else len(data)


def b32enc(text: str) -> str:
    return base64.b32encode(text.encode()).decode()


def b32dec(text: str) -> str:
    try:
        return base64.b32decode(text.encode()).decode(errors="replace")
    except (binascii.Error, ValueError):
        return f"illegal base32 data at input byte {bad_base64_byte(text, 8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}"


def sha1sum(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def sha256sum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def adler32sum(text: str) -> str:
    return str(zlib.adler32(text.encode()))


RE2_TO_GO = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "unexpected )": "unexpected )",
    "bad repetition operator": "invalid nested repetition operator",
    "bad repetition argument": "invalid repeat count",
    "bad repetition size": "invalid repeat count",
    "bad escape sequence": "invalid escape sequence",
    "invalid escape sequence": "invalid escape sequence",
    "bad character class range": "invalid character class range",
    "bad character class": "invalid character class",
    "trailing \\": "trailing backslash at end of expression",
    "bad named capture group": "invalid named capture",
    "bad perl operator": "invalid or unsupported Perl syntax",
    "invalid UTF-8": "invalid UTF-8",
}


def go_regex_error(message: str) -> str:
    """RE2's parse error in Go's words (`error parsing regexp: missing closing ): ...`)."""
    code, _, argument = message.partition(": ")
    return f"error parsing regexp: {RE2_TO_GO.get(code, code)}: `{argument}`"


def compile_regex(pattern: str, must: bool = True) -> Any:
    """An RE2 pattern, as Go's regexp compiles it; raises ValueError with Go's message (`must`: the error
    of the must* functions; otherwise Sprig's MustCompile panic text)."""
    try:
        return re2.compile(pattern, options=RE2_OPTIONS)
    except re2.error as error:
        message = error.args[0] if error.args else str(error)
        if isinstance(message, bytes):
            message = message.decode(errors="replace")
        text = go_regex_error(message)
        if not must:
            quoted = f"`{pattern}`" if "`" not in pattern and pattern.isprintable() else go_quote(pattern)
            text = f"regexp: Compile({quoted}): {text}"
        raise ValueError(text) from None


def matches(regex: Any, text: str, limit: int = -1) -> Iterator[Any]:
    """Go's allMatches: successive matches; an empty match right after a match is skipped. One pass of
    finditer, which advances as Go does (searching again at each position re-encoded the whole text: a
    quadratic cost on long texts)."""
    previous_end, count = -1, 0
    for found in regex.finditer(text):
        if 0 <= limit <= count:
            return
        start, end = found.span()
        accept = not (start == end == previous_end)
        previous_end = end
        if accept:
            count += 1
            if count > MAX_REGEX_MATCHES:
                raise LimitError(f"more than {MAX_REGEX_MATCHES} regular expression matches in one call")
            yield found


def regex_match(pattern: str, text: str) -> bool:
    """`regexMatch`: false for a bad pattern (as Sprig)."""
    try:
        return compile_regex(pattern).search(text) is not None
    except ValueError:
        return False


def must_regex_match(pattern: str, text: str) -> bool:
    return compile_regex(pattern).search(text) is not None


def find_regex(pattern: str, text: str, must: bool) -> str:
    found = compile_regex(pattern, must).search(text)
    return found.group() if found else ""


def must_regex_find(pattern: str, text: str) -> str:
    return find_regex(pattern, text, True)


def regex_find(pattern: str, text: str) -> str:
    return find_regex(pattern, text, False)


def find_all_regex(pattern: str, text: str, limit: int, must: bool) -> Any:
    """`regexFindAll "re" s n`: at most n matches (all when n < 0)."""
    regex = compile_regex(pattern, must)
    if limit == 0:
        return StringList()
    return StringList(match.group() for match in matches(regex, text, limit))


def must_regex_find_all(pattern: str, text: str, limit: int) -> Any:
    return find_all_regex(pattern, text, limit, True)


def regex_find_all(pattern: str, text: str, limit: int) -> Any:
    return find_all_regex(pattern, text, limit, False)


def expand(template: str, found: Any, names: dict[str, int]) -> str:
    """Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` and `$$` in a replacement."""
    out, rest = [], template
    while True:
        before, dollar, rest = rest.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        name, rest_after = extract_name(rest)
        if name is None:
            out.append("$")
            continue
        rest = rest_after
        group = int(name) if name.isdigit() else names.get(name)
        if group is not None and group <= found.re.groups:
            out.append(found.group(group) or "")


def extract_name(text: str) -> tuple[str | None, str]:
    """The group name after `$` (braced or the longest run of letters, digits and _), and the rest."""
    if text.startswith("{"):
        end = text.find("}")
        name = text[1:end] if end > 1 else ""
        if end < 0 or not name or not all(char.isalnum() or char == "_" for char in name):
            return None, text
        return name, text[end + 1 :]
    index = 0
    while index < len(text) and (text[index].isascii() and (text[index].isalnum() or text[index] == "_")):
        index += 1
    return (text[:index], text[index:]) if index else (None, text)


def replace_all(pattern: str, text: str, replacement: Callable[[Any], str], must: bool) -> str:
    out, position, size = [], 0, len(text)
    for found in matches(compile_regex(pattern, must), text):
        out.append(text[position : found.start()])
        out.append(replacement(found))
        size += len(out[-1])
        if size > MAX_VALUE_BYTES:
            check_size(size)
        position = found.end()
    out.append(text[position:])
    return "".join(out)


def replace_regex(pattern: str, text: str, replacement: str, must: bool) -> str:
    names = dict(compile_regex(pattern, must).groupindex)
    return replace_all(pattern, text, lambda found: expand(replacement, found, names), must)


def must_regex_replace_all(pattern: str, text: str, replacement: str) -> str:
    return replace_regex(pattern, text, replacement, True)


def regex_replace_all(pattern: str, text: str, replacement: str) -> str:
    return replace_regex(pattern, text, replacement, False)


def replace_regex_literal(pattern: str, text: str, replacement: str, must: bool) -> str:
    return replace_all(pattern, text, lambda found: replacement, must)


def must_regex_replace_all_literal(pattern: str, text: str, replacement: str) -> str:
    return replace_regex_literal(pattern, text, replacement, True)


def regex_replace_all_literal(pattern: str, text: str, replacement: str) -> str:
    return replace_regex_literal(pattern, text, replacement, False)


def split_regex(pattern: str, text: str, limit: int, must: bool) -> StringList:
    """Go's Regexp.Split: the texts between matches (at most limit parts when limit > 0)."""
    regex = compile_regex(pattern, must)
    if limit == 0:
        return StringList()
    if pattern and not text:
        return StringList([""])
    parts, start, end = StringList(), 0, 0
    for found in matches(regex, text, limit):
        if limit > 0 and len(parts) == limit - 1:
            break
        end = found.start()
        if found.end() != 0:
            parts.append(text[start:end])
        start = found.end()
    if end != len(text):
        parts.append(text[start:])
    return parts


def must_regex_split(pattern: str, text: str, limit: int) -> StringList:
    return split_regex(pattern, text, limit, True)


def regex_split(pattern: str, text: str, limit: int) -> StringList:
    return split_regex(pattern, text, limit, False)


def regex_quote_meta(text: str) -> str:
    """regexp.QuoteMeta: `\\.+*?()|[]{}^$` escaped."""
    return "".join("\\" + char if char in "\\.+*?()|[]{}^$" else char for char in text)


def clean(path: str) -> str:
    """path.Clean: the shortest equivalent path."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    text = "/".join(parts)
    return ("/" + text if rooted else text) or ("/" if rooted else ".")


def base(path: str) -> str:
    """path.Base: the last element, trailing slashes removed."""
    if not path:
        return "."
    path = path.rstrip("/")
    return path.rsplit("/", 1)[-1] if path else "/"


def dir_(path: str) -> str:
    return clean(path[: path.rfind("/") + 1])


def ext(path: str) -> str:
    for index in range(len(path) - 1, -1, -1):
        if path[index] == "/":
            return ""
        if path[index] == ".":
            return path[index:]
    return ""


def is_abs(path: str) -> bool:
    return path.startswith("/")


def type_of(value: Any) -> str:
    return "<nil>" if value is None else go_type(value)


def type_is(target: str, value: Any) -> bool:
    return target == type_of(value)


def type_is_like(target: str, value: Any) -> bool:
    found = type_of(value)
    return target in (found, found.removeprefix("*")) and (target == found or "*" + target == found)


def kind_of(value: Any) -> str:
    return go_kind(value)


def kind_is(target: str, value: Any) -> bool:
    return target == go_kind(value)


ENCODING: dict[str, Callable] = {
    "toJson": to_json,
    "mustToJson": must_to_json,
    "toPrettyJson": to_pretty_json,
    "mustToPrettyJson": must_to_pretty_json,
    "toRawJson": to_raw_json,
    "mustToRawJson": to_raw_json,
    "fromJson": from_json,
    "mustFromJson": must_from_json,
    "b64enc": b64enc,
    "b64dec": b64dec,
    "b32enc": b32enc,
    "b32dec": b32dec,
    "sha1sum": sha1sum,
    "sha256sum": sha256sum,
    "adler32sum": adler32sum,
    "regexMatch": regex_match,
    "mustRegexMatch": must_regex_match,
    "regexFind": regex_find,
    "mustRegexFind": must_regex_find,
    "regexFindAll": regex_find_all,
    "mustRegexFindAll": must_regex_find_all,
    "regexReplaceAll": regex_replace_all,
    "mustRegexReplaceAll": must_regex_replace_all,
    "regexReplaceAllLiteral": regex_replace_all_literal,
    "mustRegexReplaceAllLiteral": must_regex_replace_all_literal,
    "regexSplit": regex_split,
    "mustRegexSplit": must_regex_split,
    "regexQuoteMeta": regex_quote_meta,
    "base": base,
    "dir": dir_,
    "clean": clean,
    "ext": ext,
    "isAbs": is_abs,
    "osBase": base,
    "osDir": dir_,
    "osClean": clean,
    "osExt": ext,
    "osIsAbs": is_abs,
    "typeOf": type_of,
    "typeIs": type_is,
    "typeIsLike": type_is_like,
    "kindOf": kind_of,
    "kindIs": kind_is,
}
_ = GoInt
