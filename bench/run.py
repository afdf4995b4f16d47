"""shoots benchmark: the same work done by shoots and by what users would
pick instead (pyarrow locally, DuckDB, pandas, the Python original), side by
side in one run. Prints one table and writes it as JSON.

Run through `bench/run`, which builds the release binary and the venv.
"""

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import adbc_driver_flightsql.dbapi as flight_sql
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv
import pyarrow.flight as flight
import pyarrow.parquet as pq

import changes
import distributed
import peers
import store_requests
from peak import Peak
from ports import free_port, wait_port
from tables import issue_table, sensor_table

ROOT = Path(__file__).resolve().parent.parent
# ADBC asks to turn autocommit off; shoots has no transactions and says so.
warnings.filterwarnings("ignore", "Cannot disable autocommit")


def timed(fn, repeat=1):
    """Best of `repeat` wall-clock seconds, and the last result.

    Each repetition starts with no dirty data waiting to be written back, so
    a timing does not pay for the writes of the ones before it."""
    best, result = float("inf"), None
    for _ in range(repeat):
        os.sync()
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def stream_reader(port, barrier, out):
    """One reader process: streams the whole dataframe, keeping nothing."""
    client = flight.FlightClient(f"grpc://127.0.0.1:{port}")
    barrier.wait()
    start, rows = time.time(), 0
    for chunk in client.do_get(flight.Ticket(json.dumps({"name": "sensors"}).encode())):
        rows += chunk.data.num_rows
    out.put((start, time.time(), rows))


def concurrent_read(port, n):
    """Rows per second over `n` reader processes started together."""
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=stream_reader, args=(port, barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    done = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    return sum(r[2] for r in done) / (max(r[1] for r in done) - min(r[0] for r in done))


def put_table(client, name, table, mode="replace"):
    cmd = {"name": name, "mode": mode, "bucket": None}
    writer, reader = client.do_put(flight.FlightDescriptor.for_command(json.dumps(cmd)), table.schema)
    writer.write_table(table, max_chunksize=65536)
    writer.done_writing()
    reader.read()
    writer.close()


def do_get(client, ticket):
    return client.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()


def start(cmd, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    return proc




def flight_sql_get(client, sql):
    """GetFlightInfo with a Flight SQL CommandStatementQuery, then its DoGet,
    with the protobuf written out by hand (pyarrow has no Flight SQL client)."""
    def varint(n):
        out = b""
        while True:
            low, n = n & 0x7F, n >> 7
            out += bytes([low | (0x80 if n else 0)])
            if not n:
                return out

    def field(number, data):
        return bytes([number << 3 | 2]) + varint(len(data)) + data

    query = field(1, sql.encode())
    command = field(1, b"type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery") + field(2, query)
    info = client.get_flight_info(flight.FlightDescriptor.for_command(command))
    return client.do_get(info.endpoints[0].ticket).read_all()


SQL = {
    "filter + group by": "select site, count(*) as n, avg(s1) as m, max(s2) as hi from {t} where s3 > 0.5 group by site order by site",
    "time-bin aggregation": "select date_trunc('minute', timestamp) as minute, avg(s1) as s1, sum(\"count\") as c from {t} group by 1 order by 1",
    "top-k": "select timestamp, s4 from {t} order by s4 desc limit 10",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--binary", default=str(Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/shoots/target")) / "release" / "shoots"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    ap.add_argument("--skip-original", action="store_true", help="leave out the Python original")
    ap.add_argument("--only-store-requests", action="store_true",
                    help="count store requests per call (local disk and S3) and nothing else")
    ap.add_argument("--only-distributed", action="store_true",
                    help="the SQL suite on 1, 2 and 3 daemons of one store and nothing else")
    ap.add_argument("--only-changes", action="store_true",
                    help="upsert and delete of 1%% against a full replace, and ArcticDB's, and nothing else")
    ap.add_argument("--only-peers", action="store_true",
                    help="round 3's table: 10M rows against ArcticDB and DuckDB, RSS by phase, a 256MiB limit")
    args = ap.parse_args()
    rows = args.rows
    if args.only_peers:
        print("peers (put, append, get, resample, SQL at 2x the rows)", flush=True)
        table = sensor_table(rows)
        peers.run(args.binary, table, peers.later_rows(table))
        del table
        # Issue #34's: appended with the same timestamps, so out of time order.
        peers.run(args.binary, issue_table(rows), issue_table(rows, seed=1), "issue #34's table",
                  peers.on_issue_table)
        return
    if args.only_changes:
        print("changing data in place", flush=True)
        changes.run(args.binary, sensor_table(rows))
        return
    if args.only_distributed:
        print("distributed", flush=True)
        distributed.run(args.binary, sensor_table(rows))
        return
    if args.only_store_requests:
        print("store requests", flush=True)
        store_requests.run(args.binary, sensor_table(min(rows, 1_000_000)))
        return
    results = []

    def record(work, shoots_value, peer_value, peer, unit="s", lower_is_better=True):
        ratio = None
        if shoots_value is not None and peer_value:
            ratio = shoots_value / peer_value if lower_is_better else peer_value / shoots_value
        results.append({"work": work, "shoots": shoots_value, "peer": peer_value, "peer_name": peer, "unit": unit,
                        "ratio": ratio})
        fmt = lambda v: "-" if v is None else (f"{v:.3f}" if unit in ("s", "x") else f"{v:,.1f}")
        print(f"  {work:<44} shoots {fmt(shoots_value):>10} {unit:<6} {peer:<26} {fmt(peer_value):>10}"
              f"  ratio {'-' if ratio is None else f'{ratio:.2f}'}", flush=True)

    work = Path(tempfile.mkdtemp(prefix="shoots-bench-"))
    try:
        print(f"generating {rows:,} rows in {work}", flush=True)
        table = sensor_table(rows)
        csv_path, parquet_path = work / "sensors.csv", work / "sensors.parquet"
        pq.write_table(table, parquet_path, compression="zstd")
        table.to_pandas().to_csv(csv_path, index=False)

        # The local limits, for context.
        local = work / "local.parquet"
        t_write, _ = timed(lambda: pq.write_table(table, local, compression="zstd"), repeat=2)
        t_read, _ = timed(lambda: pq.read_table(local), repeat=3)

        port = free_port()
        daemon = start([args.binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--bucket-dir",
                        str(work / "buckets")])
        wait_port(port, daemon)
        daemon_peak = Peak(daemon.pid)
        client = flight.FlightClient(f"grpc://127.0.0.1:{port}")
        env = {**os.environ, "SHOOTS_HOST": "127.0.0.1", "SHOOTS_PORT": str(port)}

        original = None
        if not args.skip_original:
            oport = free_port()
            original = start([sys.executable, "-m", "shoots.shoots_server", "--port", str(oport), "--host",
                              "127.0.0.1", "--bucket_dir", str(work / "original")])
            wait_port(oport, original)
            oclient = flight.FlightClient(f"grpc://127.0.0.1:{oport}")

        print("put", flush=True)
        t_put, _ = timed(lambda: put_table(client, "sensors", table), repeat=2)
        record("put Arrow via pyarrow.flight", t_put, t_write, "pyarrow write zstd parquet")
        if original:
            t_oput, _ = timed(lambda: put_table(oclient, "sensors", table), repeat=1)
            record("put Arrow via pyarrow.flight (vs original)", t_put, t_oput, "Python original")

        def cli_put(path, name):
            p = subprocess.Popen([args.binary, "put", name, str(path), "--mode", "replace", "--quiet"], env=env)
            peak = Peak(p.pid)
            assert p.wait() == 0
            return peak.mb()

        t_pq, _ = timed(lambda: cli_put(parquet_path, "from_parquet"))
        record("shoots put FILE.parquet", t_pq, t_write, "pyarrow write zstd parquet")
        t_csv, client_mb = timed(lambda: cli_put(csv_path, "from_csv"))
        t_pdcsv, _ = timed(lambda: pq.write_table(pa.csv.read_csv(csv_path), work / "csv.parquet", compression="zstd"))
        record("shoots put FILE.csv", t_csv, t_pdcsv, "pyarrow csv -> parquet")
        small_csv = work / "small.csv"
        table.slice(0, rows // 4).to_pandas().to_csv(small_csv, index=False)
        _, client_small_mb = timed(lambda: cli_put(small_csv, "from_small_csv"))
        record("client peak RSS, CSV put (1/4 size vs full)", client_mb, client_small_mb, "same, 1/4 of the rows",
               unit="MB")

        daemon_peak.phase("puts (Flight, Parquet, CSV)")
        appends, fresh = [], []
        put_table(client, "grow", table, mode="replace")
        for i in range(10):
            t, _ = timed(lambda: put_table(client, "grow", table, mode="append"))
            appends.append(t)
            # The same table put under a new name right after: what a put
            # costs at this point of the run, whatever the machine is doing.
            t, _ = timed(lambda: put_table(client, "fresh", table, mode="replace"))
            fresh.append(t)
        record("append same table: 1st vs first put", appends[0], t_put, "first put")
        record("append same table: 10th vs 1st", appends[-1], appends[0], "1st append")
        record("append same table: 10th vs a new put after it", appends[-1], fresh[-1], "put to a new name")
        record("append / new put after it: median of 10", statistics.median(a / f for a, f in zip(appends, fresh)),
               1.0, "equal cost", unit="x")
        print("  appends (s):      " + " ".join(f"{t:.2f}" for t in appends), flush=True)
        print("  puts after (s):   " + " ".join(f"{t:.2f}" for t in fresh), flush=True)
        # The machine's own drift over the same stretch (the run has written
        # gigabytes by now): if pyarrow slowed as much, the appends did not.
        t_write_late, _ = timed(lambda: pq.write_table(table, local, compression="zstd"), repeat=2)
        record("pyarrow write zstd parquet: now vs at the start", t_write_late, t_write, "at the start")

        daemon_peak.phase("10 appends of the table")
        print("get", flush=True)
        t_get, got = timed(lambda: do_get(client, {"name": "sensors"}), repeat=3)
        assert got.num_rows == rows
        record("get via pyarrow.flight", t_get, t_read, "pyarrow read zstd parquet")
        if original:
            t_oget, _ = timed(lambda: do_get(oclient, {"name": "sensors", "bucket": None}), repeat=1)
            record("get via pyarrow.flight (vs original)", t_get, t_oget, "Python original")
        # The same rows as a SQL tool gets them: ADBC's Flight SQL driver.
        with flight_sql.connect(f"grpc://127.0.0.1:{port}") as conn:
            def adbc_fetch():
                with conn.cursor() as cur:
                    cur.execute("select * from sensors")
                    return cur.fetch_arrow_table()
            t_adbc, got_adbc = timed(adbc_fetch, repeat=3)
        assert got_adbc.num_rows == rows
        record("get via ADBC Flight SQL (select *)", t_adbc, t_get, "get via pyarrow.flight (JSON)")
        # The same Flight SQL calls from pyarrow's client: the daemon's share
        # of the ADBC time, without the driver's own decoding.
        t_fsql, got_fsql = timed(lambda: flight_sql_get(client, "select * from sensors"), repeat=3)
        assert got_fsql.num_rows == rows
        record("get via Flight SQL from pyarrow (select *)", t_fsql, t_get, "get via pyarrow.flight (JSON)")
        out = work / "x.parquet"
        t_cget, _ = timed(lambda: subprocess.run([args.binary, "get", "sensors", "-o", str(out), "--quiet"], env=env,
                                                 check=True))
        record("shoots get -o x.parquet", t_cget, t_read + t_write, "pyarrow read + write")

        daemon_peak.phase("get")
        print("sql", flush=True)
        con = duckdb.connect()
        for label, sql in SQL.items():
            t_s, res = timed(lambda: do_get(client, {"name": "sensors", "sql": sql.format(t="sensors")}), repeat=3)
            t_d, dres = timed(lambda: con.sql(sql.format(t=f"'{parquet_path}'")).to_arrow_table(), repeat=3)
            assert res.num_rows == dres.num_rows, label
            record(f"sql {label}", t_s, t_d, "DuckDB on the parquet file")

        daemon_peak.phase("sql")
        print("resample", flush=True)
        body = {"source": "sensors", "target": "per10s", "rule": "10s", "time_col": "timestamp",
                "aggregation_func": "mean", "mode": "replace"}
        t_r, _ = timed(lambda: list(client.do_action(flight.Action("resample", json.dumps(body).encode()))), repeat=2)
        df = table.drop(["site"]).to_pandas()
        t_p, _ = timed(lambda: df.set_index("timestamp").resample("10s").mean(), repeat=2)
        record("resample 10s mean", t_r, t_p, "pandas in memory")

        daemon_peak.phase("resample")
        print("latency", flush=True)
        one = table.slice(0, 1)
        put_table(client, "tiny", one)
        lat = []
        for _ in range(200):
            t, _ = timed(lambda: put_table(client, "tiny", one, mode="append"))
            lat.append(t * 1000)
        lat.sort()
        olat = None
        if original:
            put_table(oclient, "tiny", one)
            olat = []
            for _ in range(200):
                t, _ = timed(lambda: put_table(oclient, "tiny", one, mode="append"))
                olat.append(t * 1000)
            olat.sort()
        record("1-row append p50", lat[99], olat[99] if olat else None, "Python original", unit="ms")
        record("1-row append p99", lat[197], olat[197] if olat else None, "Python original", unit="ms")

        daemon_peak.phase("1-row appends")
        print("concurrent readers", flush=True)
        # Separate processes that stream and keep nothing, as separate users
        # would be: as threads of this process keeping whole tables, readers
        # were limited by this process (its CPU per reader tripled at 8).
        single = max(concurrent_read(port, 1) for _ in range(2))
        for n in (4, 8):
            record(f"{n} concurrent readers (Mrows/s)", concurrent_read(port, n) / 1e6, single / 1e6, "1 reader",
                   unit="Mrow/s", lower_is_better=False)

        daemon_peak.phase("concurrent readers")
        print("store requests", flush=True)
        requests = store_requests.run(args.binary, table.slice(0, min(rows, 1_000_000)))
        print("distributed", flush=True)
        spread = distributed.run(args.binary, table)
        print("changing data in place", flush=True)
        in_place = changes.run(args.binary, table)
        for label, kb in daemon_peak.phases.items():
            record(f"daemon peak RSS: {label}", kb / 1024, None, "-", unit="MB")
        record("daemon peak RSS over the run", daemon_peak.mb(), None, "-", unit="MB")
        daemon.terminate()
        daemon.wait(timeout=60)
        if original:
            original.terminate()
            original.wait(timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    report = {
        "rows": rows,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
        "local_limits": {"pyarrow_write_zstd_s": t_write, "pyarrow_read_s": t_read},
        "append_seconds": appends,
        "put_after_append_seconds": fresh,
        "store_requests": requests,
        "distributed": spread,
        "changes": in_place,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
