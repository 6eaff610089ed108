# One task runner: CI runs these same targets (.ci/run).
.PHONY: test lint typecheck schema bench

test:
	uv run pytest

lint:
	uv run ruff check .
	uv run ruff format --check .

typecheck:
	uv run mypy protocol/src storage/src server/src

schema:
	uv run python -m devfactory.protocol.schema > docs/protocol.schema.json

bench:
	uv run python -m bench
