"""The rules every writer of items keeps, as pure functions: no database, no HTTP.

The API (items/service.py), the bulk push (items/bulk.py) and the import (imports/) call these;
each says in its own words what a broken rule means for its caller.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from service.items.codes import SEPARATORS

K = TypeVar("K", bound=Hashable)


def derived_parent_code(code: str) -> str | None:
    """The parent a hierarchical code names: `1-2-3` → `1-2`, `1.2.3.` → `1.2`, `1` → None."""
    trimmed = code.rstrip("".join(SEPARATORS))
    for index in range(len(trimmed) - 1, 0, -1):
        if trimmed[index] in SEPARATORS:
            return trimmed[:index]
    return None


def parent_cycle(starts: Iterable[K], parent_of: Callable[[K], K | None]) -> list[K] | None:
    """A chain of parents that leads back to itself from one of `starts`, if there is one.

    `parent_of` answers for one item at a time, so a caller checking one change looks up only
    the ancestors it walks, and a caller checking a whole sheet passes a dict's `get`.
    """
    done: set[K] = set()
    for start in starts:
        path: list[K] = []
        on_path: set[K] = set()
        current: K | None = start
        while current is not None and current not in done:
            if current in on_path:
                return [*path[path.index(current) :], current]
            path.append(current)
            on_path.add(current)
            current = parent_of(current)
        done.update(path)
    return None


def predecessor_cycle(
    starts: Iterable[K], predecessors_of: Callable[[K], Iterable[K]]
) -> tuple[K, K] | None:
    """(an item, the predecessor that closes a cycle through it), if the links from `starts`
    lead back to where they came from."""
    state: dict[K, int] = {}  # 1: on the walk, 2: finished
    for start in starts:
        if state.get(start):
            continue
        state[start] = 1
        stack = [(start, iter(predecessors_of(start)))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                return node, child
            elif state.get(child) is None:
                state[child] = 1
                stack.append((child, iter(predecessors_of(child))))
    return None


@dataclass(frozen=True)
class DatesOutOfOrder:
    """An end before its start, in the planned or the actual dates."""

    kind: str  # planned | actual
    start: date
    end: date

    @property
    def field(self) -> str:
        return f"{self.kind}_end"

    @property
    def message(self) -> str:
        return f"{self.kind} end {self.end} is before its start {self.start}"


def dates_out_of_order(values: Mapping[str, object]) -> list[DatesOutOfOrder]:
    """Each pair of dates among an item's `values` whose end comes before its start."""
    found = []
    for kind in ("planned", "actual"):
        start, end = values.get(f"{kind}_start"), values.get(f"{kind}_end")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            found.append(DatesOutOfOrder(kind, start, end))
    return found
