"""Sprig's string functions (the string to work on comes last, as in Sprig), with Go's byte-based slicing
and Unicode rules (unicode.IsSpace, simple case mappings)."""

from __future__ import annotations

import random
import secrets
import string
import unicodedata
from collections.abc import Callable
from typing import Any

from .budget import check_size
from .printf import go_quote
from .printing import format_value
from .sprig_lists import go_split, strval
from .values import StringMap

GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(code) for code in range(0x2000, 0x200B)
)


def is_space(char: str) -> bool:
    """unicode.IsSpace."""
    return char in GO_SPACES


def category(char: str) -> str:
    return unicodedata.category(char)


def is_letter(char: str) -> bool:
    return category(char).startswith("L")


def is_upper(char: str) -> bool:
    return category(char) == "Lu"


def is_lower(char: str) -> bool:
    return category(char) == "Ll"


def is_punct(char: str) -> bool:
    return category(char).startswith("P")


def is_number(char: str) -> bool:
    return category(char).startswith("N")


def to_upper(char: str) -> str:
    """unicode.ToUpper: the simple mapping (ß stays ß)."""
    upper = char.upper()
    return upper if len(upper) == 1 else char


def to_lower(char: str) -> str:
    lower = char.lower()
    return lower if len(lower) == 1 else lower[0]


def to_title(char: str) -> str:
    title = char.title()
    return title if len(title) == 1 else to_upper(char)


def go_upper(text: str) -> str:
    return text.upper() if text.isascii() else "".join(to_upper(char) for char in text)


def go_lower(text: str) -> str:
    return text.lower() if text.isascii() else "".join(to_lower(char) for char in text)


def trim(text: str) -> str:
    """strings.TrimSpace."""
    return text.strip("".join(GO_SPACES))


def trim_all(cutset: str, text: str) -> str:
    return text.strip(cutset) if cutset else text


def trim_prefix(prefix: str, text: str) -> str:
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def trim_suffix(suffix: str, text: str) -> str:
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def title(text: str) -> str:
    """strings.Title: the first letter of each word in title case, the rest left alone."""
    out, previous = [], " "
    for char in text:
        out.append(to_title(char) if is_separator(previous) else char)
        previous = char
    return "".join(out)


def is_separator(char: str) -> bool:
    """Go's word separator for Title."""
    if char <= "\x7f":
        return not (char.isalnum() or char == "_")
    if is_letter(char) or category(char) == "Nd":
        return False
    return is_space(char)


def untitle(text: str) -> str:
    """goutils.Uncapitalize: the first letter of each space-separated word in lower case."""
    out, after_space = [], True
    for char in text:
        if is_space(char):
            after_space = True
        elif after_space:
            char, after_space = to_lower(char), False
        out.append(char)
    return "".join(out)


def swapcase(text: str) -> str:
    """goutils.SwapCase: upper to lower; lower to title after a space, else to upper."""
    out, after_space = [], True
    for char in text:
        if is_upper(char) or category(char) == "Lt":
            char, after_space = to_lower(char), False
        elif is_lower(char):
            char, after_space = (to_title(char) if after_space else to_upper(char)), False
        else:
            after_space = is_space(char)
        out.append(char)
    return "".join(out)


def byte_chars(text: str) -> list[str]:
    """The bytes of the text's UTF-8 as Latin-1 characters (goutils reads strings byte by byte)."""
    return [chr(byte) for byte in text.encode()]


def initials(text: str) -> str:
    """goutils.Initials: the first byte of each space-separated word."""
    out, gap = [], True
    for char in byte_chars(text):
        if is_space(char):
            gap = True
        elif gap:
            out.append(char)
            gap = False
    return "".join(out)


def nospace(text: str) -> str:
    """goutils.DeleteWhiteSpace (byte by byte, as goutils does)."""
    chars = byte_chars(text)
    kept = [char for char in chars if not is_space(char)]
    return text if len(kept) == len(chars) else "".join(kept)


def replace(old: str, new: str, text: str) -> str:
    """strings.Replace(text, old, new, -1): an empty old inserts new around every character."""
    if old:
        if len(new) > len(old):
            check_size(len(text) + text.count(old) * (len(new) - len(old)))
        return text.replace(old, new)
    check_size(len(text) + (len(text) + 1) * len(new))
    return new + new.join(text) + new if text else new


def repeat(count: int, text: str) -> str:
    if count < 0:
        raise ValueError("strings: negative Repeat count")
    check_size(count * len(text))
    return text * count


def go_bytes_slice(text: str, start: int | None, end: int | None) -> str:
    """text[start:end] in UTF-8 bytes with Go's bounds checks (a panic is the template error)."""
    data = text.encode()
    low = 0 if start is None else start
    high = len(data) if end is None else end
    if end is not None and not 0 <= high <= len(data):
        length = f" with length {len(data)}" if high > 0 else ""
        raise ValueError(f"runtime error: slice bounds out of range [:{high}]{length}")
    if not 0 <= low <= high:
        if end is None:
            raise ValueError(f"runtime error: slice bounds out of range [{low}:{len(data)}]")
        raise ValueError(f"runtime error: slice bounds out of range [{low}:{high}]")
    return data[low:high].decode(errors="replace")


def substr(start: int, end: int, text: str) -> str:
    """`substr 0 5 "hello world"`: bytes start..end; a negative start means 0, a bad end the rest."""
    if start < 0:
        return go_bytes_slice(text, None, end)
    if end < 0 or end > len(text.encode()):
        return go_bytes_slice(text, start, None)
    return go_bytes_slice(text, start, end)


def trunc(count: int, text: str) -> str:
    """`trunc 5 s`: the first 5 bytes; `trunc -5 s`: the last 5."""
    size = len(text.encode())
    if count < 0 and size + count > 0:
        return go_bytes_slice(text, size + count, None)
    if count >= 0 and size > count:
        return go_bytes_slice(text, None, count)
    return text


def abbreviate(text: str, offset: int, width: int) -> str:
    """goutils.AbbreviateFull (byte lengths)."""
    size = len(text.encode())
    if not text:
        return ""
    if width < 4:
        return ""
    if size <= width:
        return text
    offset = min(offset, size)
    if size - offset < width - 3:
        offset = size - (width - 3)
    if offset <= 4:
        return go_bytes_slice(text, 0, width - 3) + "..."
    if width < 7:
        return ""
    if offset + width - 3 < size:
        return "..." + abbreviate(go_bytes_slice(text, offset, None), 0, width - 3)
    return "..." + go_bytes_slice(text, size - (width - 3), None)


def abbrev(width: int, text: str) -> str:
    """`abbrev 5 "hello world"` -> "he...": at most width bytes, ending in "..."."""
    return text if width < 4 else abbreviate(text, 0, width)


def abbrevboth(left: int, right: int, text: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return text
    return abbreviate(text, left, right)


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
    return " ".join(f"'{format_value(value)}'" for value in values if value is not None)


def cat(*values: Any) -> str:
    return " ".join(format_value(value) for value in values if value is not None)


def indent(spaces: int, text: str) -> str:
    if spaces < 0:
        raise ValueError("strings: negative Repeat count")
    check_size(len(text) + spaces * (text.count("\n") + 1))
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def nindent(spaces: int, text: str) -> str:
    return "\n" + indent(spaces, text)


def plural(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def wrap_custom(text: str, width: int, newline: str, wrap_long: bool) -> str:
    """goutils.WrapCustom: wraps at spaces (byte offsets), leading spaces of a line dropped."""
    if not text:
        return ""
    data = text.encode()
    newline_bytes = (newline or "\n").encode()
    width = max(width, 1)
    out, offset, size = bytearray(), 0, len(data)
    while size - offset > width:
        if data[offset] == 0x20:
            offset += 1
            continue
        space = data.rfind(b" ", offset, width + offset + 1)
        if space >= offset:
            out += data[offset:space] + newline_bytes
            offset = space + 1
        elif wrap_long:
            out += data[offset : offset + width] + newline_bytes
            offset += width
        else:
            following = data.find(b" ", width + offset)
            if following == -1:
                out += data[offset:]
                offset = size
            else:
                out += data[offset:following] + newline_bytes
                offset = following + 1
    out += data[offset:]
    return out.decode(errors="replace")


def wrap(width: int, text: str) -> str:
    return wrap_custom(text, width, "", False)


def wrap_with(width: int, separator: str, text: str) -> str:
    if len(separator) > 1:  # each break (at most one per space, or per `width` bytes) adds the separator
        check_size(len(text) + (text.count(" ") + len(text) // max(width, 1) + 1) * len(separator))
    return wrap_custom(text, width, separator, True)


def is_connector(char: str) -> bool:
    return char in "-_" or is_space(char)


def is_alphabet(char: str) -> bool:
    """xstrings' isAlphabet: letters that are not CJK ideographs."""
    if not is_letter(char):
        return False
    code = ord(char)
    return not (0x4E00 <= code <= 0x9FCC or 0x3400 <= code <= 0x4D85 or 0x20000 <= code <= 0x2B81D)


def camelcase(text: str) -> str:
    """xstrings.ToCamelCase: connectors (`-`, `_`, spaces) removed, the next letter upper-cased."""
    out: list[str] = []
    chars = list(text)
    index = 0
    current = ""
    while index < len(chars):
        current = chars[index]
        index += 1
        if not is_connector(current):
            current = to_upper(current)
            break
        out.append(current)
    else:
        return "".join(out)
    while index < len(chars):
        previous, current = current, chars[index]
        index += 1
        if is_connector(current) and is_connector(previous):
            out.append(previous)
            continue
        if is_connector(previous):
            current = to_upper(current)
        else:
            current = to_lower(current)
            out.append(previous)
    out.append(current)
    return "".join(out)


def next_word(text: str, start: int) -> tuple[str, str, int]:
    """xstrings' nextWord: the kind of the word at `start`, the word and where the rest starts (a position,
    not a copy of the rest: copying made long texts quadratic)."""
    if start >= len(text):
        return "invalid", "", start
    first, offset = text[start], start + 1
    if is_connector(first):
        kind = "connector"
        while offset < len(text) and is_connector(text[offset]):
            offset += 1
    elif is_punct(first):
        kind = "punct"
        while offset < len(text) and is_punct(text[offset]):
            offset += 1
    elif is_upper(first):
        kind = "upper"
        if offset < len(text):
            if is_upper(text[offset]):
                while offset < len(text) and is_upper(text[offset]):
                    offset += 1
                if offset < len(text) and is_alphabet(text[offset]):
                    offset -= 1
            elif is_alphabet(text[offset]):
                while offset < len(text) and is_alphabet(text[offset]) and not is_upper(text[offset]):
                    offset += 1
    elif is_alphabet(first):
        kind = "alphabet"
        while offset < len(text) and is_alphabet(text[offset]) and not is_upper(text[offset]):
            offset += 1
    elif is_number(first):
        kind = "number"
        while offset < len(text) and is_number(text[offset]):
            offset += 1
    else:
        kind = "other"
        while offset < len(text):
            char = text[offset]
            if is_connector(char) or is_alphabet(char) or is_number(char) or is_punct(char):
                break
            offset += 1
    return kind, text[start:offset], offset


def lower_word(out: list[str], kind: str, word: str, connector: str) -> None:
    """xstrings' toLower: upper-case words and connectors rewritten, other words kept."""
    if kind not in ("upper", "connector"):
        out.append(word)
        return
    for char in word:
        out.append(connector if is_connector(char) else to_lower(char) if is_upper(char) else char)


def lower_joined(text: str, connector: str) -> str:
    """xstrings' camelCaseToLowerCase (snakecase, kebabcase)."""
    if not text:
        return ""
    out: list[str] = []
    kind, word, position = next_word(text, 0)
    while position < len(text):
        if kind != "connector":
            lower_word(out, kind, word, connector)
        previous, last = kind, word
        kind, word, position = next_word(text, position)
        if previous == "number":
            while kind in ("alphabet", "number"):
                lower_word(out, kind, word, connector)
                kind, word, position = next_word(text, position)
            if kind not in ("invalid", "punct", "connector"):
                out.append(connector)
        elif previous == "connector":
            lower_word(out, previous, last, connector)
        elif previous == "punct":
            pass
        elif kind != "number":
            if kind not in ("connector", "punct"):
                out.append(connector)
        elif position < len(text):
            last = word
            kind, word, position = next_word(text, position)
            if kind != "alphabet":
                lower_word(out, "number", last, connector)
                if kind not in ("connector", "punct"):
                    out.append(connector)
            else:
                out.append(connector)
                lower_word(out, "number", last, connector)
                while kind in ("alphabet", "number"):
                    lower_word(out, kind, word, connector)
                    kind, word, position = next_word(text, position)
                if kind not in ("invalid", "connector", "punct"):
                    out.append(connector)
    lower_word(out, kind, word, connector)
    return "".join(out)


def snakecase(text: str) -> str:
    return lower_joined(text, "_")


def kebabcase(text: str) -> str:
    return lower_joined(text, "-")


def shuffle(text: str) -> str:
    """goutils.Shuffle: the characters in a random order (math/rand in Go: no secret, so a fast generator)."""
    chars = list(text)
    random.Random(secrets.randbits(64)).shuffle(chars)
    return "".join(chars)


def random_text(alphabet: str, count: int) -> str:
    check_size(count)
    return "".join(secrets.choice(alphabet) for _ in range(count)) if count > 0 else ""


def rand_alpha(count: int) -> str:
    return random_text(string.ascii_letters, count)


def rand_alpha_num(count: int) -> str:
    return random_text(string.ascii_letters + string.digits, count)


def rand_numeric(count: int) -> str:
    return random_text(string.digits, count)


def rand_ascii(count: int) -> str:
    return random_text("".join(chr(code) for code in range(32, 127)), count)


def split(separator: str, text: str) -> StringMap:
    """`split "," "a,b"`: a map `_0`, `_1`, ... of the parts."""
    return StringMap({f"_{index}": part for index, part in enumerate(go_split(text, separator))})


def splitn(separator: str, count: int, text: str) -> StringMap:
    return StringMap({f"_{index}": part for index, part in enumerate(go_split(text, separator, count))})


def split_list(separator: str, text: str) -> list[str]:
    from .values import StringList

    return StringList(go_split(text, separator))


def to_string(value: Any) -> str:
    return strval(value)


TEXT: dict[str, Callable] = {
    "trim": trim,
    "trimAll": trim_all,
    "trimall": trim_all,
    "trimPrefix": trim_prefix,
    "trimSuffix": trim_suffix,
    "upper": go_upper,
    "lower": go_lower,
    "title": title,
    "untitle": untitle,
    "swapcase": swapcase,
    "initials": initials,
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
    "nindent": nindent,
    "nospace": nospace,
    "abbrev": abbrev,
    "abbrevboth": abbrevboth,
    "plural": plural,
    "wrap": wrap,
    "wrapWith": wrap_with,
    "camelcase": camelcase,
    "snakecase": snakecase,
    "kebabcase": kebabcase,
    "shuffle": shuffle,
    "randAlpha": rand_alpha,
    "randAlphaNum": rand_alpha_num,
    "randNumeric": rand_numeric,
    "randAscii": rand_ascii,
    "split": split,
    "splitn": splitn,
    "splitList": split_list,
    "toString": to_string,
}
