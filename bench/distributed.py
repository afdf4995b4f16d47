"""The SQL suite on 1, 2 and 3 daemons of one store (a shared directory),
each daemon pinned to a core of its own with `taskset` where the machine has
one for it, queries sent to the first daemon with `SET shoots.distributed =
on`, and the rows and bytes each query moves between daemons (from EXPLAIN
ANALYZE of the network stages). Printed side by side; nothing asserted.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow.flight as flight

from ports import free_port, wait_port
from store_requests import put

SUITE = {
    "filter + group by": "select site, count(*) as n, avg(s1) as m, max(s2) as hi from sensors "
                         "where s3 > 0.5 group by site order by site",
    "time-bin aggregation": "select date_trunc('minute', timestamp) as minute, avg(s1) as s1, sum(\"count\") as c "
                            "from sensors group by 1 order by 1",
    "count distinct": "select site, count(distinct \"count\") as d from sensors group by site order by site",
    "join with an aggregated subquery": "select s.site, count(*) as n from sensors s join (select site, max(s1) as top "
                                        "from sensors group by site) m on s.site = m.site and s.s1 > m.top - 0.5 "
                                        "group by s.site order by s.site",
    "window function": "select site, \"count\", rank() over (partition by site order by s1 desc) as r from sensors "
                       "where \"count\" = 7 order by site, r limit 50",
    "top-k": "select timestamp, s4 from sensors order by s4 desc limit 10",
    "approx percentile": "select site, approx_percentile_cont(0.5) within group (order by s1) as p50 from sensors "
                         "group by site order by site",
}


def start_daemons(binary, store, n):
    ports = [free_port() for _ in range(n)]
    cores = os.cpu_count() or 1
    procs = []
    for k, port in enumerate(ports):
        cmd = [binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--bucket-dir", store]
        peers = [f"grpc://127.0.0.1:{p}" for p in ports if p != port]
        if peers:
            cmd += ["--peers", ",".join(peers)]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", str(k % cores), *cmd]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for port, proc in zip(ports, procs):
        wait_port(port, proc)
    return ports, procs


def run_sql(port, sql):
    client = flight.FlightClient(f"grpc://127.0.0.1:{port}")
    ticket = {"name": "sensors", "sql": f"SET shoots.distributed = on; {sql}"}
    return client.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


# Counts say "1.2 M" or "3 B" (billions); sizes "1928 B" (bytes) or "1.9 KB".
COUNTS = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9}
SIZES = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9}


def number(text, units):
    m = re.match(r"([\d.]+)\s*([KMGB]*B?)", text)
    return float(m.group(1)) * units.get(m.group(2), 1) if m else 0.0


def shuffled(port, sql):
    """Rows and bytes the network stages of `sql` moved."""
    plan = "\n".join(run_sql(port, f"EXPLAIN ANALYZE {sql}").column("plan").to_pylist())
    rows = bytes_ = 0.0
    for line in plan.splitlines():
        if "Network" not in line:
            continue
        for key, value in re.findall(r"(output_rows|bytes_transferred)=([\d.]+\s*[KMGB]*B?)", line):
            if key == "output_rows":
                rows += number(value, COUNTS)
            else:
                bytes_ += number(value, SIZES)
    return rows, bytes_


def run(binary, table):
    work = Path(tempfile.mkdtemp(prefix="shoots-bench-dist-"))
    store = str(work / "store")
    results = {}
    try:
        ports, procs = start_daemons(binary, store, 1)
        put(flight.FlightClient(f"grpc://127.0.0.1:{ports[0]}"), "sensors", table, "replace")
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
        for n in (1, 2, 3):
            ports, procs = start_daemons(binary, store, n)
            try:
                for label, sql in SUITE.items():
                    entry = results.setdefault(label, {})
                    entry[n] = best(lambda: run_sql(ports[0], sql))
                    if n == 3:
                        entry["shuffled"] = shuffled(ports[0], sql)
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait(timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"  {'distributed SQL (s, best of 3)':<36} {'1 daemon':>9} {'2':>8} {'3':>8}  shuffled on 3: rows, MB",
          flush=True)
    for label, r in results.items():
        rows, b = r["shuffled"]
        print(f"  {label:<36} {r[1]:>9.3f} {r[2]:>8.3f} {r[3]:>8.3f}  {rows:>12,.0f} {b / 1e6:>8.1f}", flush=True)
    return {label: {"seconds": {str(n): r[n] for n in (1, 2, 3)}, "shuffled_rows": r["shuffled"][0],
                    "shuffled_bytes": r["shuffled"][1]} for label, r in results.items()}
