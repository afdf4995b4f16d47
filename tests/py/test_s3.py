"""Buckets on S3, many daemons on one store (README: Storage on S3): a real
S3 server on loopback (moto's, see conftest), the real daemons, pyarrow and
the original client. The suites with `STORES = ("local", "s3")` run whole on
S3 as well; this file holds what only S3 and several daemons can show."""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight
import pytest
from shoots import PutMode, ShootsClient

from conftest import S3_BUCKET, Daemon, S3Server, free_port, shoots_bin
from helpers import action, cli, get, put, sample, wait_for


def s3_daemon(s3_prefix, tmp_path, name="d", extra_args=()):
    """A daemon on the S3 prefix, started in an empty directory of its own."""
    workdir, logs = tmp_path / name, tmp_path / f"{name}-log"
    workdir.mkdir()
    logs.mkdir()
    return Daemon(logs / "unused", extra_args, s3=s3_prefix, cwd=workdir)


def noisy(rows, seed=0):
    """Rows that do not compress, so that a put reaches S3 in several parts."""
    rng = np.random.default_rng(seed)
    return pa.table({"id": pa.array(np.arange(rows, dtype=np.int64)), "x": rng.random(rows)})


def uploads(s3_prefix):
    """Multipart uploads begun and neither completed nor aborted."""
    listed = s3_prefix.client().list_multipart_uploads(Bucket=S3_BUCKET, Prefix=s3_prefix.prefix + "/")
    return listed.get("Uploads", [])



def test_dataframes_live_on_s3_and_round_trip(s3_prefix, tmp_path):
    d = s3_daemon(s3_prefix, tmp_path)
    try:
        c = d.client()
        put(c, "frame", sample(100))
        put(c, "frame", sample(10, offset=100), mode="append")
        put(c, "other", sample(5), bucket="lab")
        assert get(c, "frame").equals(pa.concat_tables([sample(100), sample(10, offset=100)]).combine_chunks())
        assert get(c, "frame", version=1).equals(sample(100))
        assert action(c, "buckets") == ['["lab"]']
        names = s3_prefix.keys()
        assert "_default/frame/_log/00000000000000000002.json" in names
        assert "lab/_bucket" in names and any(n.startswith("lab/other/data/") for n in names)
        assert not any(n.startswith("_store_check") for n in names), "the start-up probe cleans up"
        assert os.listdir(tmp_path / "d") == [], "nothing under the daemon's working directory"
        assert json.loads(action(c, "stats")[0])["store"] == s3_prefix.url

        original = ShootsClient("127.0.0.1", d.port)
        frame = sample(20).to_pandas()
        original.put("from_pandas", dataframe=frame, mode=PutMode.REPLACE)
        assert original.get("from_pandas").equals(frame)
        assert len(original.get("frame", sql="select * from frame where id >= 100")) == 10
    finally:
        d.stop()


def test_two_daemons_on_one_store_see_each_others_commits(s3_prefix, tmp_path):
    # Every version stays in the log, to be counted.
    keep = ["--retain-versions", "1000"]
    first, second = s3_daemon(s3_prefix, tmp_path, "a", keep), s3_daemon(s3_prefix, tmp_path, "b", keep)
    try:
        put(first.client(), "shared", sample(10).slice(0, 0))
        assert get(second.client(), "shared").num_rows == 0
        errors = []

        def append(daemon, k):
            try:
                for i in range(3):
                    put(daemon.client(), "shared", sample(10, offset=(k * 3 + i) * 10), mode="append")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        # 3 writers on each daemon, all at once.
        threads = [threading.Thread(target=append, args=(d, k)) for k, d in enumerate([first, second] * 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        got = get(first.client(), "shared").column("id").to_pylist()
        assert sorted(got) == list(range(180))
        history = json.loads(action(second.client(), "history", {"name": "shared"})[0])
        # 18 appends, and whatever background compactions ran between them.
        assert [h["version"] for h in history] == list(range(1, len(history) + 1))
        assert [h["operation"] for h in history].count("append") == 18
        # A commit acknowledged by one is seen by the next call to the other.
        for k in range(3):
            put(second.client(), "shared", sample(1, offset=1000 + k), mode="append")
            assert get(first.client(), "shared").num_rows == 181 + k
    finally:
        first.stop()
        second.stop()


def test_vacuum_on_one_daemon_while_another_streams_a_get(s3_prefix, tmp_path):
    reader_daemon, vacuumer = s3_daemon(s3_prefix, tmp_path, "a"), s3_daemon(s3_prefix, tmp_path, "b")
    try:
        big = noisy(1_000_000)
        put(vacuumer.client(), "frame", big)
        old_files = {k for k in s3_prefix.keys() if k.startswith("_default/frame/data/")}
        reader = reader_daemon.client().do_get(flight.Ticket(json.dumps({"name": "frame"}).encode()))
        first = reader.read_chunk().data

        # Version 1 goes on the other daemon, which cannot know of this read.
        put(vacuumer.client(), "frame", sample(3), mode="replace")
        out = cli(vacuumer, "vacuum", "frame", "--retain", "1").stderr.decode()
        assert "removed 1 versions, 0 files; 1 more files go after the daemon's --vacuum-grace" in out, out
        gone = cli(vacuumer, "get", "frame", "--version", "1", check=False)
        assert gone.returncode == 1 and "no version 1" in gone.stderr.decode()

        got = pa.Table.from_batches([first, *reader.read_all().to_batches()])
        assert got.num_rows == big.num_rows and got.equals(big.combine_chunks())
        assert old_files <= s3_prefix.keys(), "the grace period keeps the old version's file"
    finally:
        reader_daemon.stop()
        vacuumer.stop()

    # Once the grace period is over (none, here), the file goes.
    impatient = s3_daemon(s3_prefix, tmp_path, "c", extra_args=["--vacuum-grace", "0s"])
    try:
        out = cli(impatient, "vacuum", "frame", "--retain", "1").stderr.decode()
        assert "removed 0 versions, 1 files" in out, out
        assert not old_files & s3_prefix.keys()
        assert get(impatient.client(), "frame").equals(sample(3))
    finally:
        impatient.stop()


def start_put(daemon, table, batch_rows=100_000, stop=None):
    """A put of `table` in the background, batch by batch; with `stop`, it
    keeps writing (never finishing) until `stop` is set."""
    outcome = {}

    def run():
        try:
            cmd = json.dumps({"name": "frame", "mode": "replace"})
            writer, _ = daemon.client().do_put(flight.FlightDescriptor.for_command(cmd), table.schema)
            while True:
                writer.write_table(table, max_chunksize=batch_rows)
                if stop is None or stop.is_set():
                    break
            if stop is None:
                writer.close()
        except Exception as e:  # noqa: BLE001 - the daemon was killed under it
            outcome["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_kill_9_in_the_middle_of_a_put_on_s3(s3_prefix, tmp_path):
    d = s3_daemon(s3_prefix, tmp_path)
    try:
        original = sample(1000)
        put(d.client(), "frame", original)
        before = s3_prefix.keys()
        stop = threading.Event()
        thread, _ = start_put(d, noisy(500_000, seed=1), stop=stop)
        # Under way: its data are going up in parts.
        wait_for(lambda: uploads(s3_prefix), "the put's multipart upload begins", timeout=120)
        d.kill()
        stop.set()
        thread.join()

        d.start()
        c = d.client()
        assert get(c, "frame").equals(original)
        assert [h["version"] for h in json.loads(action(c, "history", {"name": "frame"})[0])] == [1]
        assert s3_prefix.keys() == before, "nothing visible was added"
        put(c, "frame", sample(5, offset=1000), mode="append")
        assert get(c, "frame").num_rows == 1005
    finally:
        d.stop()


DISCONNECTING_CLIENT = r"""
import json, os, sys, time
import numpy as np, pyarrow as pa, pyarrow.flight as flight
port, marker = int(sys.argv[1]), sys.argv[2]
c = flight.FlightClient(f"grpc://127.0.0.1:{port}")
t = pa.table({"id": np.arange(200_000, dtype=np.int64), "x": np.random.default_rng(2).random(200_000)})
w, _ = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "frame", "mode": "replace"})), t.schema)
while not os.path.exists(marker):
    w.write_table(t)
os._exit(1)  # vanish mid-upload, no goodbye
"""


def test_a_put_cut_off_by_its_client_leaves_no_data_and_no_parts_on_s3(s3_prefix, tmp_path):
    d = s3_daemon(s3_prefix, tmp_path)
    try:
        original = sample(1000)
        put(d.client(), "frame", original)
        before = s3_prefix.keys()
        marker = tmp_path / "parts-uploaded"
        client = subprocess.Popen([sys.executable, "-c", DISCONNECTING_CLIENT, str(d.port), str(marker)])
        wait_for(lambda: uploads(s3_prefix), "the put's multipart upload begins", timeout=120)
        marker.touch()
        assert client.wait(timeout=60) == 1
        # The daemon aborts the upload: its parts go, nothing is committed.
        wait_for(lambda: not uploads(s3_prefix), "the cut-off put's upload is aborted", timeout=120)
        assert s3_prefix.keys() == before
        assert get(d.client(), "frame").equals(original)
    finally:
        d.stop()


def test_a_large_put_streams_to_s3_in_parts(s3_prefix, tmp_path):
    d = s3_daemon(s3_prefix, tmp_path)
    try:
        big = noisy(2_000_000, seed=3)
        before = json.loads(action(d.client(), "stats")[0])["store_requests"]
        put(d.client(), "frame", big, batch_size=100_000)
        after = json.loads(action(d.client(), "stats")[0])["store_requests"]
        assert after["put_part"] - before["put_part"] >= 2, (before, after)
        assert get(d.client(), "frame").equals(big.combine_chunks())
    finally:
        d.stop()


def test_keys_region_and_endpoint_from_a_named_profile(s3_prefix, tmp_path):
    """No AWS_* keys, region or endpoint in the environment: all from the
    profile `AWS_PROFILE` names, as the AWS CLI would take them."""
    aws = tmp_path / "home" / ".aws"
    aws.mkdir(parents=True)
    (aws / "credentials").write_text("[default]\naws_access_key_id = nope\n\n"
                                     "[lab]\naws_access_key_id = test\naws_secret_access_key = test\n")
    (aws / "config").write_text(f"[profile lab]\nregion = us-east-1\nendpoint_url = {s3_prefix.server.endpoint}\n")
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    env = {"HOME": str(tmp_path / "home"), "AWS_PROFILE": "lab", "AWS_ALLOW_HTTP": "true"}
    settings = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")
    assert not any(k in os.environ for k in settings)
    d = Daemon(tmp_path / "buckets", store=s3_prefix.url, env=env, cwd=workdir)
    try:
        put(d.client(), "frame", sample(10))
        assert get(d.client(), "frame").equals(sample(10))
        assert any(k.startswith("_default/frame/_log/") for k in s3_prefix.keys())
    finally:
        d.stop()


def serve_and_fail(tmp_path, url, env):
    """`shoots serve` that must fail at start: its return code and stderr lines."""
    started = time.time()
    run = subprocess.run([shoots_bin(), "serve", "--port", "0", "--bucket-dir", url], capture_output=True,
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}, timeout=60, cwd=tmp_path)
    return run, run.stderr.decode().strip().splitlines(), time.time() - started


@pytest.fixture(scope="module")
def checking_s3_server():
    """An S3 server that checks access keys (moto's IAM): ours are unknown."""
    server = S3Server(checked_after=0)
    yield server
    server.stop()


@pytest.mark.parametrize("problem", ["no such bucket", "unreachable endpoint", "wrong key"])
def test_bad_store_settings_fail_at_start_in_one_line(s3_server, checking_s3_server, tmp_path, problem):
    server, url = s3_server, "s3://no-such-bucket/x"
    env = server.env()
    if problem == "unreachable endpoint":
        env, url = server.env(AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}"), f"s3://{S3_BUCKET}/x"
    if problem == "wrong key":
        env, url = checking_s3_server.env(AWS_SECRET_ACCESS_KEY="wrong"), f"s3://{S3_BUCKET}/x"
    run, lines, took = serve_and_fail(tmp_path, url, env)
    assert run.returncode == 1, run
    assert len(lines) == 1 and lines[0].startswith("shoots: error: cannot use the store"), lines
    assert url in lines[0]
    cause = {"no such bucket": ": no such bucket (NoSuchBucket: The specified bucket does not exist)",
             "unreachable endpoint": ": endpoint unreachable (HTTP error: error sending request",
             "wrong key": ": access denied (InvalidAccessKeyId: "}[problem]
    assert f"{url}{cause}" in lines[0], lines
    assert took < 30
    assert os.listdir(tmp_path) == []
