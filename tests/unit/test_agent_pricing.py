"""The price table: lookups by name and prefix, overrides, costs with cached input."""

from __future__ import annotations

import pytest

from devfactory.protocol.settings import ModelSettings
from devfactory.server.agents.pricing import SHIPPED, PriceTable
from devfactory.server.agents.providers.base import Usage

LOCAL = ModelSettings(input_usd=0.0, output_usd=0.0, context_window=8192)


@pytest.mark.parametrize(
    ("model", "row"),
    [
        ("gpt-4.1-mini", "gpt-4.1-mini"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),  # the longest prefix, not gpt-4.1
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("gpt-4.1x", None),  # a prefix must end at a dash
        ("llama3", None),
        (None, None),
    ],
)
def test_a_model_finds_its_row_by_name_or_longest_prefix(model: str | None, row: str | None):
    table = PriceTable({}, default_context_window=128_000)
    assert table.lookup(model) == (None if row is None else SHIPPED[row])


def test_costs_count_cached_input_at_its_own_price() -> None:
    table = PriceTable({}, default_context_window=128_000)
    usage = Usage(input_tokens=1_000_000, cached_input_tokens=400_000, output_tokens=100_000)
    # gpt-4.1-mini: 0.60 M uncached at $0.40, 0.40 M cached at $0.10, 0.1 M out at $1.60
    assert table.cost("gpt-4.1-mini", usage) == pytest.approx(0.24 + 0.04 + 0.16)
    assert table.cost("llama3", usage) is None


def test_settings_add_models_and_replace_shipped_rows() -> None:
    cheap = ModelSettings(input_usd=1.0, output_usd=2.0)  # no cached price: input's
    table = PriceTable({"llama3": LOCAL, "gpt-4o": cheap}, default_context_window=100_000)
    usage = Usage(input_tokens=2_000_000, cached_input_tokens=1_000_000, output_tokens=1_000_000)
    assert table.cost("llama3", usage) == 0.0
    assert table.cost("gpt-4o-2024-08-06", usage) == pytest.approx(2.0 + 2.0)
    assert table.context_window("llama3") == 8192
    assert table.context_window("gpt-4o") == 100_000  # the override names no window
    assert table.context_window("claude-sonnet-4-5") == 200_000
    assert table.context_window("unknown") == 100_000
