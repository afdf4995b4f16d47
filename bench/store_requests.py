"""What each call costs in store requests, on the local disk and on S3
(moto's server on loopback, one request at a time), counted by the daemon
itself (the `stats` action) and printed side by side.

The target (README, Storage on S3): a get of a dataframe with 100 versions
costs what a get of a 1-version one costs, on a daemon that has served the
dataframe before and on one that has not; appends add a data file each,
which compaction bounds (at most 8 small files in a row).
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pyarrow.flight as flight

from ports import free_port, wait_port
from s3 import BUCKET, moto_server

SQL = "SELECT site, avg(s1) AS s1 FROM sensors GROUP BY site"






class Daemon:
    def __init__(self, binary, store, env):
        self.port = free_port()
        # Every version stays in the log, so that the 100 versions are there to cost.
        self.proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--bucket-dir", store, "--retain-versions", "1000"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
        wait_port(self.port, self.proc)
        self.client = flight.FlightClient(f"grpc://127.0.0.1:{self.port}")

    def requests(self):
        reply = list(self.client.do_action(flight.Action("stats", b"")))[0].body.to_pybytes()
        return json.loads(reply)["store_requests"]

    def cost(self, call):
        """The store requests `call` makes, by kind (zero kinds left out)."""
        before = self.requests()
        call()
        after = self.requests()
        return {k: after[k] - before[k] for k in after if after[k] != before[k]}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def put(client, name, table, mode, **more):
    """A DoPut of `table`; `more` goes into the command (`keys`, `schema`)."""
    cmd = json.dumps({"name": name, "mode": mode, **more})
    writer, reader = client.do_put(flight.FlightDescriptor.for_command(cmd), table.schema)
    # In batches, as a client streaming a big table would.
    writer.write_table(table, max_chunksize=65536)
    writer.done_writing()
    reader.read()
    writer.close()


def get(client, ticket):
    return client.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()


def measure(binary, store, env, table):
    """Each call's store requests on one store, by kind."""
    one = table.slice(0, 1)
    d = Daemon(binary, store, env)
    costs = {}
    try:
        c = d.client
        costs[f"put {table.num_rows:,} rows"] = d.cost(lambda: put(c, "sensors", table, "replace"))
        costs["get it"] = d.cost(lambda: get(c, {"name": "sensors"}))
        costs["get it again"] = d.cost(lambda: get(c, {"name": "sensors"}))
        costs["sql group by on it"] = d.cost(lambda: get(c, {"name": "sensors", "sql": SQL}))
        put(c, "one", one, "replace")
        put(c, "hundred", one, "replace")
        for _ in range(99):
            put(c, "hundred", one, "append")
        put(c, "replaced", one, "replace")
        for _ in range(100):
            put(c, "replaced", one, "replace")
        costs["1-row append"] = d.cost(lambda: put(c, "hundred", one, "append"))
        costs["get, 1 version"] = d.cost(lambda: get(c, {"name": "one"}))
        costs["get, 101 appends"] = d.cost(lambda: get(c, {"name": "hundred"}))
        costs["get, 101 replaces"] = d.cost(lambda: get(c, {"name": "replaced"}))
    finally:
        d.stop()
    # A daemon that never saw the dataframes (the next one behind a balancer).
    d = Daemon(binary, store, env)
    try:
        costs["get, 1 version, new daemon"] = d.cost(lambda: get(d.client, {"name": "one"}))
        costs["get, 101 appends, new daemon"] = d.cost(lambda: get(d.client, {"name": "hundred"}))
        costs["get, 101 replaces, new daemon"] = d.cost(lambda: get(d.client, {"name": "replaced"}))
    finally:
        d.stop()
    return costs


def peak_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def put_peak(binary, store, env, table):
    """The daemon's peak RSS (MB) over one put of `table`, on a fresh daemon."""
    d = Daemon(binary, store, env)
    try:
        put(d.client, "big", table, "replace")
        return peak_mb(d.proc.pid)
    finally:
        d.stop()


def run(binary, table):
    """Prints the table and returns it as {call: {"local": {...}, "s3": {...}}}."""
    work = Path(tempfile.mkdtemp(prefix="shoots-bench-s3-"))
    try:
        with moto_server() as s3_env:
            local = measure(binary, str(work / "buckets"), {}, table)
            s3 = measure(binary, f"s3://{BUCKET}/bench", s3_env, table)
            # Streaming in parts: the daemon's memory must not follow the upload's size.
            quarter = table.slice(0, table.num_rows // 4)
            peaks = {f"S3 put {t.num_rows:,} rows": put_peak(binary, f"s3://{BUCKET}/peak", s3_env, t)
                     for t in (quarter, table)}
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)

    def show(cost):
        return f"{sum(cost.values()):>4}  " + " ".join(f"{k} {v}" for k, v in sorted(cost.items()))

    print(f"  {'store requests per call':<34} {'local disk':<40} S3 (moto)", flush=True)
    for call in local:
        print(f"  {call:<34} {show(local[call]):<40} {show(s3[call])}", flush=True)
    for label, mb in peaks.items():
        print(f"  daemon peak RSS, {label:<24} {mb:,.1f} MB", flush=True)
    return {"requests": {call: {"local": local[call], "s3": s3[call]} for call in local}, "peak_rss_mb": peaks}
