"""Versions, compaction, vacuum, graceful stop and legacy import (README: Storage, the command line)."""

import json
import signal
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight
import pyarrow.parquet as pq
import pytest

from conftest import Daemon, files_under
from helpers import cli, get, put


def data_files(daemon, name):
    return {f for f in files_under(daemon.bucket_dir) if f.startswith(f"_default/{name}/data/")}


@pytest.fixture
def keeper(tmp_path):
    """A daemon that keeps every version until told otherwise, and deletes
    what vacuum takes out at once (no other daemon shares its store)."""
    d = Daemon(tmp_path / "buckets", extra_args=["--retain-versions", "5000", "--vacuum-grace", "0s"])
    yield d
    d.stop()


@pytest.fixture
def impatient(tmp_path):
    """A daemon whose vacuum deletes unneeded files at once."""
    d = Daemon(tmp_path / "buckets", extra_args=["--vacuum-grace", "0s"])
    yield d
    d.stop()


def test_many_small_appends_then_compact_history_versions_and_vacuum(keeper):
    client = keeper.client()
    for i in range(1000):
        put(client, "cron", pa.table({"i": pa.array([i], pa.int64()), "x": [i / 3]}), mode="append")
    want = list(range(1000))

    # Reads while compacting always see one whole version, in order.
    seen, stop = [], threading.Event()

    def read_loop():
        reader = keeper.client()
        while not stop.is_set():
            seen.append(get(reader, "cron").column("i").to_pylist())

    t = threading.Thread(target=read_loop)
    t.start()
    out = cli(keeper, "compact", "cron").stderr.decode()
    stop.set()
    t.join()
    assert out.startswith("compact cron: "), out
    assert seen and all(rows == want for rows in seen)

    assert get(client, "cron").column("i").to_pylist() == want
    assert len(data_files(keeper, "cron")) > 100, "old versions still hold their files"
    info = json.loads(cli(keeper, "history", "cron", "--format", "json").stdout)
    assert [v["operation"] for v in info[:2]] == ["create", "append"]
    assert info[-1]["operation"] == "compact" and info[-1]["files"] <= 2
    assert len(info) >= 1001
    assert sum(v["operation"] == "append" for v in info) == 999
    table = cli(keeper, "history", "cron").stdout.decode().splitlines()
    assert table[0].split("\t")[:3] == ["1", table[0].split("\t")[1], "create"]

    # An old version, through the CLI and the wire: the one with 10 rows
    # (background compactions have versions of their own in between).
    ten = next(v["version"] for v in info if v["rows"] == 10)
    old = cli(keeper, "get", "cron", "--version", str(ten)).stdout.decode().splitlines()
    assert old[0] == "i,x" and [int(line.split(",")[0]) for line in old[1:]] == list(range(10))
    assert get(client, "cron", version=ten).column("i").to_pylist() == list(range(10))

    vac = cli(keeper, "vacuum", "cron", "--retain", "1").stderr.decode()
    assert "removed" in vac
    info = json.loads(cli(keeper, "history", "cron", "--format", "json").stdout)
    assert len(info) == 1 and info[0]["operation"] == "compact"
    assert len(data_files(keeper, "cron")) == info[0]["files"] <= 2
    gone = cli(keeper, "get", "cron", "--version", str(ten), check=False)
    assert gone.returncode == 1 and f"no version {ten}" in gone.stderr.decode()
    assert get(client, "cron").column("i").to_pylist() == want


@pytest.mark.parametrize("ticket", [{"name": "frame"}, {"name": "frame", "sql": "SELECT i, x FROM frame"}])
def test_vacuum_keeps_a_version_while_it_is_read(impatient, ticket):
    """A long read (or query) of an old version must not lose its files to
    vacuum, even with no grace period; once the reader is done, the next
    vacuum takes them."""
    daemon = impatient
    c = daemon.client()
    rows = 2_000_000
    big = pa.table({"i": pa.array(np.arange(rows)), "x": np.arange(rows) * 0.5})
    put(c, "frame", big)
    reader = c.do_get(flight.Ticket(json.dumps(ticket).encode()))
    first = reader.read_chunk().data
    for k in range(3):
        put(c, "frame", pa.table({"i": pa.array([k]), "x": [0.0]}), mode="replace")
    out = cli(daemon, "vacuum", "frame", "--retain", "1").stderr.decode()
    assert "removed 2 versions, 2 files" in out, out  # versions 2 and 3; 1 is being read
    got = pa.Table.from_batches([first, *reader.read_all().to_batches()])
    assert got.num_rows == rows and sorted(got.column("i").to_pylist()) == list(range(rows))

    # The daemon lets go of version 1 as the stream ends; poll for it.
    deadline = time.monotonic() + 30
    while "removed 1 versions, 1 files" not in (out := cli(daemon, "vacuum", "frame", "--retain", "1").stderr.decode()):
        assert "removed 0 versions" in out and time.monotonic() < deadline, out
        time.sleep(0.05)
    assert len(data_files(daemon, "frame")) == 1


def test_background_compaction_keeps_reads_fast(tmp_path):
    d = Daemon(tmp_path / "buckets")  # default retention (10 versions)
    try:
        client = d.client()
        for i in range(200):
            put(client, "cron", pa.table({"i": [i]}), mode="append")
        # The daemon compacts on its own once a version has many small files
        # (64); the current version never keeps that many for long.
        def live_files():
            return json.loads(next(iter(client.list_flights())).app_metadata)["files"]

        deadline = time.time() + 60
        while live_files() >= 64 and time.time() < deadline:
            time.sleep(0.2)
        assert live_files() < 64
        assert get(client, "cron").column("i").to_pylist() == list(range(200))
        assert "compacted (default)/cron" in d.logs()
    finally:
        d.stop()


def test_sigterm_during_a_large_put_keeps_old_or_complete_new(daemon):
    client = daemon.client()
    old = pa.table({"i": pa.array(range(10), pa.int64())})
    put(client, "big", old)
    n = 3_000_000
    new = pa.table({"i": pa.array(np.arange(n), pa.int64()), "x": pa.array(np.random.default_rng(1).random(n))})

    started = threading.Event()
    errors = []

    def upload():
        try:
            c = daemon.client()
            writer, reader = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "big", "mode": "replace"})),
                                      new.schema)
            for k, batch in enumerate(new.to_batches(max_chunksize=100_000)):
                writer.write_batch(batch)
                if k == 3:
                    started.set()
            writer.done_writing()
            reader.read()
            writer.close()
        except Exception as e:  # the daemon may refuse or cut the call while stopping
            errors.append(e)
        finally:
            started.set()

    t = threading.Thread(target=upload)
    t.start()
    started.wait()
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=120) == 0, "a graceful stop exits 0"
    t.join()
    daemon.log.close()
    daemon.start()
    got = get(daemon.client(), "big")
    assert got.num_rows in (10, n)
    if got.num_rows == n:
        assert got.equals(new)
    else:
        assert got.equals(old)


def test_import_legacy_directory(tmp_path, daemon):
    legacy = tmp_path / "legacy"
    (legacy / "lab").mkdir(parents=True)
    frames = {
        (None, "sensor_data"): pd.DataFrame({"t": pd.date_range("2024-01-01", periods=50, freq="1s"),
                                             "v": np.arange(50, dtype="float32")}),
        (None, "labels"): pd.DataFrame({"k": pd.Categorical(["a", "b", "a"]), "n": pd.array([1, None, 3], "Int64")}),
        ("lab", "runs"): pd.DataFrame({"run": [1, 2], "ok": [True, False]}).set_index("run"),
    }
    written = {}
    for (bucket, name), df in frames.items():
        path = legacy / (f"{bucket}/{name}.parquet" if bucket else f"{name}.parquet")
        written[(bucket, name)] = pa.Table.from_pandas(df)
        pq.write_table(written[(bucket, name)], path)  # what the original's put did

    listed = cli(daemon, "import-legacy", str(legacy), "--dry-run").stdout.decode().splitlines()
    assert [line.split("\t")[0] for line in listed] == ["labels", "sensor_data", "lab/runs"]
    assert files_under(daemon.bucket_dir) == set()

    out = cli(daemon, "import-legacy", str(legacy)).stderr.decode()
    assert "imported lab/runs: 2 rows" in out
    client = daemon.client()
    for (bucket, name), df in frames.items():
        got = get(client, name, bucket=bucket)
        want = written[(bucket, name)]
        assert got.schema.equals(want.schema, check_metadata=True)
        assert got.equals(want)
        pd.testing.assert_frame_equal(got.to_pandas(), df)

    again = cli(daemon, "import-legacy", str(legacy), check=False)
    assert again.returncode == 1 and "already exists" in again.stderr.decode()


def test_serve_reports_legacy_files(tmp_path):
    bucket_dir = tmp_path / "buckets"
    bucket_dir.mkdir()
    pq.write_table(pa.table({"a": [1]}), bucket_dir / "old.parquet")
    d = Daemon(bucket_dir)
    try:
        assert "shoots import-legacy" in d.logs()
        assert files_under(bucket_dir) == {"old.parquet"}
    finally:
        d.stop()
