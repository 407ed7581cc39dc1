#!/usr/bin/env bash
# Signed REST calls against a fresh server (docs/benchmarks.md, "Signed REST requests"): builds
# Release, starts the server on a new data directory (journal on, demo off), opens an account and
# makes it an API key through the operator's native API, then runs bench/signed-rest.py with one
# client thread and with eight. Needs curl and python3.
#
#   bench/signed-rest.sh [CALLS_PER_THREAD]     (default 300; the eight threads make half as many each)
#
# Environment: SERVER_ARGS (more server options, e.g. "--InlineSocketIo false"), SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-300}
port=${PORT:-5093}
data=$(mktemp -d)
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
server=""
trap '[ -n "$server" ] && { kill $server 2>/dev/null; wait $server 2>/dev/null; }; rm -rf "$data"' EXIT
[ "${SKIP_BUILD:-0}" = 1 ] || dotnet build -c Release src/Clearhouse.Server -v quiet -nologo >/dev/null
dotnet src/Clearhouse.Server/bin/Release/net10.0/Clearhouse.Server.dll --urls "http://127.0.0.1:$port" --data-dir "$data" \
  --demo false --OperatorToken "$token" --Logging:LogLevel:Default Warning ${SERVER_ARGS:-} &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
post() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -X POST "http://127.0.0.1:$port$1" -d "$2"; }
field() { python3 -c "import sys, json; print(json.load(sys.stdin)['$1'])"; }
account=$(post /api/accounts '{}' | field accountId)
key=$(post "/api/accounts/$account/api-keys" '{"scopes":"read,trade"}')
id=$(echo "$key" | field clientId); secret=$(echo "$key" | field clientSecret)
python3 bench/signed-rest.py "http://127.0.0.1:$port" "$id" "$secret" 1 "$calls"
python3 bench/signed-rest.py "http://127.0.0.1:$port" "$id" "$secret" 8 $((calls / 2))
