"""README, Storage: concurrent writers, crashes and disconnects never lose or mix data."""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight
import pytest

from helpers import action, cli, get, put, sample, wait_for

ROWS = 1_000_000


def block(k, rows=ROWS):
    ids = np.arange(k * rows, (k + 1) * rows, dtype=np.int64)
    return pa.table({"id": ids, "x": ids.astype(np.float64) * 0.5})



def test_concurrent_appends_readers_and_replacers(daemon):
    errors = []
    stop = threading.Event()
    reader_ready, replacer_ready = threading.Event(), threading.Event()
    # Appenders pause half-way until a read has completed while all three
    # uploads are open: reads must not wait for writes.
    halfway = threading.Semaphore(0)
    read_during_uploads = threading.Event()
    seen_counts = set()
    put(daemon.client(), "shared", block(0, 0))  # exists, empty, so reads succeed from the start

    def appender(k):
        try:
            c = daemon.client()
            data = block(k)
            cmd = json.dumps({"name": "shared", "mode": "append", "bucket": None})
            writer, _ = c.do_put(flight.FlightDescriptor.for_command(cmd), data.schema)
            batches = data.to_batches(max_chunksize=100_000)
            for b in batches[:5]:
                writer.write_batch(b)
            halfway.release()
            assert read_during_uploads.wait(60)
            for b in batches[5:]:
                writer.write_batch(b)
            writer.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(("append", k, e))

    def reader():
        c = daemon.client()
        uploads_open = 0
        while not stop.is_set():
            reader_ready.set()
            if uploads_open < 3 and halfway.acquire(blocking=False):
                uploads_open += 1
                continue
            all_open_before = uploads_open == 3 and not read_during_uploads.is_set()
            try:
                t = get(c, "shared")
            except Exception as e:  # noqa: BLE001
                errors.append(("read", e))
                return
            if all_open_before:
                read_during_uploads.set()
            n = t.num_rows
            seen_counts.add(n)
            # A version is whole blocks: every block present completely or not at all.
            blocks = set(pc.unique(pc.divide(t.column("id"), ROWS)).to_pylist()) if n else set()
            if n % ROWS or len(blocks) * ROWS != n:
                errors.append(("partial version", n, sorted(blocks)))
                return

    def replacer():
        c = daemon.client()
        i = 0
        while not stop.is_set():
            try:
                put(c, "other", sample(1000, offset=i), mode="replace")
                got = get(c, "other")
                replacer_ready.set()
                if got.num_rows != 1000:
                    errors.append(("replace", got.num_rows))
                    return
            except Exception as e:  # noqa: BLE001
                errors.append(("replace", e))
                return
            i += 1

    side = [threading.Thread(target=reader), threading.Thread(target=replacer)]
    writers = [threading.Thread(target=appender, args=(k,)) for k in range(3)]
    for t in side:
        t.start()
    assert reader_ready.wait(60) and replacer_ready.wait(60)
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in side:
        t.join()
    assert errors == []
    assert read_during_uploads.is_set()

    final = get(daemon.client(), "shared")
    assert final.num_rows == 3 * ROWS
    ids = final.column("id").to_numpy()
    assert np.array_equal(np.sort(ids), np.arange(3 * ROWS))
    assert seen_counts <= {0, ROWS, 2 * ROWS, 3 * ROWS}


def data_files(daemon, name, bucket="_default"):
    d = daemon.bucket_dir / bucket / name / "data"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def start_slow_put(daemon, name, mode, stop_after_writing):
    """A put that streams batches until told to stop; returns (thread, stop)."""
    stop = threading.Event()
    outcome = {}

    def run():
        c = daemon.client()
        cmd = json.dumps({"name": name, "mode": mode, "bucket": None})
        try:
            writer, _ = c.do_put(flight.FlightDescriptor.for_command(cmd), block(0, 1).schema)
            k = 0
            while not stop.is_set():
                writer.write_table(block(k, 100_000))
                k += 1
            if not stop_after_writing:
                writer.close()
        except Exception as e:  # noqa: BLE001 - the daemon was killed under it
            outcome["error"] = e

    t = threading.Thread(target=run)
    t.start()
    return t, stop, outcome


@pytest.mark.parametrize("mode", ["replace", "append"])
def test_sigkill_in_the_middle_of_a_put(daemon, mode):
    c = daemon.client()
    original = sample(1000)
    put(c, "frame", original)
    committed_files = data_files(daemon, "frame")

    thread, stop, _ = start_slow_put(daemon, "frame", mode, stop_after_writing=True)
    # The put is under way once its data reach the disk.
    wait_for(lambda: len(os.listdir(daemon.bucket_dir / "_default" / "frame" / "data")) > len(committed_files),
             "the put's data file appears")
    daemon.kill()
    stop.set()
    thread.join()

    daemon.start()
    c = daemon.client()
    assert get(c, "frame").equals(original)
    # And the dataframe takes writes again.
    put(c, "frame", sample(5, offset=1000), mode="append")
    assert get(c, "frame").num_rows == 1005


def backdate(paths, hours=2):
    """Makes files look untouched for `hours`: vacuum only removes files no
    version names once they are an hour old."""
    old = time.time() - hours * 3600
    for path in paths:
        os.utime(path, (old, old))


def test_vacuum_removes_what_a_crash_left_behind(daemon):
    c = daemon.client()
    original = sample(1000)
    put(c, "frame", original)
    committed = data_files(daemon, "frame")
    thread, stop, _ = start_slow_put(daemon, "frame", "append", stop_after_writing=True)
    wait_for(lambda: len(data_files(daemon, "frame")) > len(committed), "the put's data file appears")
    daemon.kill()
    stop.set()
    thread.join()
    daemon.start()
    c = daemon.client()
    left = set(data_files(daemon, "frame")) - set(committed)
    assert left, "the killed put left a file"

    # Too recent to be sure nobody is writing it: kept.
    assert "removed 0 versions, 0 files" in cli(daemon, "vacuum", "frame").stderr.decode()
    assert set(data_files(daemon, "frame")) - set(committed) == left

    data = daemon.bucket_dir / "_default" / "frame" / "data"
    backdate([data / f for f in data_files(daemon, "frame")])
    out = cli(daemon, "vacuum", "frame").stderr.decode()
    assert f"removed 0 versions, {len(left)} files" in out, out
    assert data_files(daemon, "frame") == committed
    assert get(c, "frame").equals(original)


def test_vacuum_removes_log_entries_and_lists_a_crash_cut_short(daemon):
    """A kill between staging a log entry (or a vacuum list) and linking it
    into place leaves `NAME#N` beside it, which no listing shows."""
    c = daemon.client()
    put(c, "frame", sample(10))
    frame = daemon.bucket_dir / "_default" / "frame"
    (frame / "_vacuum").mkdir(exist_ok=True)
    staged = [frame / "_log" / "00000000000000000002.json#7", frame / "_vacuum" / "1-x.json#3"]
    for path in staged:
        path.write_bytes(b"")
    # Too recent to be sure nobody is writing it: kept.
    cli(daemon, "vacuum", "frame")
    assert all(p.exists() for p in staged)
    backdate(staged)
    out = cli(daemon, "vacuum", "frame").stderr.decode()
    assert "removed 0 versions, 0 files" in out, out
    assert not any(p.exists() for p in staged)
    assert get(c, "frame").num_rows == 10
    # The version the staged entry was for is still free.
    put(c, "frame", sample(5), mode="append")
    assert [v["version"] for v in json.loads(action(c, "history", {"name": "frame"})[0])][-1] == 2


def test_vacuum_spares_the_files_of_a_put_in_progress(daemon):
    """A put's first file is finished (4M rows) and old, but not committed
    until the put ends: vacuum must leave it."""
    c = daemon.client()
    put(c, "frame", sample(10))
    thread, stop, outcome = start_slow_put(daemon, "frame", "replace", stop_after_writing=False)
    finished = lambda: [f for f in data_files(daemon, "frame") if "#" not in f]  # noqa: E731
    wait_for(lambda: len(finished()) > 1, "the put's first file is complete", timeout=300)
    data = daemon.bucket_dir / "_default" / "frame" / "data"
    backdate([data / f for f in finished()])
    out = cli(daemon, "vacuum", "frame", "--retain", "1").stderr.decode()
    stop.set()
    thread.join()
    assert "error" not in outcome, outcome
    # Neither the committed file nor the put's finished one went.
    assert "removed 0 versions, 0 files" in out, out
    got = get(c, "frame").column("id")
    assert len(got) > 4_000_000 and len(got) % 100_000 == 0
    assert pc.all(pc.equal(got, pa.array(np.arange(len(got))))).as_py()


DISCONNECTING_CLIENT = r"""
import json, os, sys
import numpy as np, pyarrow as pa, pyarrow.flight as flight
port, marker = int(sys.argv[1]), sys.argv[2]
c = flight.FlightClient(f"grpc://127.0.0.1:{port}")
ids = np.arange(100_000, dtype=np.int64)
t = pa.table({"id": ids, "x": ids * 0.5})
w, _ = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "frame", "mode": "replace"})), t.schema)
for _ in range(30):
    w.write_table(t)
open(marker, "w").close()
os._exit(1)  # vanish mid-upload, no goodbye
"""


def test_client_disconnect_in_the_middle_of_a_put(daemon, tmp_path):
    c = daemon.client()
    original = sample(1000)
    put(c, "frame", original)
    committed_files = data_files(daemon, "frame")
    marker = tmp_path / "wrote"
    proc = subprocess.run([sys.executable, "-c", DISCONNECTING_CLIENT, str(daemon.port), str(marker)])
    assert proc.returncode == 1 and marker.exists()
    # The daemon notices the broken stream and removes what it wrote.
    wait_for(lambda: data_files(daemon, "frame") == committed_files, "the aborted put's files are gone")
    assert get(c, "frame").equals(original)
    assert "upload interrupted" in daemon.logs() or "DoPut" in daemon.logs()


def test_put_cancelled_by_its_deadline_keeps_nothing(daemon):
    """A client call that times out mid-upload is reset with RST_STREAM(CANCEL),
    which hyper reports to the server as a clean end of the upload: the daemon
    must still not commit it."""
    c = daemon.client()
    original = sample(1000)
    put(c, "frame", original)
    committed_files = data_files(daemon, "frame")
    options = flight.FlightCallOptions(timeout=1.0)
    cmd = json.dumps({"name": "frame", "mode": "replace"})
    writer, _ = c.do_put(flight.FlightDescriptor.for_command(cmd), original.schema, options=options)
    writer.write_table(block(0, 50_000))
    time.sleep(2)  # let the deadline pass with the upload still open
    with pytest.raises(flight.FlightError):
        writer.write_table(block(1, 50_000))
        writer.close()
    wait_for(lambda: "cancelled by the client" in daemon.logs() or "frame failed" in daemon.logs(),
             "the daemon finishes with the cancelled put")
    assert get(c, "frame").equals(original)
    wait_for(lambda: data_files(daemon, "frame") == committed_files, "the cancelled put's files are gone")
