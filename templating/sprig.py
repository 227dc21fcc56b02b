"""Sprig's general, dictionary and list functions, with Sprig's argument order (the subject comes last)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .printing import format_value
from .values import go_type


def strval(value: Any) -> str:
    """Sprig's strval: strings as they are, anything else as Go's `%v`."""
    return value if isinstance(value, str) else format_value(value)


def strslice(value: Any) -> list[str]:
    """Sprig's strslice: list elements as strings (nil elements dropped); a single value as one string."""
    if isinstance(value, (list, tuple)):
        return [strval(item) for item in value if item is not None]
    return [] if value is None else [strval(value)]


def empty(value: Any) -> bool:
    """`empty`: true for nil, false, 0, "" and empty lists and maps."""
    return not value


def default(fallback: Any, *given: Any) -> Any:
    """`default "x" .v`: .v unless it is empty, else "x"."""
    return fallback if not given or not given[0] else given[0]


def coalesce(*values: Any) -> Any:
    """`coalesce a b c`: the first non-empty value, or nil."""
    return next((value for value in values if value), None)


def ternary(if_true: Any, if_false: Any, condition: bool) -> Any:
    """`ternary "yes" "no" cond`."""
    return if_true if condition else if_false


def has_key(mapping: dict, key: str) -> bool:
    return key in mapping


def keys(*mappings: dict) -> list:
    """`keys $a $b`: all keys (sorted: Go's map order is random, Sluice makes it stable)."""
    return sorted(key for mapping in mappings for key in mapping)


def values(mapping: dict) -> list:
    """`values $a`: the values in key order (stable, where Go's order is random)."""
    return [mapping[key] for key in sorted(mapping)]


def pluck(name: str, *mappings: dict) -> list:
    """`pluck "k" $a $b`: the value of k in each map that has it."""
    return [mapping[name] for mapping in mappings if name in mapping]


def dict_(*pairs: Any) -> dict:
    """`dict "k1" v1 "k2" v2`: a map; keys are made strings; a key without value gets ""."""
    return {
        strval(pairs[index]): pairs[index + 1] if index + 1 < len(pairs) else ""
        for index in range(0, len(pairs), 2)
    }


def list_(*items: Any) -> list:
    return list(items)


def sequence(value: Any, name: str) -> list:
    """A list argument, or Sprig's `Cannot find NAME on type KIND` error."""
    if isinstance(value, (list, tuple)):
        return list(value)
    kind = {"[]interface {}": "slice", "map[string]interface {}": "map", "float64": "float64"}
    raise ValueError(f"Cannot {name} on type {kind.get(go_type(value), go_type(value))}")


def first(items: Any) -> Any:
    found = sequence(items, "find first")
    return found[0] if found else None


def last(items: Any) -> Any:
    found = sequence(items, "find last")
    return found[-1] if found else None


def rest(items: Any) -> Any:
    found = sequence(items, "find rest")
    return found[1:] if found else None


def initial(items: Any) -> Any:
    found = sequence(items, "find initial")
    return found[:-1] if found else None


def append_(items: Any, value: Any) -> list:
    return [*sequence(items, "push"), value]


def prepend(items: Any, value: Any) -> list:
    return [value, *sequence(items, "prepend")]


def same(left: Any, right: Any) -> bool:
    """reflect.DeepEqual: equal values of the same Go type (1 and 1.0 differ)."""
    return go_type(left) == go_type(right) and left == right


def uniq(items: Any) -> list:
    found: list = []
    for item in sequence(items, "find uniq"):
        if not any(same(item, seen) for seen in found):
            found.append(item)
    return found


def has(needle: Any, haystack: Any) -> bool:
    """`has 4 $list`: whether the list holds the value."""
    return haystack is not None and any(same(needle, item) for item in sequence(haystack, "find has"))


def without(items: Any, *omit: Any) -> list:
    return [item for item in sequence(items, "find without") if not any(same(item, drop) for drop in omit)]


def join(separator: str, items: Any) -> str:
    """`join "," $list`: the elements as strings joined by the separator."""
    return separator.join(strslice(items))


def go_split(text: str, separator: str) -> list[str]:
    """strings.Split: an empty separator splits into characters."""
    return text.split(separator) if separator else list(text)


def split(separator: str, text: str) -> dict:
    """`split "," "a,b"`: a map `_0`, `_1`, ... of the parts."""
    return {f"_{index}": part for index, part in enumerate(go_split(text, separator))}


def split_list(separator: str, text: str) -> list[str]:
    return go_split(text, separator)


def to_string(value: Any) -> str:
    return strval(value)


GENERAL: dict[str, Callable] = {
    "default": default,
    "empty": empty,
    "coalesce": coalesce,
    "ternary": ternary,
    "hasKey": has_key,
    "keys": keys,
    "values": values,
    "pluck": pluck,
    "dict": dict_,
    "list": list_,
    "first": first,
    "last": last,
    "rest": rest,
    "initial": initial,
    "append": append_,
    "push": append_,
    "prepend": prepend,
    "uniq": uniq,
    "has": has,
    "without": without,
    "join": join,
    "split": split,
    "splitList": split_list,
    "toString": to_string,
}
