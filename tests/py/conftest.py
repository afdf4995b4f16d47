"""Fixtures that run the real `shoots serve` binary against a temporary
bucket directory and talk to it with clients nobody here wrote."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.flight as flight
import pytest


def shoots_bin() -> str:
    explicit = os.environ.get("SHOOTS_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/shoots/target")
    return str(Path(target) / "debug" / "shoots")


class Daemon:
    """A running `shoots serve`; `restart()` keeps the bucket directory."""

    def __init__(self, bucket_dir: Path, extra_args=(), s3=None, env=None, cwd=None, store=None, port=0):
        """With `s3` (an `S3Prefix`) the daemon's store is that prefix on the
        test S3 server instead of `bucket_dir`, whose parent still holds the
        log; `store` names a store outright, with no settings for it."""
        self.bucket_dir = bucket_dir
        self.s3 = s3
        self.store = store or (s3.url if s3 else str(bucket_dir))
        self.extra_args = list(extra_args)
        self.env, self.cwd = {**(s3.env() if s3 else {}), **(env or {})}, cwd
        self.proc = None
        self.fixed_port, self.port = port, None
        self.log_path = bucket_dir.parent / "daemon.log"
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [shoots_bin(), "serve", "--host", "127.0.0.1", "--port", str(self.fixed_port),
             "--bucket-dir", self.store, *self.extra_args],
            stdout=subprocess.PIPE, stderr=self.log, env={**os.environ, "SHOOTS_LOG": "info", **self.env}, cwd=self.cwd,
        )
        line = self.proc.stdout.readline().decode()
        m = re.search(r"listening on grpc(?:\+tls)?://[^:]+:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"daemon did not start: {line!r}\n{self.log_path.read_text()}")
        self.port = int(m.group(1))
        web = re.search(r"console on (https?)://[^:/]+:(\d+)/", line)
        self.http_url = f"{web.group(1)}://127.0.0.1:{web.group(2)}" if web else None
        pg = re.search(r"postgres on [^:]+:(\d+)", line)
        self.pg_port = int(pg.group(1)) if pg else None

    @property
    def location(self) -> str:
        return f"grpc://127.0.0.1:{self.port}"

    def client(self) -> flight.FlightClient:
        return flight.FlightClient(self.location)

    def kill(self):
        """SIGKILL: no chance to clean up."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()

    def restart(self):
        self.stop()
        self.start()

    def logs(self) -> str:
        return self.log_path.read_text()

    def files(self) -> set:
        """Every object in the daemon's store, by its path in the store."""
        return self.s3.keys() if self.s3 else files_under(self.bucket_dir)

    def read(self, path: str) -> bytes:
        """An object of the store, read behind the daemon's back."""
        if self.s3:
            return self.s3.client().get_object(Bucket=self.s3.bucket, Key=f"{self.s3.prefix}/{path}")["Body"].read()
        return (self.bucket_dir / path).read_bytes()

    def write(self, path: str, data: bytes):
        """Overwrites an object of the store behind the daemon's back."""
        if self.s3:
            self.s3.client().put_object(Bucket=self.s3.bucket, Key=f"{self.s3.prefix}/{path}", Body=data)
        else:
            (self.bucket_dir / path).write_bytes(data)


# ---- a real S3 server on loopback ------------------------------------------

S3_BUCKET = "shoots-test"

# moto's S3, one request at a time so that its conditional PUT is atomic, as
# on AWS. `sys.argv[2]` > 0 turns moto's access checks on after that many
# unchecked requests (0: every key is refused).
MOTO = """
import os, sys
if int(sys.argv[2]) >= 0:
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = sys.argv[2]
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """moto's S3 server in a process of its own, on a free loopback port."""

    def __init__(self, checked_after=-1):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-c", MOTO, str(self.port), str(checked_after)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("moto's S3 server did not start")

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="test",
                            aws_secret_access_key="test", region_name="us-east-1")

    def env(self, **changes):
        env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": self.endpoint, "AWS_ALLOW_HTTP": "true"}
        return {**env, **changes}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class S3Prefix:
    """One test's prefix of the test bucket: `s3://shoots-test/<prefix>`."""

    def __init__(self, server: S3Server, prefix: str):
        self.server, self.bucket, self.prefix = server, S3_BUCKET, prefix
        self.url = f"s3://{S3_BUCKET}/{prefix}"
        client = server.client()
        try:
            client.create_bucket(Bucket=S3_BUCKET)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass

    def client(self):
        return self.server.client()

    def env(self):
        return self.server.env()

    def keys(self) -> set:
        keys, token = set(), None
        while True:
            more = {"ContinuationToken": token} if token else {}
            listed = self.client().list_objects_v2(Bucket=self.bucket, Prefix=self.prefix + "/", **more)
            keys.update(o["Key"][len(self.prefix) + 1:] for o in listed.get("Contents", []))
            token = listed.get("NextContinuationToken")
            if not token:
                return keys


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def s3_prefix(s3_server, tmp_path):
    return S3Prefix(s3_server, tmp_path.name)


# ---- the daemon every suite talks to -----------------------------------------

@pytest.fixture
def store_kind():
    """Where `daemon` keeps its buckets; a module with `STORES = ("local",
    "s3")` runs each of its tests on both (see pytest_generate_tests)."""
    return "local"


def pytest_generate_tests(metafunc):
    stores = getattr(metafunc.module, "STORES", None)
    if stores and "store_kind" in metafunc.fixturenames:
        metafunc.parametrize("store_kind", stores)


def start_daemon(tmp_path, request, store_kind, extra_args=()):
    """A daemon on a directory under `tmp_path`, or on a fresh S3 prefix,
    started in an empty working directory (nothing may land there)."""
    if store_kind == "s3":
        s3 = request.getfixturevalue("s3_prefix")
        workdir = tmp_path / "workdir"
        workdir.mkdir(exist_ok=True)
        return Daemon(tmp_path / "buckets", extra_args, s3=s3, cwd=workdir)
    return Daemon(tmp_path / "buckets", extra_args)


@pytest.fixture
def daemon(tmp_path, request, store_kind):
    d = start_daemon(tmp_path, request, store_kind)
    yield d
    d.stop()
    if store_kind == "s3":
        assert os.listdir(tmp_path / "workdir") == [], "nothing under the daemon's working directory"


@pytest.fixture
def client(daemon):
    c = daemon.client()
    yield c
    c.close()


def error_info(excinfo) -> dict:
    """The `{"type", "message"}` a FlightServerError carries in extra_info."""
    raw = excinfo.value.extra_info
    assert raw, f"no extra_info on {excinfo.value!r}"
    return json.loads(raw)


def files_under(path: Path) -> set:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


def pytest_sessionfinish(session, exitstatus):
    """A skipped test proves nothing: treat any skip as a failure."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1
