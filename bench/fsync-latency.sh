#!/usr/bin/env bash
# How long one commit takes on this disk: 2 KiB appends to a growing file, each followed by fsync or
# fdatasync (what the journal does per batch on Linux, docs/durability.md), 3,000 of each, and for
# reference fdatasync over blocks written beforehand (what a preallocated segment would cost); prints
# percentiles in µs. Run it where the data directory lives: bench/fsync-latency.sh [DIR]
set -euo pipefail
dir=${1:-.}
python3 - "$dir" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], f".fsync-latency-{os.getpid()}")
def run(sync, prewritten=False):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    lat, buf, off = [], b"x" * 2048, 0
    if prewritten:  # the blocks already exist: a commit changes neither the size nor the block map
        os.pwrite(fd, bytes(3000 * 2048), 0); os.fsync(fd)
    try:
        for _ in range(3000):
            os.pwrite(fd, buf, off); off += len(buf)
            t = time.perf_counter_ns(); sync(fd); lat.append((time.perf_counter_ns() - t) / 1000)
    finally:
        os.close(fd); os.unlink(path)
    lat.sort()
    return "  ".join(f"p{p} {lat[min(len(lat) - 1, int(len(lat) * p / 100))]:.0f}" for p in (50, 90, 99, 99.9)) + f"  max {lat[-1]:.0f}"
for name, sync, prewritten in (("fsync", os.fsync, False), ("fdatasync", os.fdatasync, False),
                               ("fdatasync over pre-written blocks", os.fdatasync, True)):
    print(f"{name:9} (µs): {run(sync, prewritten)}")
PY
