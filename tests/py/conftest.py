"""Fixtures that run the real `shoots serve` binary against a temporary
bucket directory and talk to it with clients nobody here wrote."""

import json
import os
import re
import signal
import subprocess
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

    def __init__(self, bucket_dir: Path, extra_args=(), store=None, env=None, cwd=None):
        """`store` (an s3:// URL, say) replaces `bucket_dir` as the daemon's
        store; `bucket_dir`'s parent still holds the log."""
        self.bucket_dir = bucket_dir
        self.store = store or str(bucket_dir)
        self.extra_args = list(extra_args)
        self.env, self.cwd = env or {}, cwd
        self.proc = None
        self.port = None
        self.log_path = bucket_dir.parent / "daemon.log"
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [shoots_bin(), "serve", "--host", "127.0.0.1", "--port", "0",
             "--bucket-dir", self.store, *self.extra_args],
            stdout=subprocess.PIPE, stderr=self.log, env={**os.environ, "SHOOTS_LOG": "info", **self.env}, cwd=self.cwd,
        )
        line = self.proc.stdout.readline().decode()
        m = re.search(r"listening on grpc(?:\+tls)?://[^:]+:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"daemon did not start: {line!r}\n{self.log_path.read_text()}")
        self.port = int(m.group(1))

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


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path / "buckets")
    yield d
    d.stop()


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
