"""Hypothesis strategies for the protocol fuzz suite, derived from the protocol registry.

Valid-shaped params come from each method's msgspec params type (``msgspec.inspect``), so a
new method or field is fuzzed the day it is declared. Hostile params start valid and break
one thing that validation must catch: a value of a JSON kind the field does not accept, an
integer beyond 64 bits, a NUL character, deep nesting, an unknown field, params that are not
an object. Malformed streams are frames an editor would never write, each of which ends where
the next frame can begin (a frame cut short is the end of a connection, not something to
recover from in the middle of one).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

from devfactory.protocol.methods import REQUESTS, Requests
from wire_support import OMIT, frame

INT64 = (-(2**63), 2**63 - 1)

FIELD_OVERRIDES: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    # A clone may go anywhere on disk (the user asked); the fuzz keeps it in the workspace.
    (Requests.PROJECT_CLONE, "path"): st.sampled_from(["clones/a", "clones/b c"]),
}

_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
_method_names = _text.filter(lambda name: name not in {"exit", "shutdown", "initialize"})
_json_scalars = st.none() | st.booleans() | st.integers(*INT64) | _text
json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


def _int(t: mi.IntType) -> st.SearchStrategy[int]:
    low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else INT64[0])
    high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else INT64[1])
    anywhere = st.integers(low, high)
    if max(low, -2) > min(high, 60):
        return anywhere
    return st.integers(max(low, -2), min(high, 60)) | anywhere  # small: ids that exist


def valid_value(t: mi.Type) -> st.SearchStrategy[Any]:
    """JSON values that ``t`` accepts."""
    if isinstance(t, mi.IntType):
        return _int(t)
    if isinstance(t, mi.FloatType):
        return st.floats(allow_nan=False, allow_infinity=False, width=32) | st.integers(-5, 500)
    if isinstance(t, mi.StrType):
        return _text
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.EnumType):
        return st.sampled_from([member.value for member in t.cls])
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(t.values)
    if isinstance(t, mi.UnionType):
        return st.one_of([valid_value(member) for member in t.types])
    if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return st.lists(valid_value(t.item_type), max_size=4)
    if isinstance(t, mi.DictType):
        return st.dictionaries(valid_value(t.key_type), valid_value(t.value_type), max_size=3)
    if isinstance(t, mi.AnyType):
        return json_values
    if isinstance(t, mi.StructType):  # nested params (context items and their ranges)
        return st.fixed_dictionaries(
            {f.encode_name: valid_value(f.type) for f in t.fields if f.required},
            optional={f.encode_name: valid_value(f.type) for f in t.fields if not f.required},
        )
    raise NotImplementedError(f"no strategy for {t!r}: teach fuzz_support about it")


def _struct(method: str) -> mi.StructType:
    info = mi.type_info(REQUESTS[method].params)
    assert isinstance(info, mi.StructType)
    return info


def _field_value(method: str, field: mi.Field) -> st.SearchStrategy[Any]:
    override = FIELD_OVERRIDES.get((method, field.encode_name))
    return valid_value(field.type) if override is None else override


def valid_params(method: str) -> st.SearchStrategy[dict[str, Any]]:
    """Params of ``method`` that decode: every required field, some optional ones."""
    fields = _struct(method).fields
    return st.fixed_dictionaries(
        {f.encode_name: _field_value(method, f) for f in fields if f.required},
        optional={f.encode_name: _field_value(method, f) for f in fields if not f.required},
    )


_KINDS: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "bool": st.booleans(),
    "int": st.integers(-5, 5),
    "float": st.floats(0.5, 1e6),
    "str": _text,
    "list": st.lists(st.integers(), max_size=2),
    "object": st.dictionaries(_text, st.integers(), max_size=2),
}


def _accepted(t: mi.Type) -> set[str]:
    """The JSON kinds ``t`` may accept (a superset is fine: those kinds are not used)."""
    if isinstance(t, mi.UnionType):
        return set().union(*(_accepted(member) for member in t.types))
    if isinstance(t, mi.AnyType):
        return set(_KINDS)
    if isinstance(t, mi.FloatType):
        return {"int", "float"}
    return {
        mi.IntType: {"int"},
        mi.StrType: {"str"},
        mi.EnumType: {"str", "int"},
        mi.LiteralType: {"str", "int", "null", "bool"},
        mi.BoolType: {"bool"},
        mi.NoneType: {"null"},
        mi.ListType: {"list"},
        mi.DictType: {"object"},
        mi.StructType: {"object"},
    }.get(type(t), set(_KINDS))


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "huge int": st.sampled_from([2**64, -(2**63) - 1, 2**200, 10**400]),
    "NUL": st.builds(lambda s, t: f"{s}\x00{t}", _text, _text),
    "deep nesting": st.integers(min_value=50, max_value=800).map(_nested),
}
HOSTILITIES = ["wrong kind", *HOSTILE_VALUES, "unknown field", "not an object", "omitted"]
"""The ways :func:`hostile_params` breaks a method's params."""


@st.composite
def hostile_params(draw: st.DrawFn, method: str, how: str) -> tuple[Any, bool]:
    """(params, whether validation must refuse them): ``method``'s params broken ``how``."""
    fields = _struct(method).fields
    params: dict[str, Any] = draw(valid_params(method))
    if how == "not an object":
        return draw(st.sampled_from([[], [1, 2], "params", 7, True])), True
    if how == "omitted":
        return OMIT, any(f.required for f in fields)
    if how == "unknown field" or not fields:
        name = draw(_text.filter(lambda n: n not in {f.encode_name for f in fields}))
        hostile = HOSTILE_VALUES.get(how)
        params[name] = draw(json_values if hostile is None else hostile)
        return params, True
    field = draw(st.sampled_from(fields))
    if how == "wrong kind":
        kinds = sorted(set(_KINDS) - _accepted(field.type))
        params[field.encode_name] = draw(st.sampled_from(kinds).flatmap(_KINDS.__getitem__))
        return params, True
    value = draw(HOSTILE_VALUES[how])
    params[field.encode_name] = draw(st.sampled_from([value, [value], {"x": value}]))
    return params, True


# -- malformed streams -------------------------------------------------------------------------

_bodies = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"", b"{", b"null", b"[]", b"[{}]", b'"x"', b"1e999", b"NaN", b"\xff"]),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"jsonrpc": st.sampled_from(["2.0", "1.0", 2]), "method": _method_names | st.integers()},
        optional={"id": st.none() | st.floats() | st.lists(st.integers()), "params": json_values},
    ).map(msgspec.json.encode),
    st.integers(min_value=100, max_value=5000).map(lambda n: b"[" * n + b"]" * n),
)


@st.composite
def malformed_streams(draw: st.DrawFn) -> bytes:
    """Bytes that end where a new frame may start, but are no good message."""
    body = draw(_bodies)
    kind = draw(
        st.sampled_from(
            ["bad body", "bad header", "huge length", "no length", "length too short", "garbage"]
        )
    )
    if kind == "bad body":
        return frame(body)
    if kind == "bad header":
        header = draw(st.binary(min_size=1, max_size=40).filter(lambda b: b"\r\n\r\n" not in b))
        return header + b"\r\n\r\n" + body
    if kind == "huge length":
        length = draw(st.integers(min_value=64 * 1024 * 1024 + 1, max_value=2**70))
        return b"Content-Length: %d\r\n\r\n" % length + body
    if kind == "no length":
        return b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + body
    if kind == "length too short":  # the body spills into where the next header should be
        whole = msgspec.json.encode({"jsonrpc": "2.0", "method": "x", "params": {"a": 1}})
        cut = draw(st.integers(min_value=0, max_value=len(whole) - 1))
        return b"Content-Length: %d\r\n\r\n" % cut + whole
    return draw(st.binary(min_size=1, max_size=200))
