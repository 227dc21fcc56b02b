"""Sprig's list, dictionary and default functions, with Go's reflection rules (Kind names, DeepEqual)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .budget import check_size
from .printing import format_value
from .values import GoInt, ListList, NilMap, StringList, go_type

NIL_DEREFERENCE = "runtime error: invalid memory address or nil pointer dereference"


def go_kind(value: Any) -> str:
    """reflect.Kind's name of a value: slice, map, string, int, int64, float64, bool, struct, ptr, invalid."""
    if value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return getattr(value, "go_kind", "int" if isinstance(value, GoInt) else "int64")
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "slice"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, datetime):
        return "struct"
    return getattr(value, "go_kind", "struct")


def strval(value: Any) -> str:
    """Sprig's strval: strings as they are, Stringers and anything else as Go's `%v`."""
    return value if isinstance(value, str) else format_value(value)


def strslice(value: Any) -> StringList:
    """Sprig's strslice: list elements as strings (nil elements dropped); a single value as one string."""
    if isinstance(value, (list, tuple)):
        return StringList(strval(item) for item in value if item is not None)
    return StringList() if value is None else StringList([strval(value)])


def empty(value: Any) -> bool:
    """Sprig's empty: nil, false, 0, "" and empty lists and maps; times and versions never are."""
    if value is None:
        return True
    if isinstance(value, (str, list, tuple, dict, bool, int, float)):
        return not value
    return False


def sequence(value: Any, action: str) -> list:
    """A list argument's elements, or Sprig's `Cannot <action> on type <kind>` error (nil: Go's panic)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None:
        raise ValueError(NIL_DEREFERENCE)
    raise ValueError(f"Cannot {action} on type {go_kind(value)}")


def deep_equal(left: Any, right: Any) -> bool:
    """reflect.DeepEqual: the same Go type and deeply equal values (NaN never equals itself)."""
    if go_type(left) != go_type(right):
        return False
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(deep_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(deep_equal(left[key], right[key]) for key in left)
    if isinstance(left, float) and math.isnan(left):
        return False
    return bool(left == right)


def default(fallback: Any, *given: Any) -> Any:
    """`default "x" .v`: .v unless it is empty, else "x"."""
    return fallback if not given or empty(given[0]) else given[0]


def coalesce(*values: Any) -> Any:
    return next((value for value in values if not empty(value)), None)


def all_(*values: Any) -> bool:
    return all(not empty(value) for value in values)


def any_(*values: Any) -> bool:
    return any(not empty(value) for value in values)


def ternary(if_true: Any, if_false: Any, condition: bool) -> Any:
    return if_true if condition else if_false


def list_(*items: Any) -> list:
    return list(items)


def push(items: Any, value: Any) -> list:
    return [*sequence(items, "push"), value]


def prepend(items: Any, value: Any) -> list:
    return [value, *sequence(items, "prepend")]


def first(items: Any) -> Any:
    found = sequence(items, "find first")
    return found[0] if found else None


def last(items: Any) -> Any:
    found = sequence(items, "find last")
    return found[-1] if found else None


def rest(items: Any) -> list:
    return sequence(items, "find rest")[1:]


def initial(items: Any) -> list:
    return sequence(items, "find initial")[:-1]


def reverse(items: Any) -> list:
    return sequence(items, "find reverse")[::-1]


def compact(items: Any) -> list:
    return [item for item in sequence(items, "compact") if not empty(item)]


def uniq(items: Any) -> list:
    """Sprig's uniq (first of each DeepEqual group, in order) in linear time for plain values: Go's quadratic
    scan made a 10,000-item caller list cost seconds."""
    found: list = []
    seen_plain: set = set()
    for item in sequence(items, "find uniq"):
        key = plain_key(item)
        if key is None:
            if not any(deep_equal(item, seen) for seen in found):
                found.append(item)
        elif key not in seen_plain:
            seen_plain.add(key)
            found.append(item)
    return found


def plain_key(item: Any) -> tuple | None:
    """A hashable key equal exactly when DeepEqual holds, for strings, bools, ints and non-NaN floats."""
    if isinstance(item, (str, bool, int)) or (isinstance(item, float) and not math.isnan(item)):
        return (go_type(item), item)
    return None


def without(items: Any, *omit: Any) -> list:
    return [item for item in sequence(items, "find without") if not any(deep_equal(item, o) for o in omit)]


def has(needle: Any, haystack: Any) -> bool:
    """`has 4 $list`: whether the list holds the value (DeepEqual: 1 and .i's int64 1 differ)."""
    if haystack is None:
        return False
    return any(deep_equal(needle, item) for item in sequence(haystack, "find has"))


def chunk(size: int, items: Any) -> ListList:
    """`chunk 2 $list`: lists of size elements (the last one shorter)."""
    if not isinstance(items, (list, tuple)):
        if items is None:
            raise ValueError(NIL_DEREFERENCE)
        raise TypeError(f"Cannot chunk type {go_kind(items)}")
    found = list(items)
    if size == 0:
        raise ValueError("runtime error: makeslice: len out of range")
    count = math.floor((len(found) - 1) / size) + 1
    chunks = ListList()
    for index in range(max(count, 0)):
        width = size
        if index == count - 1:
            width = int(math.fmod(len(found), size)) or size
        if width < 0:
            raise ValueError("runtime error: makeslice: len out of range")
        chunks.append(found[index * size : index * size + width])
    return chunks


def slice_(items: Any, *indexes: Any) -> Any:
    """Sprig's `slice $list 1 3`: a part of a list of the same type (nil for an empty list)."""
    if not isinstance(items, (list, tuple)):
        if items is None:
            raise ValueError(NIL_DEREFERENCE)
        raise TypeError(f"list should be type of slice or array but {go_kind(items)}")
    if not items:
        return None
    from .sprig_math import to_int

    start = to_int(indexes[0]) if indexes else 0
    end = to_int(indexes[1]) if len(indexes) > 1 else len(items)
    if not 0 <= start <= end <= len(items):
        raise ValueError("reflect.Value.Slice: slice index out of bounds")
    part = items[start:end]
    return type(items)(part) if type(items) is not tuple else list(part)


def concat(*lists: Any) -> Any:
    """`concat $a $b`: the elements of all lists in one list (nil when there are none)."""
    joined: list = []
    for items in lists:
        if not isinstance(items, (list, tuple)):
            if items is None:
                raise ValueError(NIL_DEREFERENCE)
            raise TypeError(f"Cannot concat type {go_kind(items)} as list")
        joined.extend(items)
    return joined


def sort_alpha(items: Any) -> StringList:
    """`sortAlpha`: the elements as strings, sorted by bytes; a single value as a one-string list."""
    if isinstance(items, (list, tuple)):
        return StringList(sorted(strslice(items)))
    return StringList([strval(items)])


def join(separator: str, items: Any) -> str:
    parts = strslice(items)
    check_size(len(separator) * max(len(parts) - 1, 0) + sum(len(part) for part in parts))
    return separator.join(parts)


def go_split(text: str, separator: str, limit: int = -1) -> list[str]:
    """strings.SplitN: an empty separator splits into characters; limit 0 gives nothing."""
    if limit == 0:
        return []
    if not separator:
        chars = list(text)
        if 0 < limit < len(chars):
            return [*chars[: limit - 1], "".join(chars[limit - 1 :])]
        return chars
    return text.split(separator, limit - 1) if limit > 0 else text.split(separator)


def to_strings(value: Any) -> StringList:
    return strslice(value)


def get(mapping: dict, key: str) -> Any:
    return mapping.get(key, "")


def set_(mapping: dict, key: str, value: Any) -> dict:
    """`set $d "k" v`: changes the map itself (a nil map cannot be written, as in Go)."""
    mapping[key] = value
    return mapping


def unset(mapping: dict, key: str) -> dict:
    mapping.pop(key, None)
    return mapping


def has_key(mapping: dict, key: str) -> bool:
    return key in mapping


def pluck(name: str, *mappings: dict) -> list:
    return [mapping[name] for mapping in mappings if name in mapping]


def keys(*mappings: dict) -> StringList:
    """`keys $a $b`: all keys (sorted: Go's map order is random, Sluice makes it stable)."""
    return StringList(sorted(key for mapping in mappings for key in mapping))


def values(mapping: dict) -> list:
    """`values $a`: the values in key order (stable, where Go's order is random)."""
    return [mapping[key] for key in sorted(mapping)]


def pick(mapping: dict, *names: str) -> dict:
    return {name: mapping[name] for name in names if name in mapping}


def omit(mapping: dict, *names: str) -> dict:
    return {key: value for key, value in mapping.items() if key not in names}


def dict_(*pairs: Any) -> dict:
    """`dict "k1" v1 "k2" v2`: a map; keys are made strings; a key without value gets ""."""
    return {
        strval(pairs[index]): pairs[index + 1] if index + 1 < len(pairs) else ""
        for index in range(0, len(pairs), 2)
    }


def merge_into(target: dict, source: dict, overwrite: bool) -> None:
    """mergo's deep merge of one map into another (the rules Sprig's merge and mergeOverwrite get)."""
    for key, value in source.items():
        present = key in target
        current = target.get(key)
        if value is None:
            if overwrite:
                target[key] = None
            continue
        if isinstance(value, dict) and type(current) is dict and current:
            merge_into(current, value, overwrite)
        elif isinstance(value, (list, tuple)) and overwrite:
            target[key] = value
        if present and not empty(current) and isinstance(value, (dict, list, tuple)):
            continue
        if overwrite or not present or empty(current):
            target[key] = value


def merge(target: dict, *sources: dict) -> dict:
    target = {} if type(target) is NilMap else target
    for source in sources:
        merge_into(target, source, overwrite=False)
    return target


def merge_overwrite(target: dict, *sources: dict) -> dict:
    target = {} if type(target) is NilMap else target
    for source in sources:
        merge_into(target, source, overwrite=True)
    return target


def deep_copy(value: Any) -> Any:
    """copystructure.Copy: lists and maps copied deeply, other values shared (nil is Go's error)."""
    if value is None:
        raise ValueError("reflect: call of reflect.Value.Type on zero Value")
    return copy_value(value)


def copy_value(value: Any) -> Any:
    if hasattr(value, "go_copy"):
        return value.go_copy()
    if isinstance(value, dict):
        return type(value)({key: copy_value(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return type(value)(copy_value(item) for item in value) if type(value) is not tuple else list(value)
    return value


def dig(*args: Any) -> Any:
    """`dig "a" "b" "default" $map`: a nested value, or the default when a key is missing."""
    if len(args) < 3:
        raise ValueError("dig needs at least three arguments")
    mapping, fallback, names = args[-1], args[-2], args[:-2]
    as_map(mapping)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"interface conversion: interface {{}} is {conversion_type(name)}, not string")
    for index, name in enumerate(names):
        if name not in as_map(mapping):
            return fallback
        mapping = mapping[name]
        if index == len(names) - 1:
            return mapping
    return fallback


def conversion_type(value: Any) -> str:
    return "nil" if value is None else go_type(value)


def as_map(value: Any) -> dict:
    """Go's `value.(map[string]interface{})`, or its panic."""
    if type(value) is not dict:
        raise TypeError(
            f"interface conversion: interface {{}} is {conversion_type(value)}, not map[string]interface {{}}"
        )
    return value


LISTS: dict[str, Callable] = {
    "default": default,
    "empty": empty,
    "coalesce": coalesce,
    "all": all_,
    "any": any_,
    "ternary": ternary,
    "list": list_,
    "tuple": list_,
    "append": push,
    "push": push,
    "prepend": prepend,
    "first": first,
    "last": last,
    "rest": rest,
    "initial": initial,
    "reverse": reverse,
    "compact": compact,
    "uniq": uniq,
    "without": without,
    "has": has,
    "chunk": chunk,
    "slice": slice_,
    "concat": concat,
    "sortAlpha": sort_alpha,
    "join": join,
    "toStrings": to_strings,
    "get": get,
    "set": set_,
    "unset": unset,
    "hasKey": has_key,
    "pluck": pluck,
    "keys": keys,
    "values": values,
    "pick": pick,
    "omit": omit,
    "dict": dict_,
    "merge": merge,
    "mergeOverwrite": merge_overwrite,
    "deepCopy": deep_copy,
    "dig": dig,
    "deepEqual": deep_equal,
}
for _name in [
    "append",
    "push",
    "prepend",
    "first",
    "last",
    "rest",
    "initial",
    "reverse",
    "compact",
    "uniq",
    "without",
    "has",
    "chunk",
    "slice",
    "merge",
    "mergeOverwrite",
    "deepCopy",
]:
    LISTS["must" + _name[0].upper() + _name[1:]] = LISTS[_name]  # a failure is an error either way
