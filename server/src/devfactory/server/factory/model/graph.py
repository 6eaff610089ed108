"""Dependency graphs of phases and tasks: unknown ids, cycles (named), topological order.

Pure functions over ``id -> ids it depends on``; the caller says what the nodes are called
("task", "phase") so an error reads ``tasks depend on each other in a cycle: task 3 -> task 5
-> task 3``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


class GraphError(ValueError):
    """A dependency list the graph cannot take; the message names the field and the ids."""


class UnknownDependency(GraphError):
    def __init__(self, field: str, missing: list[object], noun: str) -> None:
        ids = ", ".join(str(m) for m in missing)
        super().__init__(
            f"{field}: no {noun} {ids} in this initiative; name {noun}s that exist (or create "
            "them first)"
        )
        self.missing = missing


class CycleError(GraphError):
    def __init__(self, cycle: list[object], noun: str) -> None:
        path = " -> ".join(f"{noun} {node}" for node in cycle)
        super().__init__(f"{noun}s depend on each other in a cycle: {path}")
        self.cycle = cycle


def check_known(
    field: str, depends_on: Iterable[N], known: Collection[N], noun: str = "task"
) -> None:
    """Refuse dependencies on ids that are not in ``known``."""
    missing = [d for d in dict.fromkeys(depends_on) if d not in known]
    if missing:
        raise UnknownDependency(field, list(missing), noun)


def find_cycle(deps: Mapping[N, Iterable[N]]) -> list[N] | None:
    """A cycle of ``deps`` as a closed path ``[a, b, ..., a]`` (each depends on the next),
    or None. Iterative depth-first search: O(nodes + edges), no recursion limit."""
    state: dict[N, int] = {}  # 1: on the current path, 2: finished
    for root in deps:
        if root in state:
            continue
        path: list[N] = [root]
        stack = [iter(deps.get(root, ()))]
        state[root] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            seen = state.get(child)
            if seen == 1:
                return [*path[path.index(child) :], child]
            if seen is None:
                state[child] = 1
                path.append(child)
                stack.append(iter(deps.get(child, ())))
    return None


def check_edges(
    node: N,
    depends_on: Iterable[N],
    deps: Callable[[N], Iterable[N]],
    noun: str = "task",
) -> None:
    """Refuse giving ``node`` the dependencies ``depends_on`` if that closes a cycle.

    Walks only what ``depends_on`` reaches (``deps(n)``: the current dependencies of n), so
    checking one edit costs the size of its ancestry, not of the whole graph.
    """
    parents: dict[N, N] = {}
    stack: list[N] = []
    for first in dict.fromkeys(depends_on):
        if first == node:
            raise CycleError([node, node], noun)
        if first not in parents:
            parents[first] = node
            stack.append(first)
    while stack:
        current = stack.pop()
        for nxt in deps(current):
            if nxt == node:
                cycle = [current]
                while cycle[-1] != node:
                    cycle.append(parents[cycle[-1]])
                cycle.reverse()  # node -> ... -> current, then back to node
                raise CycleError([*cycle, node], noun)
            if nxt not in parents:
                parents[nxt] = current
                stack.append(nxt)


def topological_order(
    deps: Mapping[N, Iterable[N]], key: Callable[[N], object] | None = None, noun: str = "task"
) -> list[N]:
    """Every node after the nodes it depends on; among the ready ones, smallest ``key`` first
    (Kahn's algorithm with a heap: O((n + e) log n)). A cycle raises ``CycleError``."""
    rank = key or (lambda n: n)
    dependents: dict[N, list[N]] = {n: [] for n in deps}
    waiting: dict[N, int] = {}
    for node, parents in deps.items():
        unique = set(parents)
        waiting[node] = len(unique)
        for parent in unique:
            dependents.setdefault(parent, []).append(node)
    ready = [(rank(n), i, n) for i, n in enumerate(deps) if waiting[n] == 0]
    heapq.heapify(ready)
    order: list[N] = []
    counter = len(ready)
    while ready:
        _, _, node = heapq.heappop(ready)
        order.append(node)
        for child in dependents.get(node, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                counter += 1
                heapq.heappush(ready, (rank(child), counter, child))
    if len(order) < len(deps):
        cycle = find_cycle({n: deps[n] for n in deps if waiting.get(n, 0) > 0})
        raise CycleError(list(cycle or []), noun)
    return order
