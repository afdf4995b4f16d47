"""The Python package's client beside raw pyarrow.flight and the original
client (PyPI shoots 0.1.1): put and get of the benchmark's table as pandas,
each client in a process of its own (the original's import name is the
package's too), taking turns against one release daemon. Also the client's
peak memory for a streamed put and get of the same rows.

Run through `bench/python`, which builds the release wheel and the venvs.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("raw", "raw_5000", "ours", "ours_64k", "original")


def worker(kind, port, rows, repeat):
    sys.path.insert(0, str(HERE))
    import pyarrow as pa
    import pyarrow.flight as flight

    from tables import sensor_table

    df = sensor_table(rows).to_pandas()
    name = f"bench_{kind}"
    if kind.startswith("raw"):
        client = flight.FlightClient(f"grpc://127.0.0.1:{port}")
        chunk = 5000 if kind == "raw_5000" else 65536

        def put():
            table = pa.Table.from_pandas(df)
            cmd = json.dumps({"name": name, "mode": "replace", "bucket": None})
            writer, reader = client.do_put(flight.FlightDescriptor.for_command(cmd), table.schema)
            writer.write_table(table, max_chunksize=chunk)
            writer.done_writing()
            reader.read()
            writer.close()

        def get():
            ticket = flight.Ticket(json.dumps({"name": name, "bucket": None}).encode())
            return client.do_get(ticket).read_all().to_pandas()
    else:
        import shoots

        client = shoots.ShootsClient("127.0.0.1", port)
        if kind == "original":
            assert not hasattr(shoots, "serve"), "the original's package is expected here"
        # 5000 rows a message is both clients' default; raw sends 65536.
        batch = 65536 if kind == "ours_64k" else 5000

        def put():
            client.put(name, df, mode=shoots.PutMode.REPLACE, batch_size=batch)

        def get():
            return client.get(name)

    times = {"put": [], "get": []}
    for _ in range(repeat):
        for label, fn in (("put", put), ("get", get)):
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    print(json.dumps({k: min(v) for k, v in times.items()}))


def streamed(port, rows):
    """A put from a reader of generated batches and a get read batch by
    batch: the client never holds the table."""
    import numpy as np
    import pyarrow as pa

    import shoots

    chunk = 250_000
    schema = pa.schema([("timestamp", pa.timestamp("ns")), ("s1", pa.float64()), ("count", pa.int64())])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def batches():
        rng = np.random.default_rng(0)
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ts = np.datetime64("2024-01-01", "ns") + (start + np.arange(n)) * np.timedelta64(10, "ms")
            yield pa.record_batch([pa.array(ts), pa.array(rng.normal(size=n)), pa.array(rng.integers(0, 1000, n))],
                                  schema=schema)

    client = shoots.ShootsClient("127.0.0.1", port)
    start = time.perf_counter()
    client.put("bench_stream", pa.RecordBatchReader.from_batches(schema, batches()), mode="replace", batch_size=None)
    put_s = time.perf_counter() - start
    start, got = time.perf_counter(), 0
    for batch in client.get("bench_stream", as_="reader"):
        got += batch.num_rows
    get_s = time.perf_counter() - start
    assert got == rows
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table_mb = rows * 24 / 1e6
    print(json.dumps({"put": put_s, "get": get_s, "peak_mb": peak, "import_mb": base, "table_mb": table_mb}))


def run(python_for, port, rows, repeat, turns):
    best = {k: {"put": float("inf"), "get": float("inf")} for k in KINDS}
    for _ in range(turns):
        for kind in KINDS:
            out = subprocess.run([python_for[kind], __file__, "--worker", kind, "--port", str(port),
                                  "--rows", str(rows), "--repeat", str(repeat)],
                                 check=True, capture_output=True, text=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            for k in ("put", "get"):
                best[kind][k] = min(best[kind][k], got[k])
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", choices=KINDS)
    ap.add_argument("--streamed", action="store_true")
    ap.add_argument("--port", type=int)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--turns", type=int, default=3, help="rounds in which each client takes its turn")
    ap.add_argument("--original-python", help="a python with PyPI's shoots 0.1.1")
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.port, args.rows, args.repeat)
    if args.streamed:
        return streamed(args.port, args.rows)

    import shoots

    with shoots.serve(log=open(os.devnull, "w")) as daemon:
        print(f"daemon {shoots.binary()}, {args.rows:,} rows, best of {args.turns} turns x {args.repeat}", flush=True)
        python_for = {kind: sys.executable for kind in KINDS}
        python_for["original"] = args.original_python
        best = run(python_for, daemon.port, args.rows, args.repeat, args.turns)
        print(f"{'client':<34}{'put s':>8}{'get s':>8}{'put/raw':>9}{'get/raw':>9}")
        labels = {"raw": "pyarrow.flight (raw, 64K rows/msg)", "raw_5000": "pyarrow.flight (raw, 5000/msg)",
                  "ours": "shoots-df (default 5000/msg)",
                  "ours_64k": "shoots-df (batch_size=65536)", "original": "shoots 0.1.1 (original, 5000)"}
        for kind in KINDS:
            b = best[kind]
            print(f"{labels[kind]:<34}{b['put']:>8.3f}{b['get']:>8.3f}"
                  f"{b['put'] / best['raw']['put']:>9.3f}{b['get'] / best['raw']['get']:>9.3f}")
        out = subprocess.run([sys.executable, __file__, "--streamed", "--port", str(daemon.port),
                              "--rows", str(args.rows)], check=True, capture_output=True, text=True).stdout
        s = json.loads(out.strip().splitlines()[-1])
        print(f"streamed put/get of {args.rows:,} rows x 3 columns ({s['table_mb']:.0f} MB as Arrow) from a "
              f"RecordBatchReader: put {s['put']:.3f} s, get {s['get']:.3f} s, client peak RSS {s['peak_mb']:.0f} MB "
              f"(after imports {s['import_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
