#!/usr/bin/env bash
# CI for the VS Code extension (called by .ci/run): tools (cached), dependencies, generated
# code check, typecheck, lint, bundle, .vsix, then the three test layers offline:
#   layer 1  node --test against the real daemon process
#   layer 2  mocha suite in a real VS Code extension host (the unzipped .vsix)
#   layer 3  one UI smoke test in code-server with the .vsix installed
# Layers run inside `unshare -n` (a network namespace with loopback only) when the kernel lets
# us, which proves nothing leaves the machine. Ends with `vscode: N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo "== vscode: $*"; }

step "tools"
env_file="$(scripts/install-tools.sh)"

step "npm dependencies"
stamp="node_modules/.devfactory-lock-sha256"
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]]; then
  npm ci --loglevel=error --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi

step "generated code is current, typecheck, lint"
node scripts/generate.mjs --check
npm run --silent typecheck
npx --no-install eslint --max-warnings 0 .

step "bundle and package"
npm run --silent package
node scripts/build.mjs --tests

step "tests (offline)"
if unshare -n true 2>/dev/null; then
  unshare -n scripts/run-tests.sh "$env_file" dist/devfactory.vsix
else
  echo "warning: unshare -n is not permitted here; running the tests without a network namespace"
  scripts/run-tests.sh "$env_file" dist/devfactory.vsix
fi
