"""The Python package (`shoots-df`, installed from its wheel into a fresh
venv by scripts/test.sh) against the daemon it bundles."""

import os
import shutil

import pytest

import shoots


def pytest_sessionstart(session):
    # The suite proves the wheel: its binary, not one from the build tree.
    assert "SHOOTS_BIN" not in os.environ, "run without SHOOTS_BIN: the wheel's binary is under test"
    assert shutil.which("cargo") is None, "run with a PATH that has no Rust"


@pytest.fixture
def daemon(tmp_path):
    with shoots.serve(tmp_path / "buckets", http_port=0, log=open(tmp_path / "daemon.log", "w")) as d:
        yield d


@pytest.fixture
def client(daemon):
    with daemon.client() as c:
        yield c


def metric(daemon, name, **labels):
    """One sample of the daemon's /metrics (0 when absent)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"{daemon.http_url}/metrics").read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0


def pytest_sessionfinish(session, exitstatus):
    """A skipped test proves nothing: treat any skip as a failure."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1
