"""The Postgres wire protocol beside Flight, on one release daemon: a fetch
of the benchmark's table (10,000,000 rows by default) through psycopg's
binary COPY and through a plain SELECT, beside the Flight get of the same
rows; and the latency of a 1-row INSERT beside a 1-row Flight append.

    bench/postgres              # builds the release binary, then runs this
    bench/postgres --rows 1000000

The COPY is read as the bytes a loader takes (psycopg's `copy.read()`, one
Python call a row, as the protocol sends a message a row) and by psql into
/dev/null (libpq: what the daemon sends, with little client cost); the
SELECT as Python rows (psycopg's binary cursor, `fetchmany`), the Flight get
as an Arrow table: each the form its client hands over. psql must be on the
PATH (Debian's postgresql-client).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.flight as flight

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tables import sensor_table  # noqa: E402


def timed(f):
    start = time.perf_counter()
    out = f()
    return time.perf_counter() - start, out


def best(f, repeat):
    return min(timed(f)[0] for _ in range(repeat))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--appends", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="shoots-pg-bench-") as work:
        proc = subprocess.Popen([args.binary, "serve", "--host", "127.0.0.1", "--port", "0", "--pg-port", "0",
                                 "--bucket-dir", f"{work}/b"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            line = proc.stdout.readline().decode()
            port = int(line.split("grpc://127.0.0.1:")[1].split()[0])
            pg_port = int(line.split("postgres on 127.0.0.1:")[1].split()[0])
            run(args, port, pg_port)
        finally:
            proc.terminate()
            proc.wait()


def run(args, port, pg_port):
    c = flight.FlightClient(f"grpc://127.0.0.1:{port}")
    table = sensor_table(args.rows)
    w, r = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "sensors"})), table.schema)
    w.write_table(table, max_chunksize=65536)
    w.done_writing()
    r.read()
    w.close()
    conn = psycopg.connect(host="127.0.0.1", port=pg_port, dbname="shoots", user="bench", autocommit=True)

    def flight_get():
        return c.do_get(flight.Ticket(json.dumps({"name": "sensors"}).encode())).read_all().num_rows

    def copy_binary():
        size = 0
        with conn.cursor().copy("COPY sensors TO STDOUT (FORMAT BINARY)") as copy:
            while data := copy.read():
                size += len(data)
        return size

    def select_rows():
        n = 0
        with conn.cursor(binary=True) as cur:
            cur.execute("SELECT * FROM sensors")
            while rows := cur.fetchmany(100_000):
                n += len(rows)
        return n

    def psql_copy(form):
        # libpq's own client: what the daemon sends, with little client cost.
        dsn = f"host=127.0.0.1 port={pg_port} dbname=shoots user=bench"
        with open("/dev/null", "wb") as sink:
            subprocess.run(["psql", dsn, "-c", f"COPY sensors TO STDOUT {form}"], stdout=sink, check=True)

    assert flight_get() == args.rows and select_rows() == args.rows
    get_s = best(flight_get, args.repeat)
    copy_s = best(copy_binary, args.repeat)
    psql_s = best(lambda: psql_copy("(FORMAT BINARY)"), args.repeat)
    psql_text_s = best(lambda: psql_copy(""), 1)
    select_s = best(select_rows, 1)
    print(f"fetch of {args.rows:,} rows x {table.num_columns} columns (best of {args.repeat}; text and SELECT once):")
    print(f"  Flight get (Arrow table)           {get_s:8.3f} s")
    for label, t in [("psql binary COPY to /dev/null", psql_s), ("psycopg binary COPY (bytes)", copy_s),
                     ("psql text COPY to /dev/null", psql_text_s), ("psycopg SELECT (binary rows)", select_s)]:
        print(f"  {label:34s} {t:8.3f} s   {t / get_s:5.2f} x the Flight get")

    one = pa.table({"timestamp": pa.array([0], pa.timestamp("ns")), "s1": [0.0], "s2": [0.0], "s3": [0.0],
                    "s4": [0.0], "count": pa.array([1], pa.int64()), "site": ["north"]})
    # The 1-row targets exist first (INSERT ... VALUES appends to one).
    conn.execute("INSERT INTO small SELECT * FROM sensors LIMIT 1")
    for kind in ("insert", "append"):
        laps = []
        for i in range(args.appends):
            if kind == "insert":
                t, _ = timed(lambda: conn.execute(
                    "INSERT INTO small VALUES (TIMESTAMP '2024-01-01 00:00:00', 0.0, 0.0, 0.0, 0.0, %s, 'north')",
                    (i,)))
            else:
                def append():
                    cmd = json.dumps({"name": "small_flight", "mode": "append"})
                    w, r = c.do_put(flight.FlightDescriptor.for_command(cmd), one.schema)
                    w.write_table(one)
                    w.done_writing()
                    r.read()
                    w.close()
                t, _ = timed(append)
            laps.append(t * 1000)
        laps = laps[5:]  # the first ones create the dataframe
        laps.sort()
        p50, p99 = statistics.median(laps), laps[int(len(laps) * 0.99) - 1]
        label = "psycopg INSERT of 1 row" if kind == "insert" else "Flight append of 1 row"
        print(f"  {label:34s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({len(laps)} commits)")
    conn.close()


if __name__ == "__main__":
    main()
