"""The long soak: one release daemon, N clients for a fixed time doing the
test suite's mix (tests/py/soak.py), then the checker. Prints requests/s,
p50/p99 per kind, the daemon's memory and descriptors over time, and what
went wrong (nothing, if it holds up).

    bench/soak                    # 10 minutes, 16 clients
    bench/soak --seconds 120 --clients 32
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "py"))

from ports import free_port, wait_port  # noqa: E402
from soak import Soak  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=120)
    ap.add_argument("--binary", default=str(Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/shoots/target")) / "release" / "shoots"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="shoots-soak-") as work:
        port = free_port()
        log = open(Path(work) / "daemon.log", "wb")
        proc = subprocess.Popen([args.binary, "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--bucket-dir", str(Path(work) / "buckets"), "--vacuum-grace", "0s",
                                 "--retain-versions", "3"], stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_port(port, proc)
            print(f"soak: {args.clients} clients for {args.seconds} s against {args.binary}", flush=True)
            soak = Soak(f"grpc://127.0.0.1:{port}", proc.pid, clients=args.clients, seconds=args.seconds,
                        warmup=args.warmup)
            report = soak.run()
            wrong = soak.mismatches()
        finally:
            proc.terminate()
            code = proc.wait(timeout=60)
    print(f"  {report.requests():,} requests in {report.seconds:.0f} s: {report.requests() / report.seconds:,.0f}/s;"
          f" daemon exit code after SIGTERM {code}")
    print(f"  {'kind':<12} {'count':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, (count, p50, p99) in report.percentiles().items():
        print(f"  {kind:<12} {count:>8,} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f}")
    step = max(1, len(report.rss) // 10)
    print("  daemon RSS (MB) and open descriptors (sockets, other) over time:")
    for (t, rss), (_, (sockets, others)) in list(zip(report.rss, report.fds))[::step] + [(report.rss[-1], report.fds[-1])]:
        print(f"    {t:>6.0f} s  {rss / 2**20:>7.1f} MB  {sockets:>4} sockets {others:>4} other")
    warm = next(v for t, v in report.rss if t >= args.warmup)
    print(f"  RSS at the end / after warm-up: {report.rss[-1][1] / warm:.2f}")
    print(f"  descriptors idle before / after the clients (sockets, other): {report.idle_fds_before} / {report.idle_fds_after}")
    print(f"  provoked errors (on purpose): {dict(report.provoked)}")
    print(f"  unexpected errors: {len(report.unexpected)} {report.unexpected[:5]}")
    print(f"  checker: {'every dataframe as expected' if not wrong else wrong}")
    return 0 if not report.unexpected and not wrong and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
