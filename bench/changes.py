"""Changing data in place (SPEC §12) against a full replace of the same
table, and ArcticDB's `update` and `delete_data_in_range` of the same rows
(in-process, LMDB) against its own full `write`, side by side.

Each change runs on a freshly replaced table (so every run starts from one
file of full row groups, as a cron job's table is after compaction); the
figure is the best of `REPEAT`.
"""

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight

from ports import free_port, wait_port
from store_requests import put

REPEAT = 3


def action(client, kind, body):
    return [json.loads(r.body.to_pybytes()) for r in client.do_action(flight.Action(kind, json.dumps(body).encode()))]


def best(prepare, fn, repeat=REPEAT):
    times = []
    for _ in range(repeat):
        prepare()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def changed(table, rows):
    """`rows` of `table` with new sensor values (same keys)."""
    part = table.take(pa.array(rows))
    return part.set_column(part.schema.get_field_index("s1"), "s1", pc.multiply(part.column("s1"), -1.0))


def run(binary, table):
    n = table.num_rows
    one_pct = n // 100
    start = n // 2
    contiguous = changed(table, np.arange(start, start + one_pct))
    scattered = changed(table, np.arange(0, n, 100))
    t0, t1 = table.column("timestamp")[start].as_py(), table.column("timestamp")[start + one_pct].as_py()
    where = f"timestamp >= '{t0.isoformat()}' and timestamp < '{t1.isoformat()}'"

    work = Path(tempfile.mkdtemp(prefix="shoots-bench-changes-"))
    results, daemon = {}, None
    try:
        port = free_port()
        daemon = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--bucket-dir",
                                   str(work / "buckets")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, daemon)
        client = flight.FlightClient(f"grpc://127.0.0.1:{port}")
        fresh = lambda: put(client, "t", table, "replace")
        fresh()
        results["replace"] = best(lambda: None, fresh)
        results["upsert 1% contiguous"] = best(fresh, lambda: put(client, "t", contiguous, "upsert", keys=["timestamp"]))
        deleted = []
        results["delete 1% contiguous"] = best(fresh, lambda: deleted.append(
            action(client, "delete_rows", {"name": "t", "where": where})[0]["rows_deleted"]))
        assert deleted[-1] == one_pct, deleted
        results["upsert 1% scattered"] = best(fresh, lambda: put(client, "t", scattered, "upsert", keys=["timestamp"]))
        daemon.terminate()
        daemon.wait(timeout=60)

        import arcticdb
        arctic = arcticdb.Arctic(f"lmdb://{work / 'arctic'}?map_size=8GB")
        lib = arctic.get_library("bench", create_if_missing=True)
        df = table.to_pandas().set_index("timestamp")
        update = contiguous.to_pandas().set_index("timestamp")
        write = lambda: lib.write("t", df, prune_previous_versions=True)
        write()
        results["arcticdb write"] = best(lambda: None, write)
        results["arcticdb update 1% contiguous"] = best(write, lambda: lib.update("t", update))
        results["arcticdb delete_data_in_range 1%"] = best(
            write, lambda: lib.delete_data_in_range("t", (update.index[0], update.index[-1])))
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            daemon.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)

    replace, arctic_write = results["replace"], results["arcticdb write"]
    print(f"  {'changing data in place (s, best of 3)':<40} {'shoots':>8} {'x replace':>10}   {'ArcticDB':>9} "
          f"{'x write':>8}", flush=True)
    peers = {"upsert 1% contiguous": "arcticdb update 1% contiguous",
             "delete 1% contiguous": "arcticdb delete_data_in_range 1%",
             "upsert 1% scattered": None}
    print(f"  {'full replace / write':<40} {replace:>8.3f} {1:>10.2f}   {arctic_write:>9.3f} {1:>8.2f}", flush=True)
    for label, peer in peers.items():
        mine = results[label]
        theirs = results.get(peer) if peer else None
        peer_text = f"{theirs:>9.3f} {theirs / arctic_write:>8.2f}" if theirs else f"{'-':>9} {'-':>8}"
        print(f"  {label:<40} {mine:>8.3f} {mine / replace:>10.2f}   {peer_text}", flush=True)
    return results
