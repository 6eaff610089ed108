"""Features declare what they need by type; the wiring orders them, skips what cannot run,
answers the one accessor and stops them in reverse."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devfactory.server.app import DevFactoryServer
from devfactory.server.context import Workspace
from devfactory.server.errors import Unavailable
from devfactory.server.features import FEATURES, create_server
from devfactory.server.wiring import NOT_INITIALIZED, Feature, Wiring, plan


class Base:
    """What the daemon itself provides (the open workspace)."""


class Bus:
    pass


class Index:
    pass


class Runs:
    pass


stopped: list[str] = []


async def start_bus(base: Base) -> AsyncIterator[Bus]:
    yield Bus()
    stopped.append("bus")


async def start_index(base: Base, bus: Bus | None) -> AsyncIterator[Index]:
    yield Index()
    stopped.append("index")


async def start_runs(bus: Bus, index: Index | None) -> AsyncIterator[Runs]:
    yield Runs()
    stopped.append("runs")


async def start_broken(base: Base) -> AsyncIterator[Bus]:
    raise RuntimeError("no database")
    yield Bus()  # pragma: no cover - never reached


async def start_stuck_on_stop(base: Base) -> AsyncIterator[None]:
    yield
    raise RuntimeError("cannot stop")


def feature(name: str, start: object) -> Feature:
    return Feature(name=name, setup=lambda server: None, start=start)  # type: ignore[arg-type]


BUS, INDEX, RUNS = (
    feature("bus", start_bus),
    feature("index", start_index),
    feature("runs", start_runs),
)
CATALOGUE = {Bus: "bus", Index: "index", Runs: "runs"}


def test_a_feature_declares_its_needs_and_what_it_provides():
    assert [(n.parameter, n.kind, n.optional) for n in RUNS.needs] == [
        ("bus", Bus, False),
        ("index", Index, True),
    ]
    assert RUNS.provides is Runs
    assert feature("quiet", start_stuck_on_stop).provides is None
    assert Feature("plain", setup=lambda server: None).needs == []


@pytest.mark.parametrize(
    ("listed", "order"),
    [
        ([RUNS, INDEX, BUS], ["bus", "index", "runs"]),  # needs, optional ones too, order
        ([BUS, RUNS, INDEX], ["bus", "index", "runs"]),
        ([RUNS, BUS], ["bus", "runs"]),  # an optional need may be absent
    ],
)
def test_features_start_in_dependency_order(listed: list[Feature], order: list[str]):
    running, skipped = plan(listed, [Base], CATALOGUE)
    assert [f.name for f in running] == order
    assert skipped == []


def test_a_feature_whose_need_is_missing_is_skipped_and_so_are_those_needing_it():
    needs_runs = feature("review", _start_review)
    running, skipped = plan([INDEX, RUNS, needs_runs], [Base], CATALOGUE)
    assert [f.name for f in running] == ["index"]
    assert skipped == [
        "the runs feature is skipped: it needs Bus, which the bus feature provides and this "
        "daemon does not run",
        "the review feature is skipped: it needs Runs, which the runs feature provides and "
        "this daemon does not run",
    ]


async def _start_review(runs: Runs) -> AsyncIterator[None]:
    yield


async def _start_a(runs: Runs) -> AsyncIterator[Bus]:
    yield Bus()


async def _start_b(bus: Bus) -> AsyncIterator[Runs]:
    yield Runs()


def test_features_needing_each_other_are_refused():
    with pytest.raises(ValueError, match="circle: a, b"):
        plan([feature("a", _start_a), feature("b", _start_b)], [Base], CATALOGUE)


async def test_the_accessor_waits_for_a_feature_and_says_why_one_is_missing(caplog):
    wiring = Wiring([BUS, INDEX, RUNS])
    with pytest.raises(Unavailable, match=NOT_INITIALIZED):
        await wiring.get(Runs)
    base = Base()
    wiring.open({Base: base}, spawn=_spawn)
    assert await wiring.get(Base) is base
    runs = await wiring.get(Runs)  # starts the features on first use
    assert isinstance(runs, Runs)
    assert await wiring.get(Runs) is runs
    with pytest.raises(Unavailable, match="^str is not enabled in this daemon$"):
        await wiring.get(str)
    stopped.clear()
    await wiring.stop()
    assert stopped == ["runs", "index", "bus"]
    with pytest.raises(Unavailable, match=NOT_INITIALIZED):
        await wiring.get(Runs)


async def test_a_feature_starts_as_soon_as_what_it_needs_has_started():
    """A slow start (core's language detection) holds up only the features needing it."""
    import asyncio

    release = asyncio.Event()

    async def start_slow(base: Base) -> AsyncIterator[Runs]:
        await release.wait()
        yield Runs()

    wiring = Wiring([feature("slow", start_slow), BUS, INDEX])
    wiring.open({Base: Base()}, spawn=_spawn)
    index = await asyncio.wait_for(wiring.get(Index), timeout=30)  # not behind "slow"
    assert isinstance(index, Index)
    release.set()
    assert isinstance(await wiring.get(Runs), Runs)
    stopped.clear()
    await wiring.stop()
    assert stopped == ["index", "bus"]


async def test_a_feature_that_fails_to_start_is_reported_and_its_dependants_skipped(caplog):
    wiring = Wiring([feature("broken", start_broken), RUNS])
    wiring.open({Base: Base()}, spawn=_spawn)
    with caplog.at_level(logging.WARNING), pytest.raises(Unavailable) as caught:
        await wiring.get(Runs)
    assert str(caught.value.message) == (
        "the runs feature did not start: the broken feature it needs did not start: "
        "no database (see the daemon log)"
    )
    with pytest.raises(Unavailable, match="the broken feature did not start: no database"):
        await wiring.get(Bus)
    assert "the broken feature failed to start" in caplog.text
    assert await wiring.find(Bus) is None


async def start_refusing(base: Base) -> AsyncIterator[Bus]:
    raise Unavailable("not in a subfolder: open /repo")
    yield Bus()  # pragma: no cover - never reached


async def test_a_feature_that_refuses_to_start_says_why_without_a_traceback(caplog):
    wiring = Wiring([feature("refusing", start_refusing), RUNS])
    wiring.open({Base: Base()}, spawn=_spawn)
    with caplog.at_level(logging.WARNING), pytest.raises(Unavailable) as caught:
        await wiring.get(Runs)
    assert caught.value.message == (
        "the runs feature did not start: the refusing feature it needs did not start: "
        "not in a subfolder: open /repo"
    )
    assert "the refusing feature is off: not in a subfolder" in caplog.text
    assert "Traceback" not in caplog.text


async def test_one_feature_failing_to_stop_does_not_keep_the_others_running(caplog):
    wiring = Wiring([BUS, feature("stuck", start_stuck_on_stop)])
    wiring.open({Base: Base()}, spawn=_spawn)
    await wiring.get(Bus)
    await wiring.get(Bus)
    stopped.clear()
    with caplog.at_level(logging.ERROR):
        await wiring.stop()
    assert stopped == ["bus"]
    assert "the stuck feature failed to stop" in caplog.text


async def test_a_feature_whose_need_this_daemon_lacks_is_skipped_when_the_features_start(caplog):
    wiring = Wiring([INDEX, RUNS], known=[BUS, INDEX, RUNS])
    wiring.open({Base: Base()}, spawn=_spawn)
    with caplog.at_level(logging.WARNING), pytest.raises(Unavailable) as caught:
        await wiring.get(Runs)
    assert caught.value.message == (
        "the runs feature did not start: it needs Bus, which the bus feature provides and this"
        " daemon does not run"
    )
    assert "the runs feature is skipped: it needs Bus" in caplog.text
    assert isinstance(await wiring.get(Index), Index)
    with pytest.raises(Unavailable, match="^the bus feature is not enabled in this daemon$"):
        await wiring.get(Bus)
    await wiring.stop()


def planned(features: list[Feature], known: list[Feature]) -> list[Feature]:
    """The daemon's features in the order they start (what begin() computes)."""
    catalogue = {f.provides: f.name for f in known if f.provides is not None}
    return plan(features, [DevFactoryServer, Workspace], catalogue)[0]


def test_the_daemon_wires_every_feature_in_dependency_order():
    wiring = create_server().wiring
    assert [f.name for f in planned(wiring.chosen, wiring.known)] == [
        "core",
        "events",
        "snapshots",
        "index",
        "commands",
        "review",
        "runs",
        "git",
        "factory",
        "team",
        "trust",
    ]
    assert set(FEATURES) == {f.name for f in wiring.chosen}
    server = create_server(["index", "runs"])
    assert [f.name for f in planned(server.wiring.chosen, server.wiring.known)] == [
        "core",
        "index",
    ]


def _spawn(coro):
    import asyncio

    return asyncio.get_running_loop().create_task(coro)


def test_the_architecture_diagram_is_the_wiring():
    """docs/architecture.md draws who needs whom; it must be what the start() signatures say."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    block = doc.split("%% features:", 1)[1].split("```", 1)[0]
    drawn = set(re.findall(r"^\s*(\w+) (-->|-\.->) (\w+)$", block, re.M))
    wiring = create_server().wiring
    provider = {f.provides: f.name for f in wiring.known if f.provides is not None}
    wired = {
        (f.name, "-.->" if need.optional else "-->", provider[need.kind])
        for f in wiring.chosen
        for need in f.needs
        if need.kind in provider
    }
    assert drawn == wired
