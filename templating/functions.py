"""Go's text/template built-in functions: logic, comparison, len/index/slice, printing and escaping."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from .nodes import truth
from .printf import sprintf
from .printing import sprint, sprintln
from .values import GoInt, Tainted, basic_kind, go_type, marked, template_function


def and_(arg: Any, *args: Any) -> Any:
    """`and`: the first empty argument or the last one (evaluated lazily by the Logic node)."""
    for value in (arg, *args):
        if not truth(value):
            return value
    return value


def or_(arg: Any, *args: Any) -> Any:
    """`or`: the first non-empty argument or the last one (evaluated lazily by the Logic node)."""
    for value in (arg, *args):
        if truth(value):
            return value
    return value


marked(and_, short_circuit=True)  # the Logic node evaluates their arguments lazily
marked(or_, short_circuit=True)


def not_(arg: Any) -> bool:
    """`not`: the boolean negation of the argument's truth."""
    return not truth(arg)


def length(item: Any) -> int:
    """`len`: bytes of a string, elements of a list or map."""
    if item is None:
        raise ValueError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(item, str):
        return GoInt(len(item.encode()))
    if isinstance(item, (list, tuple, dict)):
        return GoInt(len(item))
    raise ValueError(f"len of type {go_type(item)}")


@template_function(raw_args=True)
def index(item: Any, *keys: Any) -> Any:
    """`index x k1 k2`: x[k1][k2]; keeps taint, extending the source path (`args.ids.0`)."""
    path = None
    if type(item) is Tainted:
        path, item = item.source, item.value
    key_source = None
    for key in keys:
        if type(key) is Tainted:
            key_source, key = key_source or key.source, key.value
        item = index_one(item, key)
        if type(item) is Tainted:
            path, item = item.source, item.value
        elif path is not None:
            path = f"{path}.{key}"
    source = path or key_source
    return item if source is None else Tainted(item, source)


def index_one(item: Any, key: Any) -> Any:
    """One step of `index`, with Go's errors."""
    if isinstance(item, dict):
        if key is None:
            raise TypeError("value is nil; should be of type string")
        if not isinstance(key, str):
            raise TypeError(f"value has type {go_type(key)}; should be string")
        return item.get(key)
    if isinstance(item, str):
        item = item.encode()
    elif not isinstance(item, (list, tuple)):
        raise TypeError(
            "index of untyped nil" if item is None else f"can't index item of type {go_type(item)}"
        )
    return item[index_position(key, len(item) - 1)]


def index_position(key: Any, last: int) -> int:
    """A list position checked like Go's indexArg."""
    if key is None:
        raise ValueError("cannot index slice/array with nil")
    if not isinstance(key, int) or isinstance(key, bool):
        raise TypeError(f"cannot index slice/array with type {go_type(key)}")
    if key < 0 or key > last:
        raise ValueError(f"index out of range: {key}")
    return key


def slice_(item: Any, *indexes: Any) -> Any:
    """`slice x 1 2`: x[1:2] for strings (bytes) and lists, with Go's checks."""
    if item is None:
        raise ValueError("slice of untyped nil")
    if len(indexes) > 3:
        raise ValueError(f"too many slice indexes: {len(indexes)}")
    is_text = isinstance(item, str)
    if is_text and len(indexes) == 3:
        raise ValueError("cannot 3-index slice a string")
    if not is_text and not isinstance(item, (list, tuple)):
        raise ValueError(f"can't slice item of type {go_type(item)}")
    sequence = item.encode() if is_text else item
    bounds = [0, len(sequence), len(sequence)]
    for position, key in enumerate(indexes):
        bounds[position] = index_position(key, len(sequence))
    for low, high in ((bounds[0], bounds[1]), (bounds[1], bounds[2])):
        if low > high:
            raise ValueError(f"invalid slice index: {low} > {high}")
    part = sequence[bounds[0] : bounds[1]]
    return part.decode(errors="replace") if is_text else list(part)


def equal(left: Any, right: Any) -> bool:
    """Go's `eq` of two values: basic kinds must match; int and float do not compare."""
    left_kind, right_kind = basic_kind(left), basic_kind(right)
    if left_kind != right_kind:
        if "nil" in (left_kind, right_kind):
            return False
        raise ValueError("incompatible types for comparison")
    if isinstance(right, (list, tuple, dict)):
        raise TypeError(f"non-comparable type {sprintf('%s', right)}: {go_type(right)}")
    return left == right


def eq(arg: Any, *args: Any) -> bool:
    """`eq a b c`: a equals b or c."""
    if not args:
        raise ValueError("missing argument for comparison")
    return any(equal(arg, other) for other in args)


def ne(left: Any, right: Any) -> bool:
    return not equal(left, right)


def lt(left: Any, right: Any) -> bool:
    """`lt`: ordered comparison of ints, floats or strings of the same kind."""
    left_kind, right_kind = basic_kind(left), basic_kind(right)
    if left_kind in ("nil", "other") or right_kind in ("nil", "other"):
        raise ValueError("invalid type for comparison")
    if left_kind != right_kind:
        raise ValueError("incompatible types for comparison")
    if left_kind == "bool":
        raise ValueError("invalid type for comparison")
    return left < right


def le(left: Any, right: Any) -> bool:
    return lt(left, right) or equal(left, right)


def gt(left: Any, right: Any) -> bool:
    return not le(left, right)


def ge(left: Any, right: Any) -> bool:
    return not lt(left, right)


def text_of(args: tuple) -> str:
    """Go's evalArgs: a single string as is, anything else through fmt.Sprint (nil as `<no value>`)."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*(NO_VALUE_TEXT if arg is None else arg for arg in args))


NO_VALUE_TEXT = "<no value>"


HTML_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\ufffd"}
JS_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def html(*args: Any) -> str:
    """`html`: HTML-escaped text of the arguments."""
    return "".join(HTML_ESCAPES.get(char, char) for char in text_of(args))


def js(*args: Any) -> str:
    """`js`: JavaScript-escaped text of the arguments."""
    return "".join(js_escape(char) for char in text_of(args))


def js_escape(char: str) -> str:
    if char in JS_ESCAPES:
        return JS_ESCAPES[char]
    if char < " ":
        return f"\\u00{ord(char):02X}"
    return char if char.isprintable() or char == " " else f"\\u{ord(char):04X}"


def urlquery(*args: Any) -> str:
    """`urlquery`: the arguments escaped for a URL query."""
    return urllib.parse.quote_plus(text_of(args), safe="")


def call(function: Any, *args: Any) -> Any:
    """`call f a b`: calls a function value found in the data."""
    if function is None:
        raise ValueError("call of nil")
    if not callable(function):
        raise TypeError(f"non-function of type {go_type(function)}")
    return function(*args)


BUILTINS: dict[str, Callable] = {
    "and": and_,
    "or": or_,
    "not": not_,
    "len": length,
    "index": index,
    "slice": slice_,
    "eq": eq,
    "ne": ne,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
    "html": html,
    "js": js,
    "urlquery": urlquery,
    "call": call,
    "print": sprint,
    "println": sprintln,
    "printf": sprintf,
}
