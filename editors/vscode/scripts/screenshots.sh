#!/usr/bin/env bash
# The README's VS Code screenshots, taken by the UI test itself (layer 3: the .vsix in
# code-server, driven by Chromium) as it goes. Usage: scripts/screenshots.sh [DIR]
# (default: docs/screenshots at the repository root). `make screenshots` calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-../../docs/screenshots}")"
env_file="$(scripts/install-tools.sh)"
# shellcheck source=/dev/null
source "$env_file"
stamp="node_modules/.devfactory-lock-sha256"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$(sha256sum package-lock.json | cut -d' ' -f1)" ]]; then
  npm ci --loglevel=error --no-audit --no-fund
  sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
fi
npm run --silent package
node scripts/build.mjs --tests
DEVFACTORY_SCREENSHOTS="$out" node out/driver/ui.cjs dist/devfactory.vsix
