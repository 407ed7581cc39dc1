#!/usr/bin/env bash
# Runs the API benchmark from a bundle made by bench/bundle.sh, on a machine without the .NET SDK:
# unpacks the runtime to a temporary directory and the builds into this checkout, then runs the
# command given with SKIP_BUILD=1 (default: bench/api-matrix.sh, the whole matrix, about 4 minutes).
#
#   bench/run-bundled.sh [DIR] [COMMAND ...]
#
# Data directories go to TMPDIR as usual; where /tmp is a tmpfs (RAM: no disk to wait for, which
# would flatter durable answers), they go to DIR/data on the checkout's disk instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=.bundle
if [ $# -gt 0 ] && [ -d "$1" ]; then bundle=$1; shift; fi
[ $# -gt 0 ] || set -- bench/api-matrix.sh
runtime=$(mktemp -d)
trap 'rm -rf "$runtime"' EXIT
tar -C "$runtime" -xJf "$bundle/dotnet.tar.xz"
tar -C . -xJf "$bundle/app.tar.xz"
export DOTNET_ROOT=$runtime PATH=$runtime:$PATH DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 SKIP_BUILD=1
if [ -z "${TMPDIR:-}" ] && [ "$(stat -f -c %T /tmp)" = tmpfs ]; then
  export TMPDIR=$PWD/$bundle/data
  mkdir -p "$TMPDIR"
fi
echo "runtime: $(dotnet --list-runtimes | tr '\n' ' ')"
"$@"
