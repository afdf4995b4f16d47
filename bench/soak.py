"""The long soak: release daemons on one store (one on a local directory by
default; `--daemons 3 --store s3` for three peers on one S3 store), N
clients for a fixed time doing the test suite's mix (tests/py/soak.py)
spread over them, then the checker. Prints requests/s, p50/p99 per kind,
each daemon's memory and descriptors every minute, and what went wrong
(nothing, if it holds up).

    bench/soak                    # 10 minutes, 16 clients, one daemon
    bench/soak --seconds 1800 --daemons 3 --store s3
"""

import argparse
import os
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "py"))

from ports import free_port, wait_port  # noqa: E402
from s3 import BUCKET, moto_server  # noqa: E402
from soak import Soak  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=120)
    ap.add_argument("--daemons", type=int, default=1)
    ap.add_argument("--store", choices=["local", "s3"], default="local")
    ap.add_argument("--binary", default=str(Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/shoots/target")) / "release" / "shoots"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="shoots-soak-") as work, \
            (moto_server() if args.store == "s3" else nullcontext({})) as env:
        store = f"s3://{BUCKET}/soak" if args.store == "s3" else str(Path(work) / "buckets")
        ports = [free_port() for _ in range(args.daemons)]
        procs = []
        for i, port in enumerate(ports):
            peers = [f"grpc://127.0.0.1:{p}" for p in ports if p != port]
            log = open(Path(work) / f"daemon-{i}.log", "wb")
            cmd = [args.binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--bucket-dir", store,
                   "--retain-versions", "3"]
            # One daemon alone owns its store and may delete at once; peers
            # need the grace period for each other's reads and puts.
            cmd += ["--peers", ",".join(peers), "--vacuum-grace", "1m"] if peers else ["--vacuum-grace", "0s"]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, **env}))
        try:
            for port, proc in zip(ports, procs):
                wait_port(port, proc)
            print(f"soak: {args.clients} clients for {args.seconds} s against {args.daemons} daemon(s) "
                  f"on {args.store} ({args.binary})", flush=True)
            daemons = [(f"grpc://127.0.0.1:{port}", proc.pid) for port, proc in zip(ports, procs)]
            soak = Soak(*daemons[0], clients=args.clients, seconds=args.seconds, warmup=args.warmup,
                        more=daemons[1:])
            report = soak.run()
            wrong = soak.mismatches()
        finally:
            for proc in procs:
                proc.terminate()
            codes = [proc.wait(timeout=60) for proc in procs]
    print(f"  {report.requests():,} requests in {report.seconds:.0f} s: {report.requests() / report.seconds:,.0f}/s;"
          f" daemon exit codes after SIGTERM {codes}")
    print(f"  {'kind':<12} {'count':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, (count, p50, p99) in report.percentiles().items():
        print(f"  {kind:<12} {count:>8,} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f}")
    for i, (_, pid) in enumerate(daemons):
        samples = report.per_daemon[pid]
        every_minute = [next(s for s in samples if s[0] >= m * 60) for m in range(int(samples[-1][0] // 60) + 1)]
        print(f"  daemon {i}: RSS (MB) and open descriptors (sockets, other), every minute:")
        for t, rss, (sockets, others) in every_minute + [samples[-1]]:
            print(f"    {t:>6.0f} s  {rss / 2**20:>7.1f} MB  {sockets:>4} sockets {others:>4} other")
        warm = next(rss for t, rss, _ in samples if t >= args.warmup)
        print(f"    RSS at the end / after warm-up: {samples[-1][1] / warm:.2f}; peak {max(r for _, r, _ in samples) / 2**20:.0f} MB")
    print(f"  descriptors idle before / after the clients (sockets, other), daemon 0: {report.idle_fds_before} / {report.idle_fds_after}")
    print(f"  provoked errors (on purpose): {dict(report.provoked)}")
    print(f"  unexpected errors: {len(report.unexpected)} {report.unexpected[:5]}")
    print(f"  checker: {'every dataframe as expected' if not wrong else wrong}")
    return 0 if not report.unexpected and not wrong and set(codes) == {0} else 1


if __name__ == "__main__":
    sys.exit(main())
