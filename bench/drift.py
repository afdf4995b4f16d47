"""Why later puts in a run are slower: puts the benchmark's table twelve
times in a row (replace, two names) and prints each put's time with the
machine's user and system CPU from /proc/stat; then, when run as root,
twelve more with the page cache dropped before each.

    bench/drift.py [--rows N]    (after bench/run has built the release binary)

A measurement for bench/README.md, not part of bench/run.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.flight as flight

sys.path.insert(0, str(Path(__file__).parent))
from run import free_port, put_table, sensor_table, start, wait_port  # noqa: E402


def cpu_jiffies():
    """(user, system) jiffies of the whole machine."""
    fields = open("/proc/stat").readline().split()[1:]
    return int(fields[0]), int(fields[2])


def puts(client, table, drop_caches):
    for i in range(12):
        os.sync()
        if drop_caches:
            Path("/proc/sys/vm/drop_caches").write_text("1")
        (u0, s0), t0 = cpu_jiffies(), time.perf_counter()
        put_table(client, f"f{i % 2}", table, mode="replace")
        (u1, s1), t1 = cpu_jiffies(), time.perf_counter()
        hz = os.sysconf("SC_CLK_TCK")
        print(f"  put {i + 1:2}: {t1 - t0:.2f} s   user {(u1 - u0) / hz:.2f} s   system {(s1 - s0) / hz:.2f} s",
              flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/shoots/target"))
    ap.add_argument("--binary", default=str(target / "release" / "shoots"))
    args = ap.parse_args()
    table = sensor_table(args.rows)
    work = Path(tempfile.mkdtemp(prefix="shoots-drift-"))
    port = free_port()
    daemon = start([args.binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--bucket-dir",
                    str(work / "buckets")])
    try:
        wait_port(port, daemon)
        client = flight.FlightClient(f"grpc://127.0.0.1:{port}")
        print("twelve puts in a row", flush=True)
        puts(client, table, drop_caches=False)
        if os.access("/proc/sys/vm/drop_caches", os.W_OK):
            print("twelve puts, the page cache dropped before each", flush=True)
            puts(client, table, drop_caches=True)
        else:
            print("(not root: the page-cache half is skipped)")
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
