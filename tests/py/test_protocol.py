"""The README's wire protocol with pyarrow's own FlightClient: every call, every error type."""

import json

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from conftest import error_info, files_under
from helpers import action, get, put, sample

# Each test runs on a local bucket directory and on S3 (conftest).
STORES = ("local", "s3")


def test_ping_and_list_actions(client):
    assert action(client, "ping") == ["pong"]
    listed = {a.type: a.description for a in client.list_actions()}
    # The JSON dialect's actions, and Flight SQL's beside them.
    assert set(listed) == {"ping", "buckets", "delete", "delete_bucket", "resample", "shutdown", "history", "compact",
                           "vacuum", "stats", "delete_rows", "set_retention", "create_snapshot", "snapshots",
                           "delete_snapshot", "CreatePreparedStatement",
                           "ClosePreparedStatement"}
    assert all(listed.values())


def test_stats_counts_store_requests_by_kind(client, daemon):
    def stats():
        return json.loads(action(client, "stats")[0])

    before = stats()
    assert before["store"] == daemon.store and before["uptime_s"] >= 0
    assert set(before["store_requests"]) == {"get", "head", "put", "put_part", "list", "delete", "copy"}
    put(client, "frame", sample(10))
    get(client, "frame")
    after = stats()["store_requests"]
    assert after["put"] > before["store_requests"]["put"]
    assert after["get"] > before["store_requests"]["get"] and after["list"] > before["store_requests"]["list"]


def test_put_get_modes(client):
    t = sample(10)
    meta = put(client, "frame", t)
    assert meta == {"version": 1, "rows": 10}
    assert get(client, "frame").equals(t)
    put(client, "frame", sample(5, offset=10), mode="append")
    assert get(client, "frame").equals(pa.concat_tables([t, sample(5, offset=10)]))
    put(client, "frame", sample(3, offset=100), mode="replace")
    assert get(client, "frame").equals(sample(3, offset=100))


def test_put_in_small_batches_keeps_order(client):
    t = sample(12345)
    put(client, "frame", t, batch_size=1000)
    assert get(client, "frame").equals(t)


def test_empty_table_round_trips_with_schema(client):
    t = sample(0)
    put(client, "empty", t)
    got = get(client, "empty")
    assert got.num_rows == 0 and got.schema.equals(t.schema)


def test_do_get_with_sql_sees_the_bucket(client):
    put(client, "a", sample(10), bucket="b1")
    put(client, "other", pa.table({"id": [1, 2, 3], "label": ["one", "two", "three"]}), bucket="b1")
    got = get(client, "a", bucket="b1", sql="select id from a where id >= 8 order by id")
    assert got.column("id").to_pylist() == [8, 9]
    joined = get(client, "a", bucket="b1",
                 sql="select a.id, other.label from a join other on a.id = other.id order by a.id")
    assert joined.column("label").to_pylist() == ["one", "two", "three"]


def test_list_flights(client):
    put(client, "alpha", sample(10))
    put(client, "beta", sample(20))
    put(client, "gamma", sample(5), bucket="other")
    infos = {i.descriptor.path[0].decode(): i for i in client.list_flights()}
    assert set(infos) == {"alpha", "beta"}
    assert infos["beta"].total_records == 20
    assert infos["beta"].total_bytes > 0
    assert infos["beta"].schema.equals(sample(1).schema)
    # The endpoint's ticket gets the dataframe.
    ticket = infos["alpha"].endpoints[0].ticket
    assert client.do_get(ticket).read_all().equals(sample(10))
    # Original criteria form, with and without regex.
    crit = lambda **kw: json.dumps({"bucket": None, "regex": None, **kw}).encode()
    assert {i.descriptor.path[0].decode() for i in client.list_flights(crit())} == {"alpha", "beta"}
    assert [i.descriptor.path[0].decode() for i in client.list_flights(crit(regex="^b"))] == ["beta"]
    assert [i.descriptor.path[0].decode() for i in client.list_flights(crit(bucket="other"))] == ["gamma"]


def test_flight_info_and_schema(client):
    put(client, "frame", sample(7))
    put(client, "frame", sample(4), bucket="b")
    info = client.get_flight_info(flight.FlightDescriptor.for_path("frame"))
    assert info.total_records == 7 and info.schema.equals(sample(1).schema)
    info = client.get_flight_info(flight.FlightDescriptor.for_path("b", "frame"))
    assert info.total_records == 4
    cmd = flight.FlightDescriptor.for_command(json.dumps({"name": "frame", "bucket": "b"}))
    assert client.get_flight_info(cmd).total_records == 4
    assert client.get_schema(flight.FlightDescriptor.for_path("frame")).schema.equals(sample(1).schema)
    q = flight.FlightDescriptor.for_command(json.dumps({"name": "frame", "bucket": None,
                                                        "sql": "select id * 2 as double_id from frame"}))
    schema = client.get_schema(q).schema
    assert schema.names == ["double_id"]
    info = client.get_flight_info(q)
    assert client.do_get(info.endpoints[0].ticket).read_all().column("double_id").to_pylist()[:3] == [0, 2, 4]


def test_buckets_delete_and_delete_bucket(client, daemon):
    assert json.loads(action(client, "buckets", {})[0]) == []
    put(client, "x", sample(3), bucket="b1")
    put(client, "y", sample(3), bucket="b2")
    put(client, "z", sample(3))
    assert json.loads(action(client, "buckets", {})[0]) == ["b1", "b2"]

    reply = json.loads(action(client, "delete", {"name": "z", "bucket": None})[0])
    assert reply == {"success": True, "message": "deleted z"}
    assert list(client.list_flights()) == []

    with pytest.raises(flight.FlightServerError) as e:
        action(client, "delete_bucket", {"name": "b1", "mode": "error"})
    assert error_info(e)["type"] == "BucketNotEmptyError"
    assert get(client, "x", bucket="b1").num_rows == 3

    reply = json.loads(action(client, "delete_bucket", {"name": "b1", "mode": "delete"})[0])
    assert reply == {"message": "bucket b1 deleted"}
    action(client, "delete", {"name": "y", "bucket": "b2"})
    # An empty bucket goes with mode error.
    action(client, "delete_bucket", {"name": "b2", "mode": "error"})
    assert json.loads(action(client, "buckets", {})[0]) == []
    assert daemon.files() == set()


def test_shutdown_action_stops_the_daemon(daemon, client):
    assert action(client, "shutdown", {}) == ['["shutdown command received"]']
    assert daemon.proc.wait(timeout=60) == 0


def test_request_log_has_a_line_per_request(daemon, client):
    put(client, "frame", sample(3))
    get(client, "frame")
    action(client, "ping")
    logs = daemon.logs()
    assert "DoPut" in logs and "DoGet" in logs and "DoAction" in logs


# ---- errors: type, message, and nothing written ----------------------------

def expect_error(kind, fn, *args, **kwargs):
    with pytest.raises(flight.FlightServerError) as e:
        fn(*args, **kwargs)
    info = error_info(e)
    assert info["type"] == kind, info
    assert info["message"]
    assert kind in str(e.value)
    return info["message"]


def expect_schema_error(kind, descriptor, client):
    """pyarrow's get_schema checks the status without Flight details, so any
    server's error reaches it as a plain ArrowException; the type is in the
    message."""
    with pytest.raises(pa.ArrowException) as e:
        client.get_schema(descriptor)
    assert f"{kind}: " in str(e.value)


def test_not_found_errors(client):
    msg = expect_error("FileNotFoundError", get, client, "nope")
    assert "nope" in msg
    expect_error("FileNotFoundError", get, client, "nope", bucket="nobucket")
    expect_error("FileNotFoundError", action, client, "delete", {"name": "nope", "bucket": None})
    expect_error("FileNotFoundError", action, client, "delete_bucket", {"name": "nobucket", "mode": "error"})
    expect_error("FileNotFoundError", lambda: list(client.list_flights(json.dumps({"bucket": "nobucket"}).encode())))
    expect_error("FileNotFoundError", client.get_flight_info, flight.FlightDescriptor.for_path("nope"))
    expect_schema_error("FileNotFoundError", flight.FlightDescriptor.for_path("b", "nope"), client)
    expect_error("FileNotFoundError", get, client, "nope", version=3)


def test_exists_error_leaves_the_data(client, daemon):
    put(client, "frame", sample(10))
    before = daemon.files()
    msg = expect_error("FileExistsError", put, client, "frame", sample(99))
    assert "frame" in msg
    msg = expect_error("FileExistsError", put, client, "frame", sample(99), mode="error")
    assert get(client, "frame").equals(sample(10))
    assert daemon.files() == before


def test_schema_mismatch_on_append_writes_nothing(client, daemon):
    put(client, "frame", sample(10))
    before = daemon.files()
    other = pa.table({"id": pa.array([1], pa.int32()), "x": [1.0]})
    msg = expect_error("SchemaMismatchError", put, client, "frame", other, mode="append")
    assert msg == ('cannot append to dataframe frame: column "id" is Int64 in the dataframe but Int32 in the data'
                   ' (--schema merge allows new columns and wider types)')

    renamed = pa.table({"ident": pa.array([1], pa.int64()), "x": [1.0]})
    msg = expect_error("SchemaMismatchError", put, client, "frame", renamed, mode="append")
    assert "['id', 'x']" not in msg and '["id", "x"]' in msg
    assert get(client, "frame").equals(sample(10))
    assert daemon.files() == before


def test_datafusion_errors(client):
    put(client, "frame", sample(10))
    expect_error("DataFusionError", get, client, "frame", sql="selec nonsense")
    expect_error("DataFusionError", get, client, "frame", sql="select no_such_column from frame")
    expect_error("DataFusionError", get, client, "frame", sql="select * from no_such_table")


def test_sql_is_read_only(client, tmp_path):
    put(client, "frame", sample(10))
    target = tmp_path / "copied.parquet"
    for sql in [f"COPY frame TO '{target}'", "UPDATE frame SET x = 1", "DROP TABLE frame",
                f"CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
                "CREATE TABLE t AS SELECT 1", "SET datafusion.execution.batch_size = 1"]:
        expect_error("DataFusionError", get, client, "frame", sql=sql)
    assert not target.exists()
    assert get(client, "frame").equals(sample(10))


def test_invalid_argument_errors(client, daemon):
    before = daemon.files()
    expect_error("InvalidArgumentError", put, client, "frame", sample(3), mode="upsert")
    expect_error("InvalidArgumentError", action, client, "no_such_action", {})
    expect_error("InvalidArgumentError", lambda: client.do_get(flight.Ticket(b"{not json")).read_all())
    expect_error("InvalidArgumentError", lambda: client.do_get(flight.Ticket(b'{"name": 5}')).read_all())
    expect_error("InvalidArgumentError", action, client, "delete_bucket", {"name": "b", "mode": "nuke"})
    expect_error("InvalidArgumentError", lambda: list(client.list_flights(b'{"regex": "("}')))
    writer, _ = client.do_put(flight.FlightDescriptor.for_command(b"[1,2]"), sample(1).schema)
    with pytest.raises(flight.FlightServerError) as e:
        writer.write_table(sample(1))
        writer.close()
    assert error_info(e)["type"] == "InvalidArgumentError"
    assert daemon.files() == before


def test_io_error_on_a_corrupt_data_file(client, daemon):
    put(client, "frame", sample(1000))
    data = [f for f in daemon.files() if f.startswith("_default/frame/data/")]
    assert len(data) == 1
    daemon.write(data[0], b"garbage" * 100)
    expect_error("ShootsIOError", get, client, "frame")
    # The daemon is still up.
    assert action(client, "ping") == ["pong"]


HOSTILE = ["../x", "a/b", ".hidden", "_x", "", "a\0b", "x" * 300, "..", "a\\b", "../../etc/passwd"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_names_everywhere(client, daemon, tmp_path, bad):
    put(client, "ok", sample(2), bucket="good")
    before, stored = files_under(tmp_path), daemon.files()
    as_name = [
        lambda: put(client, bad, sample(2)),
        lambda: get(client, bad),
        lambda: action(client, "delete", {"name": bad, "bucket": None}),
        lambda: action(client, "delete_bucket", {"name": bad, "mode": "delete"}),
        lambda: client.get_flight_info(flight.FlightDescriptor.for_path(bad)),
    ]
    as_bucket = [
        lambda: put(client, "ok", sample(2), bucket=bad, mode="append"),
        lambda: get(client, "ok", bucket=bad),
        lambda: action(client, "delete", {"name": "ok", "bucket": bad}),
        lambda: list(client.list_flights(json.dumps({"bucket": bad}).encode())),
    ]
    # An empty bucket means the default bucket, as in the original client.
    for call in as_name + (as_bucket if bad else []):
        expect_error("InvalidNameError", call)
    expect_schema_error("InvalidNameError", flight.FlightDescriptor.for_command(json.dumps({"name": bad})), client)
    if bad:
        expect_schema_error("InvalidNameError", flight.FlightDescriptor.for_path(bad, "ok"), client)
    assert files_under(tmp_path) - before <= {"daemon.log"}
    assert daemon.files() == stored
    assert get(client, "ok", bucket="good").num_rows == 2


def selection(client, ticket):
    return client.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()


def test_a_ticket_selects_columns_rows_and_a_limit_in_stored_order(client):
    put(client, "frame", sample(50_000), batch_size=7_000)
    put(client, "frame", sample(50_000, offset=50_000), mode="append")
    got = selection(client, {"name": "frame", "columns": ["id"], "where": "id % 1000 = 7 AND id > 20000"})
    assert got.column_names == ["id"]
    assert got.column("id").to_pylist() == list(range(20_007, 100_000, 1000))
    assert selection(client, {"name": "frame", "limit": 3}).equals(sample(3))
    assert selection(client, {"name": "frame", "limit": 0}).schema.equals(sample(1).schema)
    # Of an older version too.
    assert selection(client, {"name": "frame", "version": 1, "where": "id >= 49998"}).column("id").to_pylist() == \
        [49_998, 49_999]
    # GetSchema and GetFlightInfo announce what the DoGet streams.
    descriptor = flight.FlightDescriptor.for_command(json.dumps({"name": "frame", "columns": ["id"]}))
    assert client.get_schema(descriptor).schema.names == ["id"]

    expect_error("InvalidArgumentError", selection, client, {"name": "frame", "sql": "select 1", "limit": 1})
    expect_error("DataFusionError", selection, client, {"name": "frame", "where": "nope > 1"})
    expect_error("DataFusionError", selection, client, {"name": "frame", "where": "id + 1"})
    expect_error("DataFusionError", selection, client, {"name": "frame", "columns": ["nope"]})
    # The predicate is an expression over the dataframe: nothing else parses.
    expect_error("DataFusionError", selection, client, {"name": "frame", "where": "1 = 1; DROP TABLE frame"})
    expect_error("FileNotFoundError", selection, client, {"name": "frame", "version": 9, "limit": 1})
    assert get(client, "frame").num_rows == 100_000
