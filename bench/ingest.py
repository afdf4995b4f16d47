"""Steady ingest, as issue #33 tried it (the load is tests/py/ingest.py): 4
clients appending 1-50 rows at a time as fast as they can, 4 reading the
whole dataframe, one counting and listing in a loop, a compaction every 20
s; the daemon's RSS every 10 s, with what the allocator holds (jemalloc's
allocated and resident bytes) and what the caches hold, from /metrics.

    python bench/ingest.py --binary PATH [--seconds 240] [--readers 4] [--store s3]
                           [--seed-rows N]

`--seed-rows` puts that many rows before the load starts, so a short run
shows what a long one's grown dataframe costs.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests" / "py"))
import ingest  # noqa: E402
from ports import free_port, wait_port  # noqa: E402
from s3 import BUCKET, moto_server  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--seconds", type=int, default=240)
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--store", choices=["local", "s3"], default="local")
    ap.add_argument("--seed-rows", type=int, default=1)
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
            appends, rows, stored, samples = ingest.run(f"grpc://127.0.0.1:{port}", proc.pid, args.seconds,
                                                        args.readers, http_port, args.seed_rows)
        finally:
            proc.terminate()
            proc.wait()
    print(f"{args.binary} on {args.store}: {appends} appends, {rows} rows in {args.seconds} s "
          f"({stored} stored), {args.readers} readers")
    print("  second  RSS MB  jemalloc allocated / resident MB  caches: commits / footers MB")
    for second, rss, heap in samples:
        print(f"  {second:>6}  {rss:>6.0f}  {heap.get('allocated', 0):>10.0f} / {heap.get('resident', 0):<10.0f}"
              f"  {heap.get('commits', 0):>10.1f} / {heap.get('footers', 0):.1f}")
    if samples[-1][0] >= 60:
        warm, later = ingest.after_warmup(samples)
        peak = max(rss for _, rss in later)
        print(f"  after the 60 s warm-up: {warm:.0f} MB; peak {peak:.0f} MB ({peak / warm:.2f}x), "
              f"end {later[-1][1]:.0f} MB ({later[-1][1] / warm:.2f}x)")


if __name__ == "__main__":
    main()
