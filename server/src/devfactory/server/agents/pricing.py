"""The price table: what a model's tokens cost and how many it reads at most.

The daemon ships the list prices of current OpenAI and Anthropic models (US dollars per
million tokens, as the vendors publish them); ``agent.models`` in the settings adds models or
replaces a row (a local model at 0, a negotiated price). A dated or prefixed name finds its
row by the longest known prefix: ``gpt-4.1-mini-2025-04-14`` costs what ``gpt-4.1-mini``
does, ``openai/gpt-4o`` what ``gpt-4o`` does.
"""

from __future__ import annotations

from collections.abc import Mapping

from devfactory.protocol.settings import ModelSettings

from .providers.base import Usage

_M = ModelSettings
SHIPPED: dict[str, ModelSettings] = {
    # OpenAI
    "gpt-5": _M(input_usd=1.25, cached_input_usd=0.125, output_usd=10.0, context_window=400_000),
    "gpt-5-mini": _M(
        input_usd=0.25, cached_input_usd=0.025, output_usd=2.0, context_window=400_000
    ),
    "gpt-5-nano": _M(
        input_usd=0.05, cached_input_usd=0.005, output_usd=0.40, context_window=400_000
    ),
    "gpt-4.1": _M(input_usd=2.0, cached_input_usd=0.50, output_usd=8.0, context_window=1_047_576),
    "gpt-4.1-mini": _M(
        input_usd=0.40, cached_input_usd=0.10, output_usd=1.60, context_window=1_047_576
    ),
    "gpt-4.1-nano": _M(
        input_usd=0.10, cached_input_usd=0.025, output_usd=0.40, context_window=1_047_576
    ),
    "gpt-4o": _M(input_usd=2.50, cached_input_usd=1.25, output_usd=10.0, context_window=128_000),
    "gpt-4o-mini": _M(
        input_usd=0.15, cached_input_usd=0.075, output_usd=0.60, context_window=128_000
    ),
    "o3": _M(input_usd=2.0, cached_input_usd=0.50, output_usd=8.0, context_window=200_000),
    "o4-mini": _M(input_usd=1.10, cached_input_usd=0.275, output_usd=4.40, context_window=200_000),
    # Anthropic (cached input: a cache read)
    "claude-opus-4-1": _M(
        input_usd=15.0, cached_input_usd=1.50, output_usd=75.0, context_window=200_000
    ),
    "claude-opus-4": _M(
        input_usd=15.0, cached_input_usd=1.50, output_usd=75.0, context_window=200_000
    ),
    "claude-sonnet-4-5": _M(
        input_usd=3.0, cached_input_usd=0.30, output_usd=15.0, context_window=200_000
    ),
    "claude-sonnet-4": _M(
        input_usd=3.0, cached_input_usd=0.30, output_usd=15.0, context_window=200_000
    ),
    "claude-3-7-sonnet": _M(
        input_usd=3.0, cached_input_usd=0.30, output_usd=15.0, context_window=200_000
    ),
    "claude-haiku-4-5": _M(
        input_usd=1.0, cached_input_usd=0.10, output_usd=5.0, context_window=200_000
    ),
    "claude-3-5-haiku": _M(
        input_usd=0.80, cached_input_usd=0.08, output_usd=4.0, context_window=200_000
    ),
}
PER = 1_000_000


class PriceTable:
    """The shipped rows under the settings' ``agent.models``."""

    def __init__(self, overrides: Mapping[str, ModelSettings], default_context_window: int) -> None:
        self.rows = {**SHIPPED, **overrides}
        self.default_context_window = default_context_window

    def lookup(self, model: str | None) -> ModelSettings | None:
        """The row of ``model``: its own, or that of its longest known prefix."""
        if not model:
            return None
        for name in (model, model.rsplit("/", 1)[-1]):
            if name in self.rows:
                return self.rows[name]
            prefixes = [key for key in self.rows if name.startswith(key + "-")]
            if prefixes:
                return self.rows[max(prefixes, key=len)]
        return None

    def cost(self, model: str | None, usage: Usage) -> float | None:
        """What ``usage`` cost in US dollars; None for a model the table does not know."""
        row = self.lookup(model)
        if row is None:
            return None
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_price = row.input_usd if row.cached_input_usd is None else row.cached_input_usd
        return (
            (usage.input_tokens - cached) * row.input_usd
            + cached * cached_price
            + usage.output_tokens * row.output_usd
        ) / PER

    def context_window(self, model: str | None) -> int:
        row = self.lookup(model)
        if row is None or row.context_window is None:
            return self.default_context_window
        return row.context_window
