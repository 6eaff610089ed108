"""msgspec Structs through pygls: out as camelCase JSON, back into the same Struct."""

from __future__ import annotations

import json

import msgspec
import pytest
from pygls.protocol import JsonRPCNotification, JsonRPCResponseMessage

from devfactory.protocol.enums import EventType, RunStatus, Severity
from devfactory.protocol.events import (
    Event,
    EventNotification,
    EventsParams,
    PlanCreated,
    decode_payload,
    encode_payload,
)
from devfactory.protocol.git import GitLogParams
from devfactory.protocol.index import SearchParams
from devfactory.protocol.initiatives import InitiativeListParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.proposals import ProposalAcceptParams
from devfactory.protocol.runs import Run, RunCreateParams, RunListParams
from devfactory.protocol.snapshots import SnapshotListParams
from devfactory.server.app import DevFactoryServer
from devfactory.server.errors import InvalidParams
from devfactory.server.rpc import MAX_NESTING, decode_params

RUN = Run(
    id=3, project_id=1, title="t", prompt="p", status=RunStatus.RUNNING, agent="qa",
    provider="scripted", created_at="2026-01-01T00:00:00.000Z",
)  # fmt: skip
EVENT = Event(
    id=9, project_id=1, run_id=3, type=EventType.AI_PLAN_CREATED, severity=Severity.INFO,
    title="plan", payload=encode_payload(EventType.AI_PLAN_CREATED, PlanCreated(plan="x",
    steps=["a"])), created_at="2026-01-01T00:00:00.000Z",
)  # fmt: skip


def _wire(message: object) -> dict:
    server = DevFactoryServer()
    text = json.dumps(message, default=server.protocol._serialize_message)
    return json.loads(text)


@pytest.mark.parametrize("value", [RUN, EventNotification(event=EVENT)])
def test_struct_results_round_trip(value: msgspec.Struct) -> None:
    wire = _wire(JsonRPCResponseMessage(id=1, jsonrpc="2.0", result=value))
    assert msgspec.convert(wire["result"], type(value)) == value


def test_notifications_are_camel_case() -> None:
    wire = _wire(
        JsonRPCNotification(method="m", jsonrpc="2.0", params=EventNotification(event=EVENT))
    )
    assert wire["params"]["event"]["runId"] == 3
    assert "run_id" not in json.dumps(wire)


def test_custom_params_stay_raw_json() -> None:
    server = DevFactoryServer()
    message = server.protocol.structure_message(
        {"jsonrpc": "2.0", "id": 1, "method": "devfactory/runs/create", "params": {"prompt": "x"}}
    )
    assert message.params == {"prompt": "x"}


def test_payloads_decode_into_their_struct() -> None:
    assert decode_payload(EVENT) == PlanCreated(plan="x", steps=["a"])
    with pytest.raises(TypeError, match="takes a PlanCreated payload"):
        encode_payload(EventType.AI_PLAN_CREATED, EventNotification(event=EVENT))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "missing required field `prompt`"),
        ({"prompt": 5}, "Expected `str`, got `int` - at `$.prompt`"),
        ({"prompt": "x", "agnet": "qa"}, "unknown field `agnet`; accepted fields: prompt, title"),
        ({"prompt": "x", "agent": "wizard"}, "Invalid enum value 'wizard' - at `$.agent`"),
    ],
)
def test_bad_params_name_the_field(raw: dict, message: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        decode_params("devfactory/runs/create", RunCreateParams, raw)
    assert message in caught.value.message
    assert caught.value.message.startswith("invalid params for devfactory/runs/create: ")


@pytest.mark.parametrize(
    ("method", "params_type", "raw", "message"),
    [
        (Requests.SEARCH, SearchParams, {"query": "x", "limit": 0}, "limit must be between 1 and 200, got 0"),
        (Requests.SEARCH, SearchParams, {"query": "x", "limit": 201}, "limit must be between 1 and 200, got 201"),
        (Requests.SEARCH, SearchParams, {"query": "x", "chunksPerFile": 0}, "chunksPerFile must be between 1 and 20, got 0"),
        (Requests.RUNS_CREATE, RunCreateParams, {"prompt": "x", "maxSteps": 501}, "maxSteps must be between 1 and 500, got 501"),
        (Requests.RUNS_LIST, RunListParams, {"limit": 1001}, "limit must be between 1 and 1000, got 1001"),
        (Requests.SNAPSHOTS_LIST, SnapshotListParams, {"limit": -3}, "limit must be between 1 and 1000, got -3"),
        (Requests.EVENTS, EventsParams, {"limit": 10_001}, "limit must be between 1 and 10000, got 10001"),
        (Requests.EVENTS, EventsParams, {"since": -1}, "since must be 0 or more, got -1"),
        (Requests.GIT_LOG, GitLogParams, {"limit": 0}, "limit must be between 1 and 10000, got 0"),
        (Requests.INITIATIVES_LIST, InitiativeListParams, {"limit": 0}, "limit must be between 1 and 1000, got 0"),
        (Requests.SEARCH, SearchParams, {"query": "x", "limit": "5"}, "Expected `int`, got `str` - at `$.limit`"),
    ],
)  # fmt: skip
def test_out_of_range_params_say_the_range(
    method: str, params_type: type, raw: dict, message: str
) -> None:
    """The bounds are declared in the protocol types; the message gives the whole range."""
    with pytest.raises(InvalidParams) as caught:
        decode_params(method, params_type, raw)
    assert caught.value.message == f"invalid params for {method}: {message}"


def nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = [value]
    return value


def test_deep_nesting_is_refused_even_where_any_value_is_accepted() -> None:
    """A free-form field (``metadata: dict[str, Any]``) takes any JSON, but not 800 levels of
    it: the encoders and validators it later passes through would run out of stack."""
    deep = {"proposalId": 1, "metadata": {"x": nested(MAX_NESTING)}}
    with pytest.raises(InvalidParams) as caught:
        decode_params(Requests.PROPOSALS_ACCEPT, ProposalAcceptParams, deep)
    assert f"must not nest deeper than {MAX_NESTING} levels - at `$.metadata.x" in str(
        caught.value.message
    )
    fine = {"proposalId": 1, "metadata": {"x": nested(MAX_NESTING - 2)}}
    decode_params(Requests.PROPOSALS_ACCEPT, ProposalAcceptParams, fine)


@pytest.mark.parametrize(
    ("params_type", "raw"),
    [
        (SearchParams, {"query": "x", "limit": 200}),
        (RunCreateParams, {"prompt": "x", "maxSteps": None}),
        (RunCreateParams, {"prompt": "x", "maxSteps": 1}),
        (EventsParams, {"since": 0, "limit": 10_000}),
        (InitiativeListParams, {"limit": 1000}),
    ],
)
def test_params_at_their_bounds_are_accepted(params_type: type, raw: dict) -> None:
    decode_params("devfactory/x", params_type, raw)
