#!/usr/bin/env bash
# Packs the API benchmark for a Linux x64 machine that has neither the .NET SDK nor the runtime (a
# bare benchmark host, a cloud VM): the Release builds of the server and the load client, and the
# .NET runtime they need, taken from this machine's dotnet installation. About 45 MB.
#
#   bench/bundle.sh [DIR]          (default DIR: .bundle, ignored by git)
#
# On the other machine, in a checkout of the same commit with DIR copied next to it:
#
#   bench/run-bundled.sh [DIR] [bench/api-matrix.sh | bench/api-load.sh --rate 100000 ...]
#
# which unpacks both and runs the command given (default: the whole matrix, bench/api-matrix.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.bundle}
mkdir -p "$out"
dotnet build -c Release src/Clearhouse.Server -v quiet -nologo >/dev/null
dotnet build -c Release bench/Clearhouse.Benchmarks -v quiet -nologo >/dev/null

# The builds, without what the benchmark does not load: symbols, XML docs, other platforms' natives.
app=$(mktemp -d); trap 'rm -rf "$app"' EXIT
for project in src/Clearhouse.Server bench/Clearhouse.Benchmarks; do
  mkdir -p "$app/$project/bin/Release"
  cp -r "$project/bin/Release/net10.0" "$app/$project/bin/Release/"
  find "$app/$project" \( -name '*.pdb' -o -name '*.xml' \) -delete
  find "$app/$project/bin/Release/net10.0/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 ! -name unix -exec rm -rf {} + 2>/dev/null || true
done
tar -C "$app" -cJf "$out/app.tar.xz" src bench

# The runtime the builds were made for: the host, and the shared frameworks of that version.
root=$(dirname "$(readlink -f "$(command -v dotnet)")")
version=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { v = $2 } END { print v }')
[ -d "$root/shared/Microsoft.NETCore.App/$version" ] || { echo "no Microsoft.NETCore.App $version under $root" >&2; exit 1; }
tar -C "$root" -cJf "$out/dotnet.tar.xz" dotnet "host/fxr/$version" "shared/Microsoft.NETCore.App/$version" "shared/Microsoft.AspNetCore.App/$version"
echo "$out: $(du -sh "$out" | cut -f1) (.NET $version, commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ', with uncommitted changes'))"
