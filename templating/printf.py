"""Go's fmt.Sprintf for templates: verbs v s d f g e q x X t c b o U %, flags `-+# 0`, width, precision."""

from __future__ import annotations

import math
import re
from typing import Any

from .printing import format_float as format_float_value
from .printing import format_value
from .values import basic_kind, go_type

DIRECTIVE = re.compile(r"%([-+# 0]*)(?:\[(\d+)\])?(\d+)?(?:\.(\d*))?(.?)", re.DOTALL)
QUOTE_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
VERBS = {"bool": "tv", "int": "bcdoOqxXUv", "float": "eEfFgGxXv", "string": "sqxXv"}


class Spec:
    """One directive's flags, width and precision."""

    __slots__ = ("flags", "precision", "width")

    def __init__(self, flags: str, width: str | None, precision: str | None) -> None:
        self.flags = flags
        self.width = int(width) if width else 0
        self.precision = None if precision is None else int(precision or 0)


def sprintf(format: str, *args: Any) -> str:
    """fmt.Sprintf with Go's verbs and its `%!verb(type=value)` texts for mistakes."""
    out, position, used, reordered = [], 0, 0, False
    for match in DIRECTIVE.finditer(format):
        out.append(format[position : match.start()])
        position = match.end()
        flags, arg_index, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        if not verb:
            out.append("%!(NOVERB)")
            continue
        used = int(arg_index) - 1 if arg_index else used
        reordered = reordered or bool(arg_index)
        if used >= len(args) or used < 0:
            out.append(f"%!{verb}(BADINDEX)" if arg_index else f"%!{verb}(MISSING)")
            continue
        out.append(format_verb(verb, args[used], Spec(flags, width, precision)))
        used += 1
    out.append(format[position:])
    if used < len(args) and not reordered:
        extra = ", ".join(describe(arg) for arg in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def describe(value: Any) -> str:
    """`type=value` as Go prints a wrong or extra argument; nil is `<nil>`."""
    return "<nil>" if value is None else f"{go_type(value)}={format_value(value)}"


def format_verb(verb: str, value: Any, spec: Spec) -> str:
    """One argument formatted by one verb; lists and maps are formatted element by element."""
    if verb == "T":
        return pad(go_type(value), spec)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_verb(verb, item, spec) for item in value) + "]"
    if isinstance(value, dict) and not hasattr(value, "go_string"):
        return (
            "map["
            + " ".join(
                f"{format_verb(verb, key, spec)}:{format_verb(verb, value[key], spec)}"
                for key in sorted(value)
            )
            + "]"
        )
    kind = basic_kind(value)
    if kind in ("nil", "other"):
        if verb not in "vs" or value is None and verb == "s":
            return f"%!{verb}({describe(value)})"
        return pad(format_value(value), spec)
    if verb not in VERBS[kind]:
        return f"%!{verb}({describe(value)})"
    return FORMATTERS[kind](verb, value, spec)


def pad(text: str, spec: Spec, zeros: bool = False) -> str:
    """Pads to the width: spaces on the left, on the right with `-`, zeros after the sign with `0`."""
    missing = spec.width - len(text)
    if missing <= 0:
        return text
    if "-" in spec.flags:
        return text + " " * missing
    if zeros and "0" in spec.flags:
        sign = text[0] if text[:1] in "+- " and text[:1] else ""
        return sign + "0" * missing + text[len(sign) :]
    return " " * missing + text


def format_bool(verb: str, value: bool, spec: Spec) -> str:
    return pad("true" if value else "false", spec)


def format_int(verb: str, value: int, spec: Spec) -> str:
    """Integers: d b o O x X c q U v."""
    if verb == "c":
        return pad(chr(value), spec)
    if verb == "q":
        return pad("'" + quote_text(chr(value), "'") + "'", spec)
    if verb == "U":
        return pad(f"U+{value:04X}", spec)
    sign = "-" if value < 0 else "+" if "+" in spec.flags else " " if " " in spec.flags else ""
    digits = format(abs(value), {"v": "d", "O": "o"}.get(verb, verb))
    if spec.precision is not None:
        digits = digits.rjust(spec.precision, "0") if spec.precision or value else ""
    if "#" in spec.flags or verb == "O":
        digits = {"x": "0x", "X": "0X", "o": "0", "O": "0o", "b": "0b"}.get(verb, "") + digits
    if spec.precision is not None:
        return pad(sign + digits, spec)
    return pad(sign + digits, spec, zeros=True)


def format_float(verb: str, value: float, spec: Spec) -> str:
    """Floats: v (Sluice's whole-number rule), g e f with Go's shortest and fixed precisions."""
    if math.isinf(value) or math.isnan(value):
        text = "NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf"
        return pad(text if "+" in spec.flags or text[0] != "+" else text[1:], spec)
    if verb in "vgG" and spec.precision is None:
        text = format_float_value(value)
        text = text.upper() if verb == "G" else text
        if value >= 0 and ("+" in spec.flags or " " in spec.flags):
            text = ("+" if "+" in spec.flags else " ") + text
        return pad(text, spec, zeros=True)
    python_verb = {"v": "g", "F": "f", "x": "a", "X": "A"}.get(verb, verb)
    flags = "".join(flag for flag in "-+ 0#" if flag in spec.flags)
    precision = "" if spec.precision is None else f".{spec.precision}"
    return f"%{flags}{spec.width or ''}{precision}{python_verb}" % value


def format_string(verb: str, value: str, spec: Spec) -> str:
    """Strings: s v q x X."""
    if spec.precision is not None:
        value = value[: spec.precision]
    if verb == "q":
        return pad(go_quote(value, "#" in spec.flags), spec)
    if verb in "xX":
        separator = " " if " " in spec.flags else ""
        text = separator.join(f"{byte:02x}" for byte in value.encode())
        return pad(text.upper() if verb == "X" else text, spec)
    return pad(value, spec)


def go_quote(text: str, backquote: bool = False) -> str:
    """strconv.Quote (or a raw string with `#` when the text allows it)."""
    if backquote and "`" not in text and all(char.isprintable() or char == "\t" for char in text):
        return f"`{text}`"
    return '"' + quote_text(text, '"') + '"'


def quote_text(text: str, quote: str) -> str:
    """Go's escaping inside a quoted string or rune literal."""
    out = []
    for char in text:
        code = ord(char)
        if char in QUOTE_ESCAPES and (char == quote or char not in "\"'"):
            out.append(QUOTE_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


FORMATTERS = {"bool": format_bool, "int": format_int, "float": format_float, "string": format_string}
