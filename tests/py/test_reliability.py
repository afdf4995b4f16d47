"""Under load and faults (README: "Under load and faults"): a soak with a
checker, a disk that fills up, a reader that stops reading, a writer that
goes silent, idle connections, floods and bad bytes, random request
bodies, and SIGTERM under load."""

import json
import random
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight
import pytest

from conftest import Daemon, error_info, start_daemon
from helpers import action, get, put, sample, tls_files, wait_for
from soak import Soak, rss_bytes

# The tests that take `store_kind` run on a local directory and on S3.
STORES = ("local", "s3")

KNOWN_TYPES = {"FileNotFoundError", "FileExistsError", "BucketNotEmptyError", "InvalidNameError",
               "SchemaMismatchError", "InvalidArgumentError", "DataFusionError", "ShootsIOError"}


def ping(daemon, timeout=30):
    options = flight.FlightCallOptions(timeout=timeout)
    return [r.body.to_pybytes() for r in daemon.client().do_action(flight.Action("ping", b""), options)]


def test_soak_sixty_seconds_sixteen_clients(tmp_path, request, store_kind):
    d = start_daemon(tmp_path, request, store_kind, ["--vacuum-grace", "0s", "--retain-versions", "3"])
    try:
        soak = Soak(d.location, d.proc.pid, clients=16, seconds=60, warmup=30)
        report = soak.run()
        assert report.unexpected == [], report.unexpected[:20]
        assert soak.mismatches() == []
        kinds = report.percentiles()
        for kind in ("append", "replace", "get", "sql", "resample", "ls", "history", "compact", "vacuum"):
            assert kinds[kind][0] > 0, f"no {kind} ran"
        assert report.provoked["get_missing"] > 0 and report.provoked["bad_sql"] > 0
        # No leak: memory and descriptors at the end as after warm-up.
        warm = next(v for t, v in report.rss if t >= soak.warmup)
        assert report.rss[-1][1] <= warm * 1.2, (warm, report.rss[-1][1])
        # Files must not leak at all: once the clients are done, the daemon
        # holds what it held before they started. Sockets are the store
        # client's pool, which may keep about one per client.
        (sockets_before, files_before), (sockets_after, files_after) = report.idle_fds_before, report.idle_fds_after
        assert files_after <= files_before, (files_before, files_after)
        assert sockets_after <= sockets_before + soak.clients, (sockets_before, sockets_after)
        assert d.proc.poll() is None
    finally:
        d.stop()


# ---- a disk that fills up ----------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB file system of its own (tmpfs; the test command runs as root
    where CI does)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, f"cannot mount a small tmpfs (needs root): {done.stderr.decode()}"
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def data_files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.parquet"))


def test_disk_full_put_fails_cleanly_and_the_next_succeeds(tmp_path, small_disk):
    d = Daemon(tmp_path / "buckets", store=str(small_disk), extra_args=["--vacuum-grace", "0s"])
    try:
        c = d.client()
        first = sample(1000)
        put(c, "t", first)
        files_before = data_files(small_disk)
        rng = random.Random(7)
        # Random floats do not compress: 4M of them need 32 MB.
        big = pa.table({"id": pa.array(range(4_000_000), pa.int64()),
                        "x": pa.array([rng.random() for _ in range(4_000_000)])})
        with pytest.raises(flight.FlightServerError) as e:
            put(c, "t", big, mode="replace")
        info = error_info(e)
        assert info["type"] == "ShootsIOError", info
        assert "No space left on device" in info["message"], info
        assert "\n" not in info["message"]
        # The previous version stays, alone, and readable.
        assert get(c, "t").equals(first)
        assert [v["version"] for v in json.loads(action(c, "history", {"name": "t"})[0])] == [1]
        assert data_files(small_disk) == files_before
        # Space comes back: the same put now succeeds, and vacuum leaves only
        # what versions name.
        subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
        put(c, "t", big, mode="replace")
        assert get(c, "t").num_rows == 4_000_000
        action(c, "vacuum", {"name": "t", "retain": 1})
        history = json.loads(action(c, "history", {"name": "t"})[0])
        assert [v["version"] for v in history] == [2]
        assert len(data_files(small_disk)) == history[0]["files"]
        leftovers = [p for p in small_disk.rglob("*") if p.is_file() and "#" in p.name]
        assert leftovers == []
    finally:
        d.stop()


# ---- slow and stuck clients ---------------------------------------------

def test_a_reader_that_stops_reading_holds_little_and_blocks_nobody(tmp_path, request, store_kind):
    d = start_daemon(tmp_path, request, store_kind)
    try:
        c = d.client()
        n = 4_000_000
        table = pa.table({"id": pa.array(range(n), pa.int64()), "x": pa.array(range(n), pa.float64())})
        put(c, "big", table, batch_size=500_000)
        del table
        ping(d)
        before = rss_bytes(d.proc.pid)
        stuck = flight.FlightClient(d.location)
        reader = stuck.do_get(flight.Ticket(json.dumps({"name": "big"}).encode()))
        reader.read_chunk()
        time.sleep(3)  # what the daemon would buffer, it has by now
        held = rss_bytes(d.proc.pid) - before
        # The dataframe is 64 MB of Arrow; a stuck reader costs a few batches.
        assert held < 24 << 20, held
        # Others are served meanwhile.
        other = d.client()
        assert get(other, "big", sql="select count(*) as n from big").to_pydict() == {"n": [n]}
        put(other, "small", sample(5))
        assert ping(d) == [b"pong"]
        stuck.close()
    finally:
        d.stop()


def test_a_put_that_goes_silent_is_cut_off_and_nothing_is_kept(tmp_path, request, store_kind):
    d = start_daemon(tmp_path, request, store_kind, ["--idle-timeout", "2s"])
    try:
        c = d.client()
        writer, reader = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "silent"})), sample(3).schema)
        writer.write_batch(sample(3).to_batches()[0])
        wait_for(lambda: "nothing arrived for 2s" in d.logs(), "the daemon to cut the upload off")
        with pytest.raises(flight.FlightError) as e:
            writer.write_batch(sample(3).to_batches()[0])
            writer.done_writing()
            reader.read()
        assert "nothing arrived for 2s" in str(e.value)
        with pytest.raises(flight.FlightServerError) as e:
            get(d.client(), "silent")
        assert error_info(e)["type"] == "FileNotFoundError"
        assert ping(d) == [b"pong"]
    finally:
        d.stop()


def test_five_hundred_idle_connections_do_not_stop_a_ping(tmp_path):
    d = Daemon(tmp_path / "buckets")
    sockets = []
    try:
        for _ in range(500):
            sockets.append(socket.create_connection(("127.0.0.1", d.port)))
        assert ping(d) == [b"pong"]
        put(d.client(), "t", sample(10))
        assert get(d.client(), "t").num_rows == 10
    finally:
        for s in sockets:
            s.close()
        d.stop()


# ---- floods and bad bytes -------------------------------------------------

def test_connection_floods_and_bad_bytes_are_refused_and_the_next_client_served(tmp_path):
    d = Daemon(tmp_path / "buckets")
    try:
        for _ in range(2000):
            socket.create_connection(("127.0.0.1", d.port)).close()
        rng = random.Random(3)
        for _ in range(50):
            with socket.create_connection(("127.0.0.1", d.port)) as s:
                s.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))))
        with socket.create_connection(("127.0.0.1", d.port), timeout=30) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(1000)  # whatever it answers, it answers and does not hang
        assert ping(d) == [b"pong"]
        # A message bigger than the limit (512 MiB) is refused, typed.
        size = 520 << 20
        huge = pa.table({"blob": pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), 1, [None, pa.py_buffer(pa.array([0, size], pa.int64()).buffers()[1]), pa.allocate_buffer(size)])})
        with pytest.raises(flight.FlightServerError) as e:
            put(d.client(), "huge", huge)
        info = error_info(e)
        assert info["type"] == "InvalidArgumentError", info
        assert info["message"].startswith("a message of the upload is over the 512 MiB limit"), info
        del huge
        assert ping(d) == [b"pong"]
        with pytest.raises(flight.FlightServerError):
            get(d.client(), "huge")
        assert d.proc.poll() is None
    finally:
        d.stop()


def test_half_open_tls_handshakes_do_not_block_real_clients(tmp_path):
    ca, _, tls = tls_files(tmp_path, "localhost", "127.0.0.1")
    d = Daemon(tmp_path / "buckets", extra_args=[*tls, "--http-port", "0"])
    held = []
    try:
        # The first bytes of a ClientHello, and then nothing, on both ports.
        for port in (d.port, int(d.http_url.rsplit(":", 1)[1])):
            for _ in range(100):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
                held.append(s)
        client = flight.FlightClient(f"grpc+tls://localhost:{d.port}", tls_root_certs=ca.cert_pem.bytes())
        options = flight.FlightCallOptions(timeout=30)
        assert [r.body.to_pybytes() for r in client.do_action(flight.Action("ping", b""), options)] == [b"pong"]
        context = ssl.create_default_context()
        ca.configure_trust(context)
        import urllib.request
        with urllib.request.urlopen(d.http_url + "/health", timeout=30, context=context) as r:
            assert r.status == 200
    finally:
        for s in held:
            s.close()
        d.stop()


def random_bodies(rng, n):
    """Arbitrary bytes and arbitrary JSON, some of it shaped like requests."""
    keys = ["name", "bucket", "sql", "version", "mode", "regex", "retain", "source", "target", "rule", "x"]

    def value(depth=0):
        roll = rng.random()
        if depth < 3 and roll < 0.2:
            return {rng.choice(keys): value(depth + 1) for _ in range(rng.randrange(5))}
        if depth < 3 and roll < 0.3:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return rng.choice([None, True, -1, 2**63, 1.5, "", "t", "../x", "a" * 300, "select 1", "\u00e9\x00"])

    for i in range(n):
        if i % 2:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
        else:
            yield json.dumps(value()).encode()


def test_random_request_bodies_get_typed_errors(tmp_path, request, store_kind):
    d = start_daemon(tmp_path, request, store_kind)
    try:
        c = d.client()
        put(c, "t", sample(3))
        rng = random.Random(11)
        kinds = [a.type for a in c.list_actions() if a.type not in ("shutdown",) and not a.type.startswith("Cancel")
                 and not a.type.startswith("Begin") and not a.type.startswith("End") and not a.type.startswith("Create")
                 and not a.type.startswith("Close")]
        calls = [
            ("ticket", lambda b: c.do_get(flight.Ticket(b)).read_all()),
            ("descriptor", lambda b: c.get_flight_info(flight.FlightDescriptor.for_command(b))),
            ("criteria", lambda b: list(c.list_flights(b))),
        ] + [(kind, lambda b, kind=kind: list(c.do_action(flight.Action(kind, b)))) for kind in kinds]
        answered = refused = 0
        for body in random_bodies(rng, 120):
            for what, call in calls:
                try:
                    call(body)
                    answered += 1
                except flight.FlightServerError as e:
                    info = json.loads(e.extra_info)
                    assert info["type"] in KNOWN_TYPES, (what, body, info)
                    assert info["message"] and "\n" not in info["message"], (what, body, info)
                    assert "panick" not in info["message"], (what, body, info)
                    refused += 1
        assert refused > 0
        assert ping(d) == [b"pong"]
        assert get(c, "t").equals(sample(3))
        assert "panicked" not in d.logs() and "internal error" not in d.logs()
    finally:
        d.stop()


# ---- restart under load ----------------------------------------------------

def test_sigterm_while_the_soak_runs_keeps_every_acknowledged_write_and_nothing_else(tmp_path, request, store_kind):
    d = start_daemon(tmp_path, request, store_kind)
    soak = Soak(d.location, d.proc.pid, clients=8, seconds=120)
    runner = threading.Thread(target=soak.run)
    runner.start()
    try:
        wait_for(lambda: len(soak.report.latencies["append"]) >= 100 and len(soak.report.latencies["replace"]) >= 3,
                 "100 appends and 3 replaces under way")
        d.proc.send_signal(signal.SIGTERM)
        soak.stop_at = 0  # each client finishes the request it is in
        assert d.proc.wait(timeout=60) == 0
        runner.join(timeout=120)
        assert not runner.is_alive()
    finally:
        if d.proc.poll() is None:
            d.stop()
    d.start()
    try:
        soak.connect = lambda: flight.FlightClient(d.location)
        # Whatever was acknowledged is there; whatever failed is not.
        assert soak.mismatches() == []
        assert sum(len(ids) for ids in soak.acked.values()) >= 100
    finally:
        d.stop()


# ---- memory pressure --------------------------------------------------------

def test_an_aggregation_bigger_than_the_memory_limit_spills_and_the_daemon_stays_up(tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--memory-limit", "24MiB"])
    try:
        c = d.client()
        n, groups = 3_000_000, 1_000_000
        ids = pa.array(range(n), pa.int64())
        put(c, "big", pa.table({"g": pc.remainder(ids, groups), "x": ids}), batch_size=500_000)
        result = get(c, None, sql="select g, count(*) as n, sum(x) as s from big group by g order by g")
        assert result.num_rows == groups
        assert set(result["n"].to_pylist()) == {n // groups}
        assert result["s"][0].as_py() == sum(range(0, n, groups))
        # It did not fit: the plan's metrics show the spills.
        plan = get(c, None, sql="explain analyze select g, count(*) as n, sum(x) as s from big group by g order by g")
        text = "\n".join(plan.column("plan").to_pylist())
        spills = [int(m) for m in re.findall(r"spill_count=(\d+)", text)]
        assert sum(spills) > 0, text
        assert ping(d) == [b"pong"]
        assert d.proc.poll() is None
    finally:
        d.stop()


def test_vacuums_racing_each_other_and_appends_all_succeed(tmp_path):
    # Two daemons on one directory: the second has none of the first's
    # commits cached, so its vacuums read versions the first's remove. (The
    # default grace: a shorter one would let either delete files of puts
    # the other is writing, which is what the grace is for.)
    d = Daemon(tmp_path / "buckets")
    other = Daemon(tmp_path / "other", store=str(tmp_path / "buckets"))
    try:
        c = d.client()
        put(c, "log", sample(1))
        errors, stop = [], threading.Event()

        def vacuum(daemon, seed):
            client, rng = daemon.client(), random.Random(seed)
            while not stop.is_set():
                try:
                    action(client, "vacuum", {"name": "log", "retain": rng.randrange(1, 4)})
                except flight.FlightError as e:
                    errors.append(str(e))

        threads = [threading.Thread(target=vacuum, args=(daemon, i)) for i, daemon in enumerate([d, other] * 3)]
        for t in threads:
            t.start()
        for i in range(1, 400):
            put(c, "log", sample(1, offset=i), mode="append")
        stop.set()
        for t in threads:
            t.join()
        assert errors == [], errors[:5]
        assert get(c, "log")["id"].to_pylist() == list(range(400))
        assert get(other.client(), "log")["id"].to_pylist() == list(range(400))
    finally:
        other.stop()
        d.stop()
