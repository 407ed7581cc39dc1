#!/usr/bin/env python3
# How long this machine takes a core away from a thread that never blocks: one process per core,
# each pinned and spinning on the clock, counts every gap between two readings over 200 us (time
# in which it did not run: another task, an interrupt, or the hypervisor descheduling the vCPU).
# Run it on an otherwise idle machine. Usage: bench/cpu-gaps.py [seconds]   (docs/benchmarks.md)
import os, sys, time
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
bounds = [(0.2, 1), (1, 2), (2, 5), (5, 10), (10, 20), (20, float('inf'))]
children = []
for cpu in sorted(os.sched_getaffinity(0)):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {cpu})
        counts = [0] * len(bounds); lost = 0.0; worst = 0.0
        clock = time.perf_counter_ns; prev = clock(); end = prev + int(seconds * 1e9)
        while prev < end:
            now = clock(); gap = (now - prev) / 1e6; prev = now
            if gap > 0.2:
                lost += gap; worst = max(worst, gap)
                counts[next(i for i, (lo, hi) in enumerate(bounds) if lo <= gap < hi)] += 1
        os.write(write, repr((cpu, counts, lost, worst)).encode()); os._exit(0)
    children.append((pid, read))
print(f"gaps in {seconds:.0f} s of spinning, per core (ms):")
for pid, read in children:
    os.waitpid(pid, 0)
    cpu, counts, lost, worst = eval(os.read(read, 4096))
    spread = ", ".join(f"{lo:g}-{hi:g}: {n}" if hi != float('inf') else f">{lo:g}: {n}" for (lo, hi), n in zip(bounds, counts))
    print(f"cpu {cpu}: {spread}; longest {worst:.2f} ms; lost {lost:.1f} ms ({lost / seconds / 10:.2f}%)")
