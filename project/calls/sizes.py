"""How much a caller's arguments may hold: each list or object at most `max_list_items` items.

Checked before anything else looks at the arguments (schema validation, rendering, binding), so a
200,000-item list costs a walk over the body and a 400, not seconds of CPU and hundreds of megabytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from project.errors import ArgumentError


def check_sizes(args: Mapping[str, Any], query: Mapping[str, list[str]], max_items: int) -> None:
    """ArgumentError (400) naming the argument when a list or object in it holds more than `max_items`."""
    if max_items <= 0:
        return
    if len(args) > max_items or len(query) > max_items:
        raise ArgumentError(
            f"the arguments hold more than {max_items} items; at most {max_items} are allowed"
        )
    for name, values in query.items():
        _check(name, values, max_items)
    for name, value in args.items():
        _check(name, value, max_items)


def _check(name: str, value: Any, max_items: int) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, (list, tuple, dict)):
            if len(item) > max_items:
                raise ArgumentError(
                    f'argument "{name}" holds {len(item)} items; at most {max_items} are allowed'
                )
            pending.extend(_children(item))


def _children(item: list | tuple | dict) -> Iterable[Any]:
    return item.values() if isinstance(item, dict) else item
