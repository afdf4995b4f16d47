"""Buckets on S3 (README: Storage on S3): a real S3 server on loopback
(moto's, serving one request at a time so that its conditional PUT is
atomic, as on AWS), the real daemon, pyarrow and the original client."""

import os
import socket
import subprocess
import sys
import threading
import time

import boto3
import pyarrow as pa
import pytest
from shoots import PutMode, ShootsClient

from conftest import Daemon, shoots_bin
from helpers import action, get, put, sample

BUCKET = "shoots-test"

MOTO = """
import sys
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", MOTO, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("moto's S3 server did not start")
    yield endpoint
    proc.terminate()
    proc.wait(timeout=30)


def aws_env(endpoint, **changes):
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true"}
    env.update(changes)
    return env


def s3_client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                        region_name="us-east-1")


@pytest.fixture
def store(s3_server, tmp_path):
    """A fresh prefix of the S3 bucket for each test."""
    client = s3_client(s3_server)
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    prefix = tmp_path.name
    return s3_server, f"s3://{BUCKET}/{prefix}", prefix


def s3_daemon(store, tmp_path, name="d"):
    """A daemon on the S3 store, started in an empty directory of its own."""
    endpoint, url, _ = store
    workdir, logs = tmp_path / name, tmp_path / f"{name}-log"
    workdir.mkdir()
    logs.mkdir()
    return Daemon(logs / "unused", store=url, env=aws_env(endpoint), cwd=workdir)


def keys(endpoint, prefix):
    listed = s3_client(endpoint).list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    return [o["Key"][len(prefix) + 1:] for o in listed.get("Contents", [])]


def test_dataframes_live_on_s3_and_round_trip(store, tmp_path):
    endpoint, _, prefix = store
    d = s3_daemon(store, tmp_path)
    try:
        c = d.client()
        put(c, "frame", sample(100))
        put(c, "frame", sample(10, offset=100), mode="append")
        put(c, "other", sample(5), bucket="lab")
        assert get(c, "frame").equals(pa.concat_tables([sample(100), sample(10, offset=100)]).combine_chunks())
        assert get(c, "frame", version=1).equals(sample(100))
        assert action(c, "buckets") == ['["lab"]']
        names = keys(endpoint, prefix)
        assert "_default/frame/_log/00000000000000000002.json" in names
        assert "lab/_bucket" in names and any(n.startswith("lab/other/data/") for n in names)
        assert not any(n.startswith("_store_check") for n in names), "the start-up probe cleans up"
        assert os.listdir(tmp_path / "d") == [], "nothing under the daemon's working directory"

        original = ShootsClient("127.0.0.1", d.port)
        frame = sample(20).to_pandas()
        original.put("from_pandas", dataframe=frame, mode=PutMode.REPLACE)
        assert original.get("from_pandas").equals(frame)
        assert len(original.get("frame", sql="select * from frame where id >= 100")) == 10
    finally:
        d.stop()


def test_two_daemons_on_one_store_see_each_others_commits(store, tmp_path):
    first, second = s3_daemon(store, tmp_path, "a"), s3_daemon(store, tmp_path, "b")
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

        threads = [threading.Thread(target=append, args=(d, k)) for k, d in enumerate([first, second] * 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        got = get(first.client(), "shared").column("id").to_pylist()
        assert sorted(got) == list(range(180))
        history = [h["version"] for h in __import__("json").loads(action(second.client(), "history",
                                                                          {"name": "shared"})[0])]
        assert history == list(range(1, 20))
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize("problem", ["no such bucket", "unreachable endpoint"])
def test_bad_store_settings_fail_at_start_in_one_line(s3_server, tmp_path, problem):
    endpoint, url = s3_server, "s3://no-such-bucket/x"
    if problem == "unreachable endpoint":
        endpoint, url = f"http://127.0.0.1:{free_port()}", f"s3://{BUCKET}/x"
    started = time.time()
    run = subprocess.run([shoots_bin(), "serve", "--port", "0", "--bucket-dir", url], capture_output=True,
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **aws_env(endpoint)}, timeout=60,
                         cwd=tmp_path)
    assert run.returncode == 1, run
    lines = run.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shoots: error: cannot use the store"), lines
    assert url in lines[0]
    assert time.time() - started < 30
    assert os.listdir(tmp_path) == []
