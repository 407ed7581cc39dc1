#!/usr/bin/env python3
"""Signed REST calls, as ccxt makes them, from N client threads at once (bench/signed-rest.sh).

Each call is GET private/get_open_orders_by_currency signed with deri-hmac-sha256 and a fresh
nonce, so each one makes the server record a nonce durably before it runs (docs/api.md). Closed
loop: each thread sends its next call when the answer to the last one came back. Prints calls/s
and the latency percentiles over all calls.

    bench/signed-rest.py BASE_URL CLIENT_ID CLIENT_SECRET THREADS CALLS_PER_THREAD
"""
import hashlib
import hmac
import secrets
import sys
import threading
import time
import urllib.request

base, client_id, secret, threads, per_thread = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
path = "/api/v2/private/get_open_orders_by_currency?currency=USDC"
latencies, errors, lock = [], [0], threading.Lock()


def worker():
    mine = []
    for _ in range(per_thread):
        ts, nonce = str(int(time.time() * 1000)), secrets.token_hex(8)
        signature = hmac.new(secret.encode(), f"{ts}\n{nonce}\nGET\n{path}\n\n".encode(), hashlib.sha256).hexdigest()
        request = urllib.request.Request(base + path, headers={"Authorization": f"deri-hmac-sha256 id={client_id},ts={ts},sig={signature},nonce={nonce}"})
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request) as answer:
                answer.read()
        except Exception:
            with lock:
                errors[0] += 1
        mine.append(time.perf_counter() - start)
    with lock:
        latencies.extend(mine)


began = time.perf_counter()
workers = [threading.Thread(target=worker) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
elapsed = time.perf_counter() - began
latencies.sort()
print(f"{threads} threads x {per_thread} signed calls: {len(latencies) / elapsed:,.0f} calls/s, "
      f"p50 {latencies[len(latencies) // 2] * 1e3:.2f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.2f} ms, errors {errors[0]}")
