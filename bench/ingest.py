"""Steady ingest, as issue #33 tried it: 4 clients appending 1-50 rows at a
time as fast as they can, 4 reading the whole dataframe, one counting and
listing in a loop, a compaction every 20 s; the daemon's RSS every 10 s,
with what the allocator holds (jemalloc's allocated and resident bytes) and
what the caches hold, from /metrics.

    python bench/ingest.py --binary PATH [--seconds 240] [--readers 4] [--store s3]
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ports import free_port, wait_port  # noqa: E402
from s3 import BUCKET, moto_server  # noqa: E402


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def heap_mb(http_port):
    """jemalloc's allocated and resident MB, and the caches' MB, from /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics").read().decode()
    found = {}
    for line in text.splitlines():
        for name, key in (('process_heap_bytes{kind="allocated"}', "alloc"),
                          ('process_heap_bytes{kind="resident"}', "heap"),
                          ('shoots_cache_bytes{cache="commits"}', "commits"),
                          ('shoots_cache_bytes{cache="footers"}', "footers")):
            if line.startswith(name + " "):
                found[key] = float(line.split()[-1]) / 2**20
    return found


def appender(port, seed, until, counts):
    c = flight.FlightClient(f"grpc://127.0.0.1:{port}")
    rng, n, rows = np.random.default_rng(seed), 0, 0
    while time.time() < until:
        k = int(rng.integers(1, 51))
        t = pa.table({"ts": pa.array(np.full(k, time.time_ns()), pa.timestamp("ns")), "v": rng.normal(size=k)})
        w, r = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "ingest", "mode": "append"})), t.schema)
        w.write_table(t)
        w.done_writing()
        r.read()
        w.close()
        n, rows = n + 1, rows + k
    counts.put((n, rows))


def reader(port, until, what):
    c = flight.FlightClient(f"grpc://127.0.0.1:{port}")
    while time.time() < until:
        if what == "get":
            c.do_get(flight.Ticket(json.dumps({"name": "ingest"}).encode())).read_all()
        else:
            c.do_get(flight.Ticket(json.dumps({"sql": "select count(*) from ingest"}).encode())).read_all()
            list(c.list_flights(b"{}"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--seconds", type=int, default=240)
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--store", choices=["local", "s3"], default="local")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="shoots-ingest-") as work, \
            (moto_server() if args.store == "s3" else nullcontext({})) as env:
        port, http_port = free_port(), free_port()
        store = f"s3://{BUCKET}/ingest" if args.store == "s3" else f"{work}/b"
        proc = subprocess.Popen([args.binary, "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--http-port", str(http_port), "--bucket-dir", store],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
        try:
            wait_port(port, proc)
            c = flight.FlightClient(f"grpc://127.0.0.1:{port}")
            t = pa.table({"ts": pa.array([0], pa.timestamp("ns")), "v": [0.0]})
            w, r = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "ingest"})), t.schema)
            w.write_table(t); w.done_writing(); r.read(); w.close()
            until = time.time() + args.seconds
            # Spawned, not forked: a forked gRPC client can hang.
            mp = multiprocessing.get_context("spawn")
            counts = mp.Queue()
            procs = [mp.Process(target=appender, args=(port, i, until, counts)) for i in range(4)]
            procs += [mp.Process(target=reader, args=(port, until, "get")) for _ in range(args.readers)]
            procs.append(mp.Process(target=reader, args=(port, until, "count")))
            for p in procs:
                p.start()
            start, samples = time.time(), []
            next_compact, next_sample = start + 20, start + 10
            while time.time() < until:
                time.sleep(1)
                if time.time() >= next_compact:
                    c.do_action(flight.Action("compact", json.dumps({"name": "ingest"}).encode()))
                    next_compact += 20
                if time.time() >= next_sample:
                    samples.append((round(time.time() - start), rss_mb(proc.pid), heap_mb(http_port)))
                    next_sample += 10
            appends = [counts.get() for _ in range(4)]
            for p in procs:
                p.join()
            print(f"{args.binary} on {args.store}: {sum(a for a, _ in appends)} appends, "
                  f"{sum(r for _, r in appends)} rows in {args.seconds} s, {args.readers} readers")
            print("  second  RSS MB  jemalloc allocated / resident MB  caches: commits / footers MB")
            for second, rss, heap in samples:
                print(f"  {second:>6}  {rss:>6.0f}  {heap.get('alloc', 0):>10.0f} / {heap.get('heap', 0):<10.0f}"
                      f"  {heap.get('commits', 0):>10.1f} / {heap.get('footers', 0):.1f}")
            warm = next((rss for second, rss, _ in samples if second >= 60), None)
            if warm:
                peak = max(rss for second, rss, _ in samples if second >= 60)
                print(f"  after the 60 s warm-up: {warm:.0f} MB; peak {peak:.0f} MB ({peak / warm:.2f}x), "
                      f"end {samples[-1][1]:.0f} MB ({samples[-1][1] / warm:.2f}x)")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
