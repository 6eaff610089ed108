"""Dependency graphs: unknown ids and cycles are refused by name; topological order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devfactory.server.factory.model.graph import (
    CycleError,
    UnknownDependency,
    check_edges,
    check_known,
    find_cycle,
    topological_order,
)


def test_unknown_dependencies_are_named_with_the_field() -> None:
    with pytest.raises(UnknownDependency) as caught:
        check_known("dependsOn", [1, 7, 9, 7], {1, 2, 3})
    assert str(caught.value) == (
        "dependsOn: no task 7, 9 in this initiative; name tasks that exist (or create them first)"
    )


@pytest.mark.parametrize(
    ("deps", "cycle"),
    [
        ({1: [2], 2: [3], 3: [1]}, [1, 2, 3, 1]),
        ({1: [1]}, [1, 1]),
        ({1: [], 2: [1], 3: [2, 4], 4: [3]}, [3, 4, 3]),
        ({1: [2], 2: [], 3: [1, 2]}, None),
    ],
)
def test_find_cycle_returns_the_closed_path(deps: dict[int, list[int]], cycle: object) -> None:
    assert find_cycle(deps) == cycle


def test_an_edit_that_closes_a_cycle_is_refused_with_the_cycle() -> None:
    deps = {1: [], 2: [1], 3: [2], 4: [3]}
    with pytest.raises(CycleError) as caught:
        check_edges(1, [4], lambda n: deps[n])
    assert caught.value.cycle == [1, 4, 3, 2, 1]
    assert str(caught.value) == (
        "tasks depend on each other in a cycle: task 1 -> task 4 -> task 3 -> task 2 -> task 1"
    )
    with pytest.raises(CycleError, match=r"phase 2 -> phase 2"):
        check_edges(2, [2], lambda n: deps[n], noun="phase")
    check_edges(4, [1, 2], lambda n: deps[n])  # more edges, no cycle


def test_topological_order_breaks_ties_by_key_and_refuses_cycles() -> None:
    deps = {5: [], 4: [], 3: [5, 4], 2: [3], 1: []}
    assert topological_order(deps) == [1, 4, 5, 3, 2]
    assert topological_order(deps, key=lambda n: -n) == [5, 4, 3, 2, 1]
    with pytest.raises(CycleError) as caught:
        topological_order({1: [], 2: [3], 3: [2]})
    assert caught.value.cycle in ([2, 3, 2], [3, 2, 3])


@given(st.dictionaries(st.integers(0, 12), st.lists(st.integers(0, 12), max_size=3)))
def test_order_respects_every_edge_or_a_real_cycle_is_named(deps: dict[int, list[int]]) -> None:
    graph = {n: [d for d in ds if d in deps] for n, ds in deps.items()}
    try:
        order = topological_order(graph)
    except CycleError as exc:
        cycle = exc.cycle
        assert cycle[0] == cycle[-1]
        assert all(b in graph[a] for a, b in itertools.pairwise(cycle))
        return
    position = {n: i for i, n in enumerate(order)}
    assert sorted(order) == sorted(graph)
    assert all(position[d] < position[n] for n, ds in graph.items() for d in ds)
