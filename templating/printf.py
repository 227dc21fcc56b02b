"""Go's fmt.Sprintf for templates: verbs v s d f g e q x X t c b o U %, flags `-+# 0`, width, precision."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from .printing import format_float as format_float_value
from .printing import format_value
from .values import basic_kind, go_type

DIRECTIVE = re.compile(r"%([-+# 0]*)(?:\[(\d+)\])?(\d+|\*)?(?:\.(\*|\d*))?(.?)", re.DOTALL)
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
VERBS = {"bool": "tv", "int": "bcdoOqxXUv", "float": "beEfFgGxXv", "string": "sqxXv"}


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
        if too_large(width) or too_large(precision):  # Go's parsenum gives up and takes the rest
            out.append("%!(NOVERB)")
            position = len(format)
            break
        used = int(arg_index) - 1 if arg_index else used
        reordered = reordered or bool(arg_index)
        if width == "*" or precision == "*":
            width, precision, used, bad = star_arguments(width, precision, args, used, out)
            if bad:
                continue
            flags = flags + "-" if width and width.startswith("-") else flags
            width = width.lstrip("-") if width else width
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


def too_large(digits: str | None) -> bool:
    """Go's parsenum: a width or precision whose digits pass 1e6 before the last one is no number."""
    if not digits or not digits.isdigit():
        return False
    number = 0
    for digit in digits:
        if number > 10**6:
            return True
        number = number * 10 + int(digit)
    return False


def star_arguments(width: Any, precision: Any, args: tuple, used: int, out: list) -> tuple:
    """`%*d` and `%.*f`: width and precision taken from int arguments (Go's BADWIDTH/BADPREC otherwise)."""
    bad = False
    if width == "*":
        value: Any = args[used] if used < len(args) else None
        used += 1
        if basic_kind(value) != "int" or abs(value) > 10**6:
            out.append("%!(BADWIDTH)")
            width = None
        else:
            width = str(value)
    if precision == "*":
        value = args[used] if used < len(args) else 0.5
        used += 1
        if basic_kind(value) != "int" or value < 0 or value > 10**6:
            out.append("%!(BADPREC)")
            precision = None
        else:
            precision = str(value)
    return width, precision, used, bad


def describe(value: Any) -> str:
    """`type=value` as Go prints a wrong or extra argument; nil is `<nil>`."""
    return "<nil>" if value is None else f"{go_type(value)}={format_value(value)}"


def format_verb(verb: str, value: Any, spec: Spec) -> str:
    """One argument formatted by one verb; lists and maps are formatted element by element."""
    if verb == "T":
        return pad("<nil>" if value is None else go_type(value), spec)
    if verb == "v" and "#" in spec.flags:
        return pad(go_syntax(value, top=True), spec)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_element(verb, item, spec) for item in value) + "]"
    if isinstance(value, dict) and not hasattr(value, "go_string"):
        return (
            "map["
            + " ".join(
                f"{format_element(verb, key, spec)}:{format_element(verb, value[key], spec)}"
                for key in sorted(value)
            )
            + "]"
        )
    if hasattr(value, "go_string") and not isinstance(value, int):
        if verb in "vsxXq":
            return format_string(verb, value.go_string(), spec)
        if hasattr(value, "go_struct"):
            return "&{" + " ".join(format_element(verb, field, spec) for field in value.go_struct()) + "}"
    kind = basic_kind(value)
    if kind in ("nil", "other"):
        if verb not in "vs" or value is None and verb == "s":
            return f"%!{verb}({describe(value)})"
        return pad(format_value(value), spec)
    if verb not in VERBS[kind]:
        return f"%!{verb}({describe(value)})"
    return FORMATTERS[kind](verb, value, spec)


def format_element(verb: str, value: Any, spec: Spec) -> str:
    """An element inside a list or map: nil prints <nil> whatever the verb."""
    return "<nil>" if value is None else format_verb(verb, value, spec)


def go_syntax(value: Any, top: bool = False) -> str:
    """`%#v`: the value as Go syntax (`[]interface {}{1, "a"}`, `map[string]interface {}{"k":1}`)."""
    if value is None:
        return "<nil>" if top else "interface {}(nil)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, int) and not hasattr(value, "go_string"):
        return str(int(value))
    if isinstance(value, float):
        return format_float_value(value)
    if isinstance(value, (list, tuple)):
        return go_type(value) + "{" + ", ".join(go_syntax(item) for item in value) + "}"
    if isinstance(value, dict):
        items = ", ".join(f"{go_syntax(key)}:{go_syntax(value[key])}" for key in sorted(value))
        return go_type(value) + "{" + items + "}"
    if hasattr(value, "go_syntax"):
        return value.go_syntax()
    return format_value(value)


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


def rune(value: int) -> str:
    """A code point as Go converts an int to a rune (invalid ones are U+FFFD)."""
    return chr(value) if 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else "\ufffd"


def format_int(verb: str, value: int, spec: Spec) -> str:
    """Integers: d b o O x X c q U v."""
    if verb == "c":
        return pad(rune(value), spec)
    if verb == "q":
        return pad("'" + quote_text(rune(value), "'") + "'", spec)
    if verb == "U":
        return pad(f"U+{value % (1 << 64):04X}", spec)
    plus = "+" in spec.flags and verb != "v"
    sign = "-" if value < 0 else "+" if plus else " " if " " in spec.flags else ""
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
    if verb in "xX":
        return pad(hex_float(value, spec, verb == "X"), spec, zeros=True)
    if verb == "b":
        mantissa, exponent = math.frexp(abs(value))
        text = f"{'-' if value < 0 else ''}{int(mantissa * 2**53)}p{exponent - 53:+d}"
        return pad(text, spec)
    python_verb = {"v": "g", "F": "f"}.get(verb, verb)
    flags = "".join(flag for flag in "-+ 0#" if flag in spec.flags)
    precision = "" if spec.precision is None else f".{spec.precision}"
    return f"%{flags}{spec.width or ''}{precision}{python_verb}" % value


def hex_float(value: float, spec: Spec, upper: bool) -> str:
    """strconv's 'x' format: 0x1.8p+01 (shortest digits, or the precision's number, rounded)."""
    sign = (
        "-" if math.copysign(1, value) < 0 else "+" if "+" in spec.flags else " " if " " in spec.flags else ""
    )
    value = abs(value)
    if value == 0:
        mantissa, exponent = 0, 0
    else:
        fraction, exponent = math.frexp(value)
        mantissa, exponent = int(fraction * 2**53), exponent - 1
    digits = f"{mantissa & ((1 << 52) - 1):013x}" if mantissa else "0" * 13
    lead = "1" if mantissa else "0"
    if spec.precision is None:
        digits = digits.rstrip("0")
    elif spec.precision < 13:
        scaled = (mantissa if mantissa else 0) << 0
        shift = 4 * (13 - spec.precision)
        rounded = (
            (
                scaled
                + (1 << (shift - 1))
                - (0 if (scaled >> shift) & 1 or scaled & ((1 << (shift - 1)) - 1) else 1)
            )
            >> shift
            if mantissa
            else 0
        )
        if mantissa and rounded >> (4 * spec.precision) >= 2:
            rounded >>= 1
            exponent += 1
        lead = str(rounded >> (4 * spec.precision)) if mantissa else "0"
        digits = f"{rounded & ((1 << (4 * spec.precision)) - 1):0{spec.precision}x}" if spec.precision else ""
    else:
        digits = digits.ljust(spec.precision, "0")
    text = f"{sign}0x{lead}{'.' + digits if digits else ''}p{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return text.upper() if upper else text


def format_string(verb: str, value: str, spec: Spec) -> str:
    """Strings: s v q x X."""
    if spec.precision is not None:
        value = value[: spec.precision]
    if verb == "q":
        return pad(go_quote(value, "#" in spec.flags, "+" in spec.flags), spec, zeros=True)
    if verb in "xX":
        separator = " " if " " in spec.flags else ""
        prefix = "0x" if "#" in spec.flags else ""
        text = separator.join(f"{prefix}{byte:02x}" for byte in value.encode())
        if prefix and not separator and text:
            text = prefix + text.replace(prefix, "")
        return pad(text.upper() if verb == "X" else text, spec)
    return pad(value, spec, zeros=True)


def go_quote(text: str, backquote: bool = False, ascii_only: bool = False) -> str:
    """strconv.Quote (a raw string with `#` when the text allows it; QuoteToASCII with `+`)."""
    if backquote and "`" not in text and all(char.isprintable() or char == "\t" for char in text):
        return f"`{text}`"
    return '"' + quote_text(text, '"', ascii_only) + '"'


def quote_text(text: str, quote: str, ascii_only: bool = False) -> str:
    """Go's escaping inside a quoted string or rune literal."""
    out = []
    for char in text:
        code = ord(char)
        if char in QUOTE_ESCAPES and (char == quote or char not in "\"'"):
            out.append(QUOTE_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif char.isprintable() and (not ascii_only or code < 0x80):
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


FORMATTERS: dict[str, Callable[[str, Any, Spec], str]] = {
    "bool": format_bool,
    "int": format_int,
    "float": format_float,
    "string": format_string,
}
