#!/usr/bin/env bash
# Run the extension's three test layers and print one `vscode: N passed, N failed` line.
# Usage (after scripts/ci.sh built everything): [unshare -n] scripts/run-tests.sh ENV_FILE VSIX
# Inside a fresh network namespace only loopback exists, and it starts down: bring it up.
set -uo pipefail
cd "$(dirname "$0")/.."
env_file="$1"
vsix="$(realpath "$2")"
# shellcheck source=/dev/null
source "$env_file"
ip link set lo up 2>/dev/null || true

passed=0
failed=0
count() { # count LABEL LOG: add the `LABEL: N passed, N failed` line of LOG to the totals
  local line
  line="$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed" "$2" | tail -1)"
  if [[ -z "$line" ]]; then
    echo "$1: no result line (the layer crashed); counted as 1 failure"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
}
logs="$(mktemp -d)"
extension="$(mktemp -d)"
trap 'rm -rf "$extension"' EXIT

echo "-- layer 1: node --test against the real daemon"
start=$SECONDS
node --test --test-reporter=tap out/unit/ > "$logs/unit.tap" 2>&1
grep -E '^(not ok|ok) ' "$logs/unit.tap" | grep -v '^ok ' | head -20 || true
grep -A30 '^not ok' "$logs/unit.tap" | head -120 || true
echo "unit: $(grep -E '^# pass' "$logs/unit.tap" | awk '{print $3}') passed, $(grep -E '^# fail' "$logs/unit.tap" | awk '{print $3}') failed" | tee "$logs/unit.txt"
echo "# layer 1: $((SECONDS - start)) s"
count unit "$logs/unit.txt"

echo "-- layer 2: extension-host integration tests (VS Code $(node -p "require('$CODE_SERVER_DIR/lib/vscode/package.json').version"))"
start=$SECONDS
(cd "$extension" && unzip -q "$vsix")
timeout 420 node out/driver/extensionHost.cjs "$extension/extension" > "$logs/exthost.log" 2>&1
grep -E '^\s+(✔|[0-9]+\))|^  [0-9]+ (passing|failing)|^(not ok|ok) |exit code' "$logs/exthost.log" || true
grep -E '^exthost: ' "$logs/exthost.log" || tail -40 "$logs/exthost.log"
echo "# layer 2: $((SECONDS - start)) s"
count exthost "$logs/exthost.log"

echo "-- layer 3: UI smoke test in code-server"
start=$SECONDS
timeout 300 node out/driver/ui.cjs "$vsix" > "$logs/ui.log" 2>&1
grep -E '^(ok|not ok) |^# ' "$logs/ui.log" || true
grep -E '^ui: ' "$logs/ui.log" || tail -40 "$logs/ui.log"
echo "# layer 3: $((SECONDS - start)) s"
count ui "$logs/ui.log"

[[ $failed -eq 0 ]] && rm -rf "$logs" || echo "# logs kept in $logs"
echo "vscode: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
