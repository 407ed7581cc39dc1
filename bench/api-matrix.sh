#!/usr/bin/env bash
# The API benchmark's whole matrix in one command, as docs/benchmarks.md reports it ("On a 16-core
# machine"): describes the machine (cores, kernel, the disk's commit latency, how often the host takes
# a core away, a loopback round trip), then runs bench/api-load.sh at 1,000 to 200,000 orders/s with
# request code on the socket threads (--InlineSocketIo true, the default) and on the thread pool, the
# journal off for reference, and client and server squeezed onto two cores. About 4 minutes. Everything goes to standard output; save it with `| tee FILE`.
#
#   bench/api-matrix.sh [--quick] [--levers]      (ends with a one-line-per-run summary)
#     --quick:  1-second runs, to check the script itself
#     --levers: instead of the matrix, the settings not yet measured on 16 cores, each alternated
#               with the default at 100,000/s (about 7 minutes with the machine's description): the idle spin of the
#               engine and journal threads (--IdleSpinMicros 0 turns it off), the load spread
#               over 4 connections of the one client process (each connection's requests are read
#               by one socket thread), and thread-pool workers that spin before they sleep (the
#               runtime's default, 70, read as hex from the environment; the server turns it off),
#               and the journal's flusher answering batches of up to 32 itself (--AnswerInlineBatch),
#               and every command left to the engine thread (--ApplyInline false, here and at 1,000/s),
#               and client and server each on cores of their own (taskset), and the JIT's dynamic PGO
#               off, and its call-counting delay back at .NET's 100 ms (the server sets 0: the
#               earlier 16-core runs had the 100 ms and a 3 s warm-up), and the load client's
#               sender and receiver spinning instead of sleeping; first, what the read
#               thread's own work costs without the socket (the read-thread driver)
#
# Environment as for bench/api-load.sh (SKIP_BUILD=1 where there is a .NET runtime but no SDK);
# with OUT set to a directory, the whole output is also saved there.
set -uo pipefail
cd "$(dirname "$0")/.."
# On a lent machine whose runner collects files from $OUT (and returns only the tail of the
# output), keep the whole log there as well.
if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then
  exec > >(tee "$OUT/api-matrix-$(date -u +%Y%m%dT%H%M%S).txt") 2>&1
fi
quick=0; levers=0
for arg in "$@"; do case $arg in --quick) quick=1 ;; --levers) levers=1 ;; *) echo "unknown option $arg" >&2; exit 2 ;; esac; done
secs() { [ $quick = 1 ] && echo 1 || echo "$1"; }
t0=$(date +%s)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  dotnet build -c Release src/Clearhouse.Server -v quiet -nologo >/dev/null && dotnet build -c Release bench/Clearhouse.Benchmarks -v quiet -nologo >/dev/null || exit 1
fi
echo "== machine"
uname -r; echo "$(nproc) cores"; lscpu 2>/dev/null | grep -E 'Model name|Hypervisor|L3' ; grep -o 'nested_pvm=[0-9]' /proc/cmdline; free -g | head -2
echo "data directories under ${TMPDIR:-/tmp} ($(stat -f -c %T "${TMPDIR:-/tmp}"))"
echo "== commit latency";  timeout 60 bench/fsync-latency.sh "${TMPDIR:-/tmp}"
echo "== cpu gaps";        timeout 30 python3 bench/cpu-gaps.py "$(secs 5)"
echo "== loopback round trip"; timeout 30 python3 bench/loopback-pingpong.py
summary=$(mktemp); trap 'rm -f "$summary"' EXIT
printf '%-58s %8s %8s %8s %9s %9s %9s %-24s %6s\n' run p50 p99 p99.9 "in p99" "srv p99" "back p99" "socket thread (waited)" steal >"$summary"
load() { # label, then VAR=value settings, then the api-load.sh arguments
  local label=$1; shift
  echo "== $label  [$(( $(date +%s) - t0 )) s]"
  local out
  out=$(timeout -k 20 120 env SKIP_BUILD=1 "$@" 2>&1 | grep -E 'answered|latency|of which|busiest|threads \(the same\)|stolen|during the measured|closed|server order|memory during')
  echo "$out"
  # One line per run for the summary at the end (latencies in µs; "-" where the run printed none).
  field() { echo "$out" | grep -m1 -E "$1" | grep -oE "$2 [0-9,]+" | head -1 | awk '{ print $2 }'; }
  local socket
  socket=$(echo "$out" | grep -m1 'busiest' | grep -oE '\.NET Sockets [0-9]+ % \([0-9,]+ ms\)' | head -1 | sed -E 's/\.NET Sockets //; s/ %/%/')
  printf '%-58s %8s %8s %8s %9s %9s %9s %-24s %6s\n' "${label:0:58}" \
    "$(field '^order→ack' p50)" "$(field '^order→ack' p99)" "$(field '^order→ack' 'p99\.9')" \
    "$(field 'the way in' p99)" "$(field 'the server \(' p99)" "$(field 'the way back' p99)" \
    "${socket:--}" "$(echo "$out" | grep -m1 stolen | grep -oE '^machine: [0-9.]+%' | sed 's/machine: //')" >>"$summary"
}
if [ $levers = 1 ]; then
  short="--seconds $(secs 8) --warmup-seconds $(secs 5)"  # 5 s: the JIT's background tiering is still busy after 3
  echo "== read thread without its socket  [$(( $(date +%s) - t0 )) s]"
  timeout 60 dotnet bench/Clearhouse.Benchmarks/bin/Release/net10.0/Clearhouse.Benchmarks.dll read-thread --orders $([ $quick = 1 ] && echo 50000 || echo 1000000) 2>&1 | tail -4
  for i in 1 2 3; do
    load "100,000/s default #$i" bench/api-load.sh --rate 100000 $short
    load "100,000/s --IdleSpinMicros 0 #$i" SERVER_ARGS="--IdleSpinMicros 0" bench/api-load.sh --rate 100000 $short
  done
  for i in 1 2; do
    load "100,000/s over 4 connections #$i" bench/api-load.sh --rate 100000 $short --connections 4
    load "100,000/s thread-pool workers spin #$i" SERVER_ENV="env DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0x46" bench/api-load.sh --rate 100000 $short
    load "100,000/s --AnswerInlineBatch 32 #$i" SERVER_ARGS="--AnswerInlineBatch 32" bench/api-load.sh --rate 100000 $short
    load "100,000/s --ApplyInline false #$i" SERVER_ARGS="--ApplyInline false" bench/api-load.sh --rate 100000 $short
  done
  load "100,000/s dynamic PGO off" SERVER_ENV="env DOTNET_TieredPGO=0" bench/api-load.sh --rate 100000 $short
  load "100,000/s JIT call-counting delay 100 ms (.NET's default)" SERVER_ENV="env DOTNET_TC_CallCountingDelayMs=0x64" bench/api-load.sh --rate 100000 $short
  for i in 1 2; do
    load "100,000/s the client spins (sender, receiver) #$i" bench/api-load.sh --rate 100000 $short --spin
  done
  if [ "$(nproc)" -ge 4 ]; then
    for i in 1 2; do
      load "100,000/s client on cores 0-1, server on the others #$i" SERVER_ENV="taskset -c 2-$(( $(nproc) - 1 ))" CLIENT_ENV="taskset -c 0,1" bench/api-load.sh --rate 100000 $short
    done
  fi
  load "20,000/s default" bench/api-load.sh --rate 20000 $short
  load "1,000/s default" bench/api-load.sh --rate 1000 $short
  load "1,000/s --ApplyInline false" SERVER_ARGS="--ApplyInline false" bench/api-load.sh --rate 1000 $short
  echo "== summary (µs)"; cat "$summary"
  echo "== done in $(( $(date +%s) - t0 )) s"
  exit 0
fi
I='--InlineSocketIo true'
long="--seconds $(secs 10) --warmup-seconds $(secs 5)"; short="--seconds $(secs 8) --warmup-seconds $(secs 3)"
for i in 1 2; do load "100,000/s inline #$i" SERVER_ARGS="$I" bench/api-load.sh --rate 100000 $long; done
load "1,000/s inline"   SERVER_ARGS="$I" bench/api-load.sh --rate 1000 $long
load "5,000/s inline"   SERVER_ARGS="$I" bench/api-load.sh --rate 5000 $short
load "20,000/s inline"  SERVER_ARGS="$I" bench/api-load.sh --rate 20000 $short
load "50,000/s inline"  SERVER_ARGS="$I" bench/api-load.sh --rate 50000 $short
P='--InlineSocketIo false'
for i in 1 2; do load "100,000/s thread pool #$i" SERVER_ARGS="$P" bench/api-load.sh --rate 100000 $long; done
load "1,000/s thread pool"  SERVER_ARGS="$P" bench/api-load.sh --rate 1000 $long
load "150,000/s inline" SERVER_ARGS="$I" bench/api-load.sh --rate 150000 $short
load "200,000/s inline" SERVER_ARGS="$I" bench/api-load.sh --rate 200000 $short
load "100,000/s inline, journal off (answers not durable)" SERVER_ARGS="$I --journal false" bench/api-load.sh --rate 100000 $short
load "100,000/s inline, server and client on cores 0-1" SERVER_ARGS="$I" SERVER_ENV="taskset -c 0,1" CLIENT_ENV="taskset -c 0,1" bench/api-load.sh --rate 100000 $short
echo "== summary (µs)"; cat "$summary"
echo "== done in $(( $(date +%s) - t0 )) s"
