"""Tool schemas and tool signatures agree: once arguments pass the schema, the call fits."""

from __future__ import annotations

import inspect

import pytest

from devfactory.server.agents.arguments import check_arguments
from devfactory.server.agents.tools import SPECS, ToolBox, ToolError

FILE_TOOLS = [name for name in SPECS if hasattr(ToolBox, name)]


@pytest.mark.parametrize("name", FILE_TOOLS)
def test_the_schema_describes_the_method(name: str):
    parameters = list(inspect.signature(getattr(ToolBox, name)).parameters.values())[1:]
    schema = SPECS[name].parameters
    assert list(schema["properties"]) == [p.name for p in parameters]
    assert schema["required"] == [p.name for p in parameters if p.default is p.empty]
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("read_file", {"path": "a.py", "end_line": True}, "end_line must be integer"),
        ("ask_user", {"question": "?", "choices": [1]}, "choices[0] must be string"),
        ("finish", {}, "the arguments must contain ['summary'] properties"),
        ("search_code", {"query": "x", "group_by": "dir"}, "group_by must be one of"),
    ],
)
def test_a_bad_argument_is_a_tool_error_naming_it(name: str, arguments: dict, message: str):
    with pytest.raises(ToolError) as caught:
        check_arguments(SPECS[name], arguments)
    assert str(caught.value).startswith(f"bad arguments for {name}: {message}")
