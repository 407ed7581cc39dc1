#!/usr/bin/env bash
# The API benchmark in one command (docs/benchmarks.md): builds Release, starts the server on a
# fresh data directory (journal on, so every answer is durable; demo off, so nothing else trades),
# opens and funds an account and makes it an API key through the operator's native API, then runs
# the open-loop WebSocket load client and stops the server.
#
#   bench/api-load.sh [--rate 100000] [--seconds 10] [--warmup-seconds 3] [--send-interval-us 0] [--connections 1] [--spin]
#
# Environment: SERVER_ARGS (more server options, e.g. "--InlineSocketIo false"), SERVER_ENV and
# CLIENT_ENV (a command prefix for each process, e.g. "env DOTNET_TieredPGO=0" or "taskset -c 1"),
# SKIP_BUILD=1 to run the Release builds already there (a machine with the .NET runtime but no SDK),
# TMPDIR for where the data directory goes (its disk is the one every answer waits for).
# The server runs with its own GC settings (server GC, DATAS off: docs/operations.md); the load
# client with workstation GC, so that it takes no more than it needs of a small machine.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-5091}
data=$(mktemp -d)
server=""
operator_token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
# Stops the server (a hard kill if it has not stopped 10 s after the polite one), also when this
# script is itself stopped (a timeout around it): a server left behind would hold the port, and the
# pipe of whoever reads this script's output, for every run after it.
client=""
stop_server() {
  [ -n "$client" ] && kill $client 2>/dev/null
  [ -n "$server" ] || return 0
  kill $server 2>/dev/null
  for _ in $(seq 50); do kill -0 $server 2>/dev/null || break; sleep 0.2; done
  kill -9 $server 2>/dev/null
  wait $server 2>/dev/null
}
trap 'stop_server; rm -rf "$data"' EXIT
trap 'exit 143' TERM INT

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  dotnet build -c Release src/Clearhouse.Server -v quiet -nologo >/dev/null
  dotnet build -c Release bench/Clearhouse.Benchmarks -v quiet -nologo >/dev/null
fi
${SERVER_ENV:-} dotnet src/Clearhouse.Server/bin/Release/net10.0/Clearhouse.Server.dll \
  --urls "http://127.0.0.1:$port" --data-dir "$data" --demo false --OperatorToken "$operator_token" --Logging:LogLevel:Default Warning ${SERVER_ARGS:-} &
server=$!
# request GET|POST PATH [JSON]: the operator's calls (a POST carries the operator token), through
# curl where there is one, else Python (the 16-core machine in docs/benchmarks.md had no curl).
request() {
  if command -v curl >/dev/null; then
    if [ "$1" = GET ]; then
      curl -sf "http://127.0.0.1:$port$2"
    else
      curl -sf -H "Authorization: Bearer $operator_token" -H 'Content-Type: application/json' -X POST "http://127.0.0.1:$port$2" -d "${3:-}"
    fi
  else
    python3 -c '
import sys, urllib.request
method, url, token, body = sys.argv[1:5]
headers = {} if method == "GET" else {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
request = urllib.request.Request(url, data=body.encode() if method == "POST" else None, headers=headers, method=method)
try:
    sys.stdout.write(urllib.request.urlopen(request, timeout=10).read().decode())
except Exception:
    sys.exit(22)
' "$1" "http://127.0.0.1:$port$2" "$operator_token" "${3:-}"
  fi
}
for _ in $(seq 100); do request GET /health >/dev/null && break; kill -0 $server 2>/dev/null || break; sleep 0.2; done
if ! kill -0 $server 2>/dev/null; then
  echo "the server did not start (is port $port taken? PORT=... picks another)" >&2
  exit 1
fi

if ! created=$(request POST /api/accounts); then
  echo "the server on port $port refused this run's operator token: is another server on that port? (PORT=... picks another)" >&2
  exit 1
fi
account=$(echo "$created" | sed -E 's/.*"accountId":([0-9]+).*/\1/')
request POST "/api/accounts/$account/deposit" '{"amount":"100000000"}' >/dev/null
key=$(request POST "/api/accounts/$account/api-keys" '{"scopes":"read,trade","name":"bench"}')
client_id=$(echo "$key" | sed -E 's/.*"clientId":"([^"]+)".*/\1/')
client_secret=$(echo "$key" | sed -E 's/.*"clientSecret":"([^"]+)".*/\1/')

cpu() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
faults() { awk '{ print $10 }' "/proc/$server/stat"; }  # minor page faults: first touches of new memory
before=$(cpu); faults_before=$(faults)
# The client runs in the background and the script waits for it, so that a TERM (a timeout around
# this script) is handled at once, not after the client has finished.
DOTNET_gcServer=0 ${CLIENT_ENV:-} dotnet bench/Clearhouse.Benchmarks/bin/Release/net10.0/Clearhouse.Benchmarks.dll api-load \
  --url "http://127.0.0.1:$port" --client-id "$client_id" --client-secret "$client_secret" --server-pid "$server" "$@" &
client=$!
status=0
wait $client || status=$?
client=""
echo "server CPU during the run (warm-up included): $(( ($(cpu) - before) * 10 )) ms (user + system)"
echo "server memory during the run (warm-up included): $(( $(faults) - faults_before )) minor page faults; peak resident $(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$server/status") MB"
exit $status
