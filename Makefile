# One task runner: CI runs these same targets (.ci/run).
.PHONY: test lint typecheck schema bench screenshots

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

# The README's pictures, taken by the UI tests as they run: Neovim's screens as text (its TUI in
# a pseudo-terminal) spliced into README.md, VS Code's as PNGs (code-server and Chromium).
screenshots:
	DEVFACTORY_SCREENSHOTS=$(CURDIR)/docs/screenshots uv run pytest tests/e2e/test_neovim_screens.py -n 0 -q
	uv run python editors/neovim/scripts/screens.py
	editors/vscode/scripts/screenshots.sh $(CURDIR)/docs/screenshots
