"""A run's budget: ``maxCostUsd`` and ``maxTokens`` on ``devfactory/runs/create``."""

from __future__ import annotations

from devfactory.protocol.runs import RunMetadata


def budget_reason(metadata: RunMetadata) -> str | None:
    """Why the run has spent its budget, or None while it has not."""
    usage = metadata.usage
    tokens = usage.input_tokens + usage.output_tokens
    if metadata.max_cost_usd is not None and (usage.cost_usd or 0.0) >= metadata.max_cost_usd:
        return (
            f"the run has cost ${usage.cost_usd or 0.0:.4f}, reaching its budget of "
            f"${metadata.max_cost_usd:.4f}; resume to let it go on"
        )
    if metadata.max_tokens is not None and tokens >= metadata.max_tokens:
        return (
            f"the run has used {tokens} tokens, reaching its budget of {metadata.max_tokens}; "
            "resume to let it go on"
        )
    return None
