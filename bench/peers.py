"""Speed round 3's table (issue #23), side by side in one run: the sensor
table put, then appended (10M rows), against ArcticDB in-process on LMDB
(write, append, read, QueryBuilder resample) and DuckDB on the same rows as
one Parquet file (the SQL suite); resample's other functions against its
own mean; peak daemon RSS by phase; and the suite again on a daemon with
`--memory-limit 256MiB`, whose answers must equal the first daemon's.

Run through `bench/run --only-peers`. Prints; asserts nothing but that the
limited daemon's answers are the same and that it stays up.
"""

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight
import pyarrow.parquet as pq

from distributed import SUITE
from peak import Peak
from ports import free_port, wait_port
from store_requests import get, put

QUERIES = {
    **SUITE,
    "count(distinct s3)": "select count(distinct s3) as d from sensors",
    "group by two keys": "select site, \"count\" % 10 as k, count(*) as n, avg(s1) as m from sensors "
                         "group by site, \"count\" % 10 order by site, k",
    "like 'n%' + range filter count": "select count(*) as n from sensors where site like 'n%' and s1 between -0.5 and 0.5",
}


# DuckDB's spelling where it differs.
DUCKDB = {"approx percentile": "select site, approx_quantile(s1, 0.5) as p50 from sensors group by site order by site"}


def best(fn, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def resample(client, agg):
    body = {"source": "sensors", "target": f"per10s_{agg}", "rule": "10s", "time_col": "timestamp",
            "aggregation_func": agg, "mode": "replace"}
    return list(client.do_action(flight.Action("resample", json.dumps(body).encode())))


def start(binary, store, *extra):
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--bucket-dir", store, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, flight.FlightClient(f"grpc://127.0.0.1:{port}")


def same_values(a, b):
    import pandas as pd
    try:
        pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas(), check_exact=False, rtol=1e-9)
        return True
    except AssertionError:
        return False


def sorted_table(table):
    return table.sort_by([(c, "ascending") for c in table.column_names])


def run(binary, table):
    later = table.set_column(0, "timestamp", pc.add(table.column("timestamp"),
                                                      pa.scalar(table.num_rows * 10, pa.duration("ms"))))
    both = pa.concat_tables([table, later])
    work = Path(tempfile.mkdtemp(prefix="shoots-bench-peers-"))
    rows, daemons = [], []

    def row(work_, shoots, peer, peer_name, goal=""):
        ratio = shoots / peer if peer else None
        rows.append((work_, shoots, peer, peer_name, ratio, goal))
        print(f"  {work_:<36} shoots {shoots:>8.3f} s  {peer_name:<34} {peer:>8.3f} s  ratio {ratio:.2f}  {goal}",
              flush=True)

    try:
        store = str(work / "buckets")
        daemon, client = start(binary, store)
        daemons.append(daemon)
        peak = Peak(daemon.pid)
        t_put, _ = best(lambda: put(client, "sensors", table, "replace"), repeat=2)
        t_append, _ = best(lambda: put(client, "sensors", later, "append"), repeat=1)
        peak.phase("puts")
        t_get, got = best(lambda: get(client, {"name": "sensors"}))
        assert got.num_rows == both.num_rows
        peak.phase("gets")
        t_mean, _ = best(lambda: resample(client, "mean"))
        t_max, _ = best(lambda: resample(client, "max"))
        others = {agg: best(lambda agg=agg: resample(client, agg), repeat=2)[0] for agg in ("first", "last", "median")}
        peak.phase("resample")
        parquet = work / "sensors.parquet"
        pq.write_table(both, parquet, compression="zstd")
        con = duckdb.connect()
        answers, sql_times = {}, {}
        for label, sql in QUERIES.items():
            sql_times[label], answers[label] = best(lambda sql=sql: get(client, {"name": "sensors", "sql": sql}))
            duck_sql = DUCKDB.get(label, sql).replace("from sensors", f"from '{parquet}'")
            duck, _ = best(lambda duck_sql=duck_sql: con.sql(duck_sql).to_arrow_table())
            sql_times[label] = (sql_times[label], duck)
        peak.phase("sql")
        daemon.terminate()
        daemon.wait(timeout=60)

        # The same store under a small memory limit: same answers, still up.
        limited, lclient = start(binary, store, "--memory-limit", "256MiB")
        daemons.append(limited)
        limited_peak = Peak(limited.pid)
        wrong = []
        for label, sql in QUERIES.items():
            try:
                got = get(lclient, {"name": "sensors", "sql": sql})
            except flight.FlightError as e:
                wrong.append(f"{label}: {str(e).splitlines()[0][:120]}")
                continue
            if label == "approx percentile":
                ok = got.num_rows == answers[label].num_rows
            else:
                # Sums of floats in another order differ in the last bits.
                ok = same_values(sorted_table(got), sorted_table(answers[label]))
            if not ok:
                wrong.append(label)
        alive = limited.poll() is None
        limited_mb = limited_peak.mb()
        limited.terminate()
        limited.wait(timeout=60)

        import arcticdb
        arctic = arcticdb.Arctic(f"lmdb://{work / 'arctic'}?map_size=16GB")
        lib = arctic.get_library("bench", create_if_missing=True)
        df, df_later = table.to_pandas().set_index("timestamp"), later.to_pandas().set_index("timestamp")
        a_write, _ = best(lambda: lib.write("t", df, prune_previous_versions=True), repeat=2)
        a_append, _ = best(lambda: lib.append("t", df_later, prune_previous_versions=True), repeat=1)
        a_read, _ = best(lambda: lib.read("t").data)
        numeric = {c: "max" for c in ("s1", "s2", "s3", "s4", "count")}
        a_resample, _ = best(lambda: lib.read("t", query_builder=arcticdb.QueryBuilder().resample("10s").agg(numeric)).data)
    finally:
        for proc in daemons:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)

    m = f"{table.num_rows / 1e6:g}M"
    print(f"  round 3 ({m} rows put, {m} appended)", flush=True)
    row(f"put {m} via pyarrow.flight", t_put, a_write, "ArcticDB write (LMDB)", "goal <= 1.0")
    row(f"append {m} to the {m}", t_append, a_append, "ArcticDB append")
    row(f"get {m} x 2 via pyarrow.flight", t_get, a_read, f"ArcticDB read of {m} x 2", "goal <= 0.6")
    row("resample 10s max", t_max, a_resample, "ArcticDB QueryBuilder resample", "goal <= 1.0")
    for agg, t in others.items():
        row(f"resample 10s {agg}", t, t_mean, "shoots' own mean", "goal <= 2")
    for label, (mine, duck) in sql_times.items():
        row(f"sql {label}", mine, duck, "DuckDB on the Parquet", "goal <= 1.0")
    for label, kb in peak.phases.items():
        print(f"  daemon peak RSS, {label:<22} {kb / 1024:>8.1f} MB  (goal < 250 MB for puts, gets, resample)",
              flush=True)
    print(f"  --memory-limit 256MiB: {len(QUERIES) - len(wrong)}/{len(QUERIES)} answers equal; "
          f"daemon {'up' if alive else 'DOWN'}; peak RSS {limited_mb:.1f} MB", flush=True)
    for failure in wrong:
        print(f"    not equal or failed: {failure}", flush=True)
    return {"rows": [dict(zip(("work", "shoots", "peer", "peer_name", "ratio", "goal"), r)) for r in rows],
            "rss_mb": {k: v / 1024 for k, v in peak.phases.items()},
            "memory_limited": {"wrong": wrong, "alive": alive, "peak_mb": limited_mb}}
