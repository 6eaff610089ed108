# One task runner: CI runs these same targets (.ci/run).
.PHONY: test lint typecheck schema bench

test:
	uv run pytest

lint:
	uv run ruff check .
	uv run ruff format --check .

typecheck:
	uv run mypy protocol/src storage/src server/src

# The wire contract's JSON Schema, and the editors' generated views of it (TypeScript, Lua).
schema:
	uv run python -m devfactory.protocol.schema > docs/protocol.schema.json
	node editors/vscode/scripts/generate.mjs
	uv run python editors/neovim/scripts/generate.py

bench:
	uv run python -m bench
