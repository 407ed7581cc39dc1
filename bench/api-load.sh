#!/usr/bin/env bash
# The API benchmark in one command (docs/benchmarks.md): builds Release, starts the server on a
# fresh data directory (journal on, so every answer is durable; demo off, so nothing else trades),
# opens and funds an account and makes it an API key through the operator's native API, then runs
# the open-loop WebSocket load client and stops the server.
#
#   bench/api-load.sh [--rate 100000] [--seconds 10] [--warmup-seconds 3] [--send-interval-us 0]
#
# Environment: SERVER_ARGS (more server options, e.g. "--InlineSocketIo true"), SERVER_ENV and
# CLIENT_ENV (a command prefix for each process, e.g. "env DOTNET_TieredPGO=0" or "taskset -c 1").
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-5091}
data=$(mktemp -d)
server=""
operator_token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
trap '[ -n "$server" ] && { kill $server 2>/dev/null; wait $server 2>/dev/null; }; rm -rf "$data"' EXIT

dotnet build -c Release src/Clearhouse.Server -v quiet -nologo >/dev/null
dotnet build -c Release bench/Clearhouse.Benchmarks -v quiet -nologo >/dev/null
DOTNET_gcServer=0 ${SERVER_ENV:-} dotnet src/Clearhouse.Server/bin/Release/net10.0/Clearhouse.Server.dll \
  --urls "http://127.0.0.1:$port" --data-dir "$data" --demo false --OperatorToken "$operator_token" --Logging:LogLevel:Default Warning ${SERVER_ARGS:-} &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done

op="Authorization: Bearer $operator_token"
account=$(curl -sf -H "$op" -X POST "http://127.0.0.1:$port/api/accounts" | sed -E 's/.*"accountId":([0-9]+).*/\1/')
curl -sf -H "$op" -X POST "http://127.0.0.1:$port/api/accounts/$account/deposit" -H 'Content-Type: application/json' -d '{"amount":"100000000"}' >/dev/null
key=$(curl -sf -H "$op" -X POST "http://127.0.0.1:$port/api/accounts/$account/api-keys" -H 'Content-Type: application/json' -d '{"scopes":"read,trade","name":"bench"}')
client_id=$(echo "$key" | sed -E 's/.*"clientId":"([^"]+)".*/\1/')
client_secret=$(echo "$key" | sed -E 's/.*"clientSecret":"([^"]+)".*/\1/')

cpu() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
before=$(cpu)
DOTNET_gcServer=0 ${CLIENT_ENV:-} dotnet bench/Clearhouse.Benchmarks/bin/Release/net10.0/Clearhouse.Benchmarks.dll api-load \
  --url "http://127.0.0.1:$port" --client-id "$client_id" --client-secret "$client_secret" --server-pid "$server" "$@"
status=$?
echo "server CPU during the run (warm-up included): $(( ($(cpu) - before) * 10 )) ms (user + system)"
exit $status
