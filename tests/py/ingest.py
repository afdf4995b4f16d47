"""Steady ingest, as issue #33 tried it, shared by the test suite's short
memory check and `bench/ingest.py`'s long one: 4 clients appending 1-50
rows at a time as fast as they can, readers getting the whole dataframe, one
client counting and listing in a loop, a compaction every 20 s; the
daemon's RSS (and, with its HTTP port, what its allocator and caches hold)
every 10 s."""

import json
import multiprocessing
import time
import urllib.request

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight

NAME = "ingest"


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def heap_mb(http_port):
    """jemalloc's allocated and resident MB, and the caches' MB, from /metrics."""
    if http_port is None:
        return {}
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics").read().decode()
    found = {}
    for line in text.splitlines():
        for name, key in (('process_heap_bytes{kind="allocated"}', "allocated"),
                          ('process_heap_bytes{kind="resident"}', "resident"),
                          ('shoots_cache_bytes{cache="commits"}', "commits"),
                          ('shoots_cache_bytes{cache="footers"}', "footers")):
            if line.startswith(name + " "):
                found[key] = float(line.split()[-1]) / 2**20
    return found


def appender(location, seed, until, counts):
    c = flight.FlightClient(location)
    rng, n, rows = np.random.default_rng(seed), 0, 0
    while time.time() < until:
        k = int(rng.integers(1, 51))
        t = pa.table({"ts": pa.array(np.full(k, time.time_ns()), pa.timestamp("ns")), "v": rng.normal(size=k)})
        w, r = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": NAME, "mode": "append"})), t.schema)
        w.write_table(t)
        w.done_writing()
        r.read()
        w.close()
        n, rows = n + 1, rows + k
    counts.put((n, rows))


def reader(location, until, what):
    c = flight.FlightClient(location)
    while time.time() < until:
        if what == "get":
            c.do_get(flight.Ticket(json.dumps({"name": NAME}).encode())).read_all()
        else:
            c.do_get(flight.Ticket(json.dumps({"sql": f"select count(*) from {NAME}"}).encode())).read_all()
            list(c.list_flights(b"{}"))


def run(location, pid, seconds, readers=4, http_port=None, seed_rows=1):
    """Runs the load against the daemon at `location` (process `pid`) for
    `seconds`, on a dataframe put with `seed_rows` rows first; returns the
    appends, the rows appended (and put), the rows stored and the samples
    (second, RSS MB, {allocator and caches MB})."""
    c = flight.FlightClient(location)
    t = pa.table({"ts": pa.array(np.arange(seed_rows), pa.timestamp("ns")),
                  "v": np.random.default_rng(0).normal(size=seed_rows)})
    w, r = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": NAME})), t.schema)
    w.write_table(t)
    w.done_writing()
    r.read()
    w.close()
    until = time.time() + seconds
    # Spawned, not forked: a forked gRPC client can hang.
    mp = multiprocessing.get_context("spawn")
    counts = mp.Queue()
    procs = [mp.Process(target=appender, args=(location, i, until, counts)) for i in range(4)]
    procs += [mp.Process(target=reader, args=(location, until, "get")) for _ in range(readers)]
    procs.append(mp.Process(target=reader, args=(location, until, "count")))
    for p in procs:
        p.start()
    start, samples = time.time(), []
    next_compact, next_sample = start + 20, start + 10
    while time.time() < until:
        time.sleep(min(1, max(0, until - time.time())))
        if time.time() >= next_compact:
            c.do_action(flight.Action("compact", json.dumps({"name": NAME}).encode()))
            next_compact += 20
        if time.time() >= next_sample:
            samples.append((round(time.time() - start), rss_mb(pid), heap_mb(http_port)))
            next_sample += 10
    appends = [counts.get(timeout=120) for _ in range(4)]
    for p in procs:
        p.join()
    stored = c.do_get(flight.Ticket(json.dumps({"sql": f"select count(*) as n from {NAME}"}).encode())).read_all()
    c.close()
    return sum(a for a, _ in appends), sum(r for _, r in appends) + seed_rows, stored.column("n")[0].as_py(), samples


def after_warmup(samples, warmup=60):
    """RSS at the end of the warm-up, and the samples after it."""
    later = [(second, rss) for second, rss, _ in samples if second >= warmup]
    return later[0][1], later
