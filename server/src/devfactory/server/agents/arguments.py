"""Tool arguments checked against the JSON Schema the model was given (``tools.SPECS``).

A model sends what it likes (``path: 123``, ``query: null``, ``timeout_s: "soon"``); checked
here before the tool runs, a bad argument is a :class:`ToolError` the model reads and corrects,
not a crash that fails the run. Each schema is compiled once, on first use (fastjsonschema
turns it into a small Python function).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastjsonschema

from .providers.base import ToolSpec
from .tools import ToolError

_validators: dict[str, Callable[[Any], Any]] = {}


def check_arguments(spec: ToolSpec, arguments: dict[str, Any]) -> None:
    """Raise ToolError naming the first argument that does not fit ``spec``'s schema."""
    validate = _validators.get(spec.name)
    if validate is None:
        validate = _validators[spec.name] = fastjsonschema.compile(spec.parameters)
    try:
        validate(arguments)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise ToolError(f"bad arguments for {spec.name}: {_readable(exc.message)}") from None


def _readable(message: str) -> str:
    """fastjsonschema says ``data.path must be string``; the model knows no ``data``."""
    if message.startswith("data."):
        return message.removeprefix("data.")
    return "the arguments" + message.removeprefix("data")
