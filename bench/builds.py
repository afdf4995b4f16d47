"""Two (or more) builds of shoots side by side on the same work, taking
turns: put and get of the benchmark's table and a few queries, best of the
turns. For choosing a build profile by what it costs.

    python bench/builds.py BINARY... [--rows 5000000] [--turns 3]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.flight as flight

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ports import free_port, wait_port  # noqa: E402
from tables import sensor_table  # noqa: E402

QUERIES = {
    "group by site": "select site, avg(s1), max(s2), count(*) from t group by site",
    "count distinct": "select count(distinct count) from t",
    "filter + sort": "select * from t where s1 > 2.5 order by s2 desc limit 100",
    "window": "select site, avg(s1) over (partition by site order by timestamp rows 10 preceding) from t limit 10",
}


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def one_turn(binary, table):
    with tempfile.TemporaryDirectory(prefix="shoots-builds-") as work:
        port = free_port()
        proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--bucket-dir",
                                 f"{work}/b"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, proc)
            c = flight.FlightClient(f"grpc://127.0.0.1:{port}")

            def put():
                cmd = json.dumps({"name": "t", "mode": "replace"})
                w, r = c.do_put(flight.FlightDescriptor.for_command(cmd), table.schema)
                w.write_table(table, max_chunksize=65536)
                w.done_writing()
                r.read()
                w.close()

            def ticket(**t):
                return lambda: c.do_get(flight.Ticket(json.dumps(t).encode())).read_all()

            out = {"put": timed(put), "get": timed(ticket(name="t"))}
            for label, sql in QUERIES.items():
                out[label] = timed(ticket(sql=sql))
            return out
        finally:
            proc.terminate()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--turns", type=int, default=3)
    args = ap.parse_args()
    table = sensor_table(args.rows)
    best = {b: {} for b in args.binaries}
    for _ in range(args.turns):
        for b in args.binaries:
            for work, s in one_turn(b, table).items():
                best[b][work] = min(best[b].get(work, s), s)
    works = list(best[args.binaries[0]])
    first = args.binaries[0]
    print(f"{args.rows:,} rows, best of {args.turns} turns (s); ratio to {first}")
    print(f"{'work':<16}" + "".join(f"{Path(b).name[-24:]:>26}" for b in args.binaries))
    for w in works:
        cells = "".join(f"{best[b][w]:>18.3f} ({best[b][w] / best[first][w]:.2f})" for b in args.binaries)
        print(f"{w:<16}{cells}")


if __name__ == "__main__":
    main()
