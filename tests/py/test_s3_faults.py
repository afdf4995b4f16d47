"""S3 that misbehaves (README: Buckets on S3): a fault proxy of the tests'
own between the daemon and moto's server answers 503 SlowDown, answers 500
or cuts the connection after the store did the work, holds answers past the
daemon's --store-timeout, and truncates bodies, on a seeded schedule. A
commit is judged by what is on the store: none acknowledged is lost or
applied twice, a failed put is all or nothing, a get is whole or fails,
versions stay contiguous, and after the faults everything works without a
restart."""

import threading
from collections import Counter

import pyarrow as pa
import pyarrow.flight as flight

from conftest import Daemon, S3Prefix
from faults import FaultProxy
from helpers import action, get, put

ROWS = 5


def rows(writer, i):
    base = (writer * 1000 + i) * ROWS
    return pa.table({"id": pa.array(range(base, base + ROWS), pa.int64()), "w": pa.array([writer] * ROWS, pa.int32())})


def test_faults_lose_no_acknowledged_commit_and_apply_none_twice(s3_server, tmp_path):
    proxy = FaultProxy(s3_server.port, seed=20261206, rate=0.2)
    prefix = S3Prefix(s3_server, tmp_path.name)
    d = Daemon(tmp_path / "buckets", ["--vacuum-grace", "0s", "--store-timeout", "1s"], s3=prefix,
               env={"AWS_ENDPOINT_URL": proxy.endpoint})
    try:
        client = d.client()
        put(client, "f", rows(9, 0))
        acked, failed, errors, reads, torn = [], [], [], [], []

        def writer(w):
            c = d.client()
            for i in range(12):
                try:
                    put(c, "f", rows(w, i), mode="append")
                    acked.append((w, i))
                except flight.FlightError as e:
                    failed.append((w, i))
                    errors.append(str(e))
            c.close()

        def reader():
            c = d.client()
            for _ in range(15):
                try:
                    ids = get(c, "f").column("id").to_pylist()
                except flight.FlightError as e:
                    errors.append(str(e))
                    continue
                # Whole appends only, each once: never a short or mixed read.
                groups = Counter(x // ROWS for x in ids)
                if len(ids) != len(set(ids)) or any(n != ROWS for n in groups.values()):
                    torn.append(len(ids))
                reads.append(len(ids))
            c.close()

        def compactor():
            c = d.client()
            for _ in range(4):
                try:
                    action(c, "compact", {"name": "f"})
                except flight.FlightError as e:
                    errors.append(str(e))
            c.close()

        proxy.active.set()
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        threads += [threading.Thread(target=compactor), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        proxy.active.clear()

        faults = Counter(f for *_, f in proxy.log if f)
        on_commits = [f for m, path, f in proxy.log if f in ("error_after", "reset_after") and m == "PUT"
                      and "/_log/" in path]
        assert sum(faults.values()) > 20 and on_commits and faults["delay"], (faults, on_commits)
        assert reads and not torn, (reads, torn)

        # After the faults: reads, compaction and vacuum work, no restart.
        table = get(client, "f")
        counts = Counter(table.column("id").to_pylist())
        assert max(counts.values()) == 1, "a row was applied twice"
        for w, i in [(9, 0), *acked]:
            assert all(counts[x] == 1 for x in rows(w, i).column("id").to_pylist()), f"acknowledged {w}/{i} lost"
        for w, i in failed:
            present = [counts[x] for x in rows(w, i).column("id").to_pylist()]
            assert present in ([0] * ROWS, [1] * ROWS), f"failed put {w}/{i} half there"
        versions = [v["version"] for v in __import__("json").loads(action(client, "history", {"name": "f"})[0])]
        assert versions == list(range(versions[0], versions[0] + len(versions))), versions
        action(client, "compact", {"name": "f"})
        action(client, "vacuum", {"name": "f", "retain": 1})
        assert get(client, "f").sort_by("id").equals(table.sort_by("id"))
        put(client, "f", rows(8, 0), mode="append")
        assert get(client, "f").num_rows == table.num_rows + ROWS
        print(f"faults {dict(faults)}, on commits {len(on_commits)}, acked {len(acked)}, failed {len(failed)}, "
              f"whole reads {len(reads)}", errors[:3])
    finally:
        d.stop()
        proxy.stop()
