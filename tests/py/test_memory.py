"""Memory under steady ingest (issue #33's load, `ingest.py`) for three
minutes on a local directory: after a 60 s warm-up the daemon's RSS stays
under a ceiling and within 1.2x of its warm-up value, and every appended
row is there. RSS is sampled every 10 s; nothing is timed. The 30-minute
runs, on a local directory and on S3, are `bench/ingest.py`'s."""

import ingest
from conftest import Daemon

SECONDS = 180
CEILING_MB = 300
RATIO = 1.2


def test_memory_stays_flat_under_steady_ingest(tmp_path):
    d = Daemon(tmp_path / "buckets", ["--http-port", "0"])
    try:
        http_port = int(d.http_url.rsplit(":", 1)[1])
        appends, rows, stored, samples = ingest.run(d.location, d.proc.pid, SECONDS, http_port=http_port)
    finally:
        d.stop()
    print(f"{appends} appends, {rows} rows; RSS MB by second:",
          ", ".join(f"{s}:{rss:.0f} ({heap.get('allocated', 0):.0f} allocated)" for s, rss, heap in samples))
    assert stored == rows, "an acknowledged append is missing"
    warm, later = ingest.after_warmup(samples)
    assert max(rss for _, rss in later) < CEILING_MB, later
    assert max(rss for _, rss in later) <= RATIO * warm, (warm, later)
