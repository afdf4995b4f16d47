"""Queries spread over the daemons of one store (README: Distributed
queries): three real daemons that are each other's peers, on one shared
directory and on the moto S3 store; results compared with the same query
run on one daemon."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from conftest import Daemon, error_info, free_port
from helpers import put, tls_files

SECRET = "a-secret-all-three-daemons-share"

# The benchmark's SQL suite, on columns whose aggregates are exact (integer
# sums; float min and max), so "the same rows" means equal tables.
SUITE = {
    "filter + group by": "SELECT site, count(*) AS n, sum(v) AS total, min(x) AS lo, max(x) AS hi "
                         "FROM t WHERE v > 100 GROUP BY site ORDER BY site",
    "count distinct": "SELECT g, count(DISTINCT v) AS d FROM t GROUP BY g ORDER BY g",
    "join with an aggregated subquery": "SELECT t.site, count(*) AS n FROM t JOIN "
                                        "(SELECT g, max(v) AS top FROM t GROUP BY g) m ON t.g = m.g AND t.v = m.top "
                                        "GROUP BY t.site ORDER BY t.site",
    "window function": "SELECT g, id, rank() OVER (PARTITION BY g ORDER BY v DESC, id) AS r FROM t "
                       "WHERE id % 97 = 0 ORDER BY g, id",
    "top-k": "SELECT id, v FROM t ORDER BY v DESC, id LIMIT 20",
    "approx percentile": "SELECT site, approx_percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50 FROM t "
                         "GROUP BY site ORDER BY site",
}


def same(got, want, label):
    """Equal tables; an approximate aggregate (t-digest) merges its sketches
    in another order when spread, so it agrees within its own error: 1% of
    the value range here, where the exact median differs from either by less."""
    if label == "approx percentile":
        assert got.column("site").equals(want.column("site"))
        assert np.allclose(got.column("p50").to_numpy(), want.column("p50").to_numpy(), atol=10), (got, want)
    else:
        assert got.equals(want), label


def table(rows=300_000, seed=0):
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": pa.array(np.arange(rows, dtype=np.int64)),
        "g": pa.array(np.arange(rows, dtype=np.int64) % 50),
        "v": pa.array(rng.integers(0, 1000, size=rows)),
        "x": rng.random(rows),
        "site": pa.array(rng.choice(["north", "south", "east", "west"], size=rows)),
    })


def query(daemon, sql, mode="on", token=None):
    ticket = {"name": "t", "sql": f"SET shoots.distributed = {mode}; {sql}"}
    options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())]) if token else None
    reader = daemon.client().do_get(flight.Ticket(json.dumps(ticket).encode()), options=options) if options \
        else daemon.client().do_get(flight.Ticket(json.dumps(ticket).encode()))
    return reader.read_all()


def start_cluster(tmp_path, request, store_kind, extra_args=(), secrets=(None, None, None)):
    """Three daemons on one store, each naming the other two as peers."""
    ports = [free_port() for _ in range(3)]
    s3 = request.getfixturevalue("s3_prefix") if store_kind == "s3" else None
    daemons = []
    for k, port in enumerate(ports):
        peers = ",".join(f"grpc://127.0.0.1:{p}" for p in ports if p != port)
        home = tmp_path / f"d{k}"
        home.mkdir()
        args = ["--peers", peers, *extra_args] + (["--secret", secrets[k]] if secrets[k] else [])
        daemons.append(Daemon(home / "buckets", args, s3=s3, port=port, store=None if s3 else str(tmp_path / "store"),
                              cwd=home))
    return daemons


@pytest.fixture(params=["shared directory", "s3"])
def cluster(tmp_path, request):
    daemons = start_cluster(tmp_path, request, "s3" if request.param == "s3" else "local")
    yield daemons
    for d in daemons:
        d.stop()


def test_the_suite_distributed_gives_the_rows_of_one_daemon(cluster):
    coordinator = cluster[0]
    put(coordinator.client(), "t", table())
    for label, sql in SUITE.items():
        alone = query(coordinator, sql, mode="off")
        spread = query(coordinator, sql, mode="on")
        assert alone.num_rows > 0, label
        same(spread, alone, label)
        # Any daemon of the store may coordinate.
        same(query(cluster[2], sql, mode="on"), alone, label)
    for d in cluster:
        assert "running a task of a distributed query" in d.logs(), f"daemon {d.port} ran no task"


def test_explain_shows_the_stages_and_auto_keeps_small_queries_local(cluster):
    coordinator = cluster[0]
    put(coordinator.client(), "t", table(50_000))
    sql = SUITE["filter + group by"]
    plan = "\n".join(query(coordinator, f"EXPLAIN {sql}").column("plan").to_pylist())
    assert "Stage" in plan and "Network" in plan, plan
    assert all(f"127.0.0.1:{d.port}" in plan for d in cluster), plan
    # A scan this small fits one daemon: auto plans it locally.
    local = "\n".join(query(coordinator, f"EXPLAIN {sql}", mode="auto").column("plan").to_pylist())
    assert "Network" not in local, local


def test_a_bad_mode_is_an_invalid_argument(cluster):
    put(cluster[0].client(), "t", table(10))
    with pytest.raises(flight.FlightServerError) as e:
        query(cluster[0], "SELECT 1", mode="sometimes")
    assert error_info(e)["type"] == "InvalidArgumentError"
    assert "shoots.distributed is on, off or auto, not \"sometimes\"" in error_info(e)["message"]


def test_workers_refuse_tasks_without_a_valid_token(tmp_path, request):
    daemons = start_cluster(tmp_path, request, "local", secrets=(SECRET, "another-secret", SECRET))
    try:
        import subprocess
        from conftest import shoots_bin
        token = subprocess.run([shoots_bin(), "token", "create", "--role", "read", "--secret", SECRET],
                               capture_output=True, check=True).stdout.decode().strip()
        admin = subprocess.run([shoots_bin(), "token", "create", "--role", "admin", "--secret", SECRET],
                               capture_output=True, check=True).stdout.decode().strip()
        c = daemons[0].client()
        options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {admin}".encode())])
        t = table(20_000)
        writer, reader = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "t"})), t.schema,
                                  options=options)
        writer.write_table(t)
        writer.done_writing()
        reader.read()
        writer.close()
        # Daemon 1 has another secret: the tokens daemon 0 mints do not open it.
        with pytest.raises(flight.FlightError) as e:
            query(daemons[0], SUITE["filter + group by"], token=token)
        assert "token" in str(e.value).lower(), e.value
        assert "running a task" not in daemons[1].logs()
        # Without it, the two that share a secret work together.
        daemons[1].kill()
        got = query(daemons[0], SUITE["filter + group by"], token=token)
        assert got.equals(query(daemons[0], SUITE["filter + group by"], mode="off", token=token))
        assert "running a task of a distributed query" in daemons[2].logs()
    finally:
        for d in daemons:
            d.stop()


def test_a_worker_killed_mid_query_fails_the_query_clearly_and_the_next_runs_without_it(tmp_path, request):
    daemons = start_cluster(tmp_path, request, "local")
    try:
        coordinator, victim = daemons[0], daemons[1]
        put(coordinator.client(), "t", table(1_000_000))
        slow = "SELECT id, sha256(concat(cast(id AS varchar), site)) AS h FROM t"
        ticket = {"name": "t", "sql": f"SET shoots.distributed = on; {slow}"}
        reader = coordinator.client().do_get(flight.Ticket(json.dumps(ticket).encode()))
        reader.read_chunk()
        victim.kill()
        with pytest.raises(flight.FlightError) as e:
            reader.read_all()
        message = str(e.value)
        assert "worker" in message.lower() and str(victim.port) in message, message
        # The coordinator and the other worker stay up; the next query plans without the dead one.
        sql = SUITE["count distinct"]
        assert query(coordinator, sql).equals(query(coordinator, sql, mode="off"))
        assert query(daemons[2], sql).equals(query(coordinator, sql, mode="off"))
    finally:
        for d in daemons:
            d.stop()


def test_daemons_with_tls_spread_queries_over_tls(tmp_path, request):
    ca, _, tls = tls_files(tmp_path, "127.0.0.1", "localhost")
    tls += ["--peer-ca-file", str(tmp_path / "ca.pem")]
    ports = [free_port() for _ in range(3)]
    daemons = []
    try:
        for k, port in enumerate(ports):
            peers = ",".join(f"grpc+tls://127.0.0.1:{p}" for p in ports if p != port)
            home = tmp_path / f"d{k}"
            home.mkdir()
            daemons.append(Daemon(home / "buckets", ["--peers", peers, *tls], port=port,
                                  store=str(tmp_path / "store"), cwd=home))
        c = flight.FlightClient(f"grpc+tls://127.0.0.1:{ports[0]}", tls_root_certs=ca.cert_pem.bytes())
        t = table(50_000)
        writer, reader = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "t"})), t.schema)
        writer.write_table(t)
        writer.done_writing()
        reader.read()
        writer.close()

        def run(mode):
            ticket = {"name": "t", "sql": f"SET shoots.distributed = {mode}; {SUITE['count distinct']}"}
            return c.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()
        assert run("on").equals(run("off"))
        for d in daemons:
            assert "running a task of a distributed query" in d.logs(), f"daemon {d.port} ran no task"
    finally:
        for d in daemons:
            d.stop()


def test_shoots_sql_and_flight_sql_go_through_it(cluster):
    import adbc_driver_flightsql.dbapi as flight_sql
    from helpers import cli
    coordinator = cluster[0]
    put(coordinator.client(), "t", table(100_000))
    sql = SUITE["count distinct"]
    want = query(coordinator, sql, mode="off")
    before = [d.logs().count("running a task") for d in cluster]
    # The CLI carries the SET to the statement after it.
    out = cli(coordinator, "sql", f"SET shoots.distributed = on; {sql}", "--format", "csv").stdout.decode()
    assert out.splitlines()[1:] == [f"{g},{d}" for g, d in zip(want.column("g").to_pylist(),
                                                                 want.column("d").to_pylist())]
    with flight_sql.connect(f"grpc://127.0.0.1:{coordinator.port}") as conn, conn.cursor() as cur:
        cur.execute(f"SET shoots.distributed = on; {sql}")
        assert cur.fetch_arrow_table().equals(want)
    after = [d.logs().count("running a task") for d in cluster]
    assert all(a > b for a, b in zip(after, before)), (before, after)


def test_changed_rows_read_the_same_spread_and_alone(tmp_path, request):
    """Row groups split by a row delete travel to workers as file ranges;
    rows marked deleted by a scattered upsert keep the query on the
    coordinator, with the same rows."""
    cluster = start_cluster(tmp_path, request, "local", extra_args=["--compact-after", "0"])
    try:
        c = cluster[0].client()
        t = table()
        put(c, "t", t)
        list(c.do_action(flight.Action("delete_rows", json.dumps({"name": "t", "where": "id >= 150000 and id < 190000"}).encode())))
        commits = sorted((tmp_path / "store" / "_default" / "t" / "_log").glob("0*.json"))
        assert any("range" in f for f in json.loads(commits[-1].read_text())["files"])
        for label, sql in SUITE.items():
            same(query(cluster[0], sql, mode="on"), query(cluster[0], sql, mode="off"), label)
        assert "Network" in "\n".join(query(cluster[0], f"EXPLAIN {SUITE['filter + group by']}").column("plan").to_pylist())

        scattered = t.take(pa.array(np.arange(0, t.num_rows, 97)))
        scattered = scattered.set_column(scattered.schema.get_field_index("v"), "v", pa.array(np.full(scattered.num_rows, -5)))
        put(c, "t", scattered, mode="upsert", keys=["id"])
        commits = sorted((tmp_path / "store" / "_default" / "t" / "_log").glob("0*.json"))
        assert any("deleted" in f for f in json.loads(commits[-1].read_text())["files"])
        for label, sql in SUITE.items():
            same(query(cluster[0], sql, mode="on"), query(cluster[0], sql, mode="off"), label)
        plan = "\n".join(query(cluster[0], f"EXPLAIN {SUITE['filter + group by']}").column("plan").to_pylist())
        assert "Network" not in plan, plan
        df = t.to_pandas()
        kept = df[~((df.id >= 150000) & (df.id < 190000)) & (df.id % 97 != 0)]
        got = query(cluster[0], "select count(*) as n, sum(v) as s from t", mode="on").to_pylist()
        assert got == [{"n": len(kept) + scattered.num_rows, "s": int(kept.v.sum()) - 5 * scattered.num_rows}]
    finally:
        for d in cluster:
            d.stop()
