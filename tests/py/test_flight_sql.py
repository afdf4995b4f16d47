"""Flight SQL on the daemon's port (README: Flight SQL), driven by ADBC's own
Flight SQL driver and, through it, pandas and polars."""

import json

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.flight as flight
import pytest
from pandas.testing import assert_frame_equal
from shoots import ShootsClient

from conftest import Daemon, files_under
from helpers import get, put
from test_security import SECRET, jwt

# ADBC asks to turn autocommit off; shoots has no transactions, so it says
# it cannot, which the driver reports as a warning.
pytestmark = pytest.mark.filterwarnings("ignore:Cannot disable autocommit")

# Each test runs on a local bucket directory and on S3 (conftest).
STORES = ("local", "s3")


def sensors(n=50):
    return pa.table({
        "id": pa.array(range(n), pa.uint64()),
        "ts": pa.array(pd.date_range("2024-03-31 00:00", periods=n, freq="90min", tz="Europe/Berlin")).cast(
            pa.timestamp("ns", "Europe/Berlin")),
        "site": pa.array([["north", "south", "east"][i % 3] for i in range(n)]).dictionary_encode(),
        "value": pa.array([i / 4 for i in range(n)], pa.float64()),
    })


@pytest.fixture
def loaded(daemon, client):
    put(client, "sensors", sensors())
    put(client, "sites", pa.table({"site": ["north", "south"], "owner": ["ann", "bo"]}), bucket="lab")
    return daemon


def connect(daemon, **db_kwargs):
    return flight_sql.connect(daemon.location, db_kwargs=db_kwargs)


def json_get(daemon, sql, bucket=None):
    ticket = {"sql": sql, "bucket": bucket}
    return daemon.client().do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()


def test_a_query_returns_what_the_json_dialect_returns_types_included(loaded):
    sql = "select * from sensors where value > 3 order by id"
    with connect(loaded) as conn, conn.cursor() as cur:
        cur.execute(sql)
        got = cur.fetch_arrow_table()
    expected = json_get(loaded, sql)
    assert got.schema == expected.schema
    assert got.schema.field("ts").type == pa.timestamp("ns", "Europe/Berlin")
    assert got.schema.field("id").type == pa.uint64()
    assert pa.types.is_dictionary(got.schema.field("site").type)
    assert got.equals(expected)


def test_a_join_across_buckets_and_parameters(loaded):
    with connect(loaded) as conn, conn.cursor() as cur:
        cur.execute(
            "select s.id, o.owner from sensors s join lab.sites o on s.site = o.site "
            "where s.value >= ? and o.owner = ? order by s.id", (5.0, "bo"))
        rows = cur.fetchall()
        assert rows == [(i, "bo") for i in range(50) if i / 4 >= 5.0 and i % 3 == 1]
        cur.execute("select count(*) from sensors where id < $1", (10,))
        assert cur.fetchall() == [(10,)]
        # Strings are scanned as views; a placeholder compared with one is announced as a plain string.
        params = cur.adbc_prepare("select owner from lab.sites where owner = ? and site <> ?")
        assert params.types == [pa.string(), pa.string()]


def test_the_bucket_header_names_the_bucket_of_bare_names(loaded):
    for header in ["bucket", "database", "bucket-name"]:
        conn = connect(loaded, **{f"adbc.flight.sql.rpc.call_header.{header}": "lab"})
        with conn, conn.cursor() as cur:
            cur.execute("select owner from sites order by owner")
            assert cur.fetchall() == [("ann",), ("bo",)]
            cur.execute("select count(*) from _default.sensors")
            assert cur.fetchall() == [(50,)]


def test_objects_and_table_schemas(loaded):
    with connect(loaded) as conn:
        objects = conn.adbc_get_objects().read_all().to_pylist()
        assert [c["catalog_name"] for c in objects] == ["shoots"]
        schemas = {s["db_schema_name"]: s for s in objects[0]["catalog_db_schemas"]}
        assert set(schemas) == {"_default", "lab"}
        tables = {t["table_name"]: t for t in schemas["_default"]["db_schema_tables"]}
        assert tables["sensors"]["table_type"] == "BASE TABLE"
        assert [c["column_name"] for c in tables["sensors"]["table_columns"]] == ["id", "ts", "site", "value"]
        assert conn.adbc_get_table_schema("sensors") == sensors().schema
        sites = conn.adbc_get_table_schema("sites", db_schema_filter="lab")
        assert sites.names == ["site", "owner"] and sites.types == [pa.string(), pa.string()]  # as stored
        assert "BASE TABLE" in conn.adbc_get_table_types()
        # LIKE patterns, and the table type as clients spell it.
        like = conn.adbc_get_objects(depth="tables", table_name_filter="sen%", table_types_filter=["TABLE"])
        names = [t["table_name"] for s in like.read_all().to_pylist()[0]["catalog_db_schemas"]
                 for t in s["db_schema_tables"] or []]
        assert names == ["sensors"]
        info = conn.adbc_get_info()
        assert info["vendor_name"] == "shoots"


def test_pandas_and_polars_read_through_adbc(loaded):
    with connect(loaded) as conn:
        frame = pd.read_sql("select id, value from sensors order by id", conn)
        assert list(frame["id"]) == list(range(50))
        polars_frame = pl.read_database("select id, value from sensors order by id", conn)
        assert polars_frame["value"].to_list() == [i / 4 for i in range(50)]


def test_pandas_and_polars_write_through_adbc_and_the_original_client_reads_it(daemon):
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    with connect(daemon) as conn:
        assert df.to_sql("ingested", conn, if_exists="replace", index=False) == 3
        assert df.to_sql("ingested", conn, if_exists="append", index=False) == 3
        pl.DataFrame({"a": [4], "b": ["w"]}).write_database("ingested", conn, if_table_exists="append", engine="adbc")
        pl.DataFrame({"a": [9], "b": ["q"]}).write_database("fresh", conn, if_table_exists="replace", engine="adbc")
    original = ShootsClient("127.0.0.1", daemon.port)
    back = original.get("ingested")
    assert back["a"].tolist() == [1, 2, 3, 1, 2, 3, 4]
    assert back["b"].tolist() == ["x", "y", "z", "x", "y", "z", "w"]
    assert original.get("fresh")["a"].tolist() == [9]
    # pandas checks "fail" itself; the daemon refuses a create of an existing table too.
    with connect(daemon) as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error, match="ALREADY_EXISTS"):
            cur.adbc_ingest("ingested", pa.Table.from_pandas(df), mode="create")
    assert len(original.get("ingested")) == 7


def test_adbc_ingest_into_a_bucket(daemon, client):
    table = pa.table({"k": pa.array([1, 2], pa.uint64())})
    with connect(daemon) as conn, conn.cursor() as cur:
        assert cur.adbc_ingest("frame", table, mode="create", db_schema_name="lab") == 2
        assert cur.adbc_ingest("frame", table, mode="append", db_schema_name="lab") == 2
        conn.commit()
    assert get(client, "frame", bucket="lab").column("k").to_pylist() == [1, 2, 1, 2]


@pytest.mark.parametrize("sql", [
    "update sensors set value = 1",
    "create table made (a int)",
    "copy (select 1) to '/tmp/shoots-flight-sql-copy.csv'",
    "create external table ext stored as csv location '/etc/passwd'",
])
def test_writes_through_sql_are_refused_and_the_connection_stays_usable(loaded, sql, tmp_path):
    before = loaded.files()
    with connect(loaded) as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error) as refused:
            cur.execute(sql)
        assert "read-only" in str(refused.value) or "not supported" in str(refused.value)
        cur.execute("select count(*) from sensors")
        assert cur.fetchall() == [(50,)]
    assert loaded.files() == before
    assert not __import__("os").path.exists("/tmp/shoots-flight-sql-copy.csv")


def test_bad_sql_is_invalid_argument_and_the_connection_stays_usable(loaded):
    with connect(loaded) as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.ProgrammingError, match="INVALID_ARGUMENT"):
            cur.execute("selec nothing")
        with pytest.raises(adbc_driver_manager.Error, match="NOT_FOUND|not found"):
            cur.execute("select * from nowhere")
        cur.execute("select 1 as one")
        assert cur.fetchall() == [(1,)]


@pytest.fixture
def secure(tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--secret", SECRET])
    c = flight.FlightClient(d.location)
    options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {jwt({'type': 'admin'})}".encode())])
    for bucket, name in [(None, "open"), ("lab", "scoped"), ("hr", "secret")]:
        cmd = json.dumps({"name": name, "bucket": bucket})
        writer, _ = c.do_put(flight.FlightDescriptor.for_command(cmd), sensors().schema, options)
        writer.write_table(sensors())
        writer.close()
    yield d
    d.stop()


def bearer(token):
    return {"adbc.flight.sql.authorization_header": f"Bearer {token}"}


def test_without_a_token_calls_are_unauthenticated(secure):
    with connect(secure) as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error, match="UNAUTHENTICATED"):
            cur.execute("select 1")


def test_a_read_token_cannot_ingest_and_nothing_is_written(secure):
    before = files_under(secure.bucket_dir)
    with connect(secure, **bearer(jwt({"type": "read"}))) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from open")
        assert cur.fetchall() == [(50,)]
        with pytest.raises(adbc_driver_manager.Error, match="UNAUTHORIZED|PERMISSION|permission"):
            cur.adbc_ingest("open", sensors(), mode="append")
    assert files_under(secure.bucket_dir) == before


def test_a_bucket_scoped_token_sees_only_its_buckets(secure):
    token = jwt({"type": "read", "buckets": ["lab"]})
    with connect(secure, **bearer(token)) as conn, conn.cursor() as cur:
        objects = conn.adbc_get_objects().read_all().to_pylist()
        assert [s["db_schema_name"] for s in objects[0]["catalog_db_schemas"]] == ["lab"]
        cur.execute("select count(*) from lab.scoped")
        assert cur.fetchall() == [(50,)]
        with pytest.raises(adbc_driver_manager.Error):
            cur.execute("select count(*) from hr.secret")


def test_user_and_password_work_through_a_basic_handshake(secure):
    token = jwt({"type": "write"})
    with connect(secure, username="anyone", password=token) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from open")
        assert cur.fetchall() == [(50,)]
        assert cur.adbc_ingest("made", pa.table({"a": [1]}), mode="create") == 1
    with pytest.raises(adbc_driver_manager.Error, match="UNAUTHENTICATED"):
        with connect(secure, username="anyone", password="not a token") as conn, conn.cursor() as cur:
            cur.execute("select 1")


def test_list_actions_names_both_dialects(client):
    names = [a.type for a in client.list_actions()]
    assert names[:3] == ["ping", "buckets", "delete"]
    assert "CreatePreparedStatement" in names and "ClosePreparedStatement" in names


def test_the_json_dialect_is_untouched_by_flight_sql(loaded, client):
    frame = get(client, "sensors")
    assert frame.equals(sensors())
    assert adbc_driver_flightsql.__name__  # the driver is there, used above


def test_the_readme_example_runs(daemon, client):
    readme = (__import__("pathlib").Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Flight SQL"):]
    code = section[section.index("```python") + len("```python"):]
    code = code[:code.index("```")].replace("localhost:8081", f"127.0.0.1:{daemon.port}")
    frame = pa.table({"site": ["north", "south", "north"], "value": [0.1, 0.5, 0.7]})
    put(client, "sensor_data", frame)
    put(client, "sensor_copy", frame, bucket="lab")
    exec(compile(code, "README.md", "exec"), {"print": lambda *a, **k: None})
    assert get(client, "sensor_copy", bucket="lab").num_rows == 6
    assert get(client, "tiny").num_rows == 1


def test_information_schema_and_show_columns_for_tools_that_read_them(loaded):
    with connect(loaded) as conn, conn.cursor() as cur:
        cur.execute("show columns from sensors")
        assert [row[3] for row in cur.fetchall()] == ["id", "ts", "site", "value"]
        cur.execute("select table_schema, table_name from information_schema.tables "
                    "where table_schema <> 'information_schema' order by 1, 2")
        assert cur.fetchall() == [("_default", "sensors"), ("lab", "sites")]


def any_command(name, body=b""):
    """A Flight SQL command as a protobuf Any, written out by hand."""
    def field(number, data):
        length, out = len(data), b""
        while True:
            low, length = length & 0x7F, length >> 7
            out += bytes([low | (0x80 if length else 0)])
            if not length:
                break
        return bytes([number << 3 | 2]) + out + data
    return field(1, f"type.googleapis.com/arrow.flight.protocol.sql.{name}".encode()) + field(2, body)


PRIMARY_KEY_COLUMNS = ["catalog_name", "db_schema_name", "table_name", "column_name", "key_name", "key_sequence"]


@pytest.mark.parametrize("name, first_column", [
    ("CommandGetPrimaryKeys", "catalog_name"),
    ("CommandGetImportedKeys", "pk_catalog_name"),
    ("CommandGetExportedKeys", "pk_catalog_name"),
    ("CommandGetCrossReference", "pk_catalog_name"),
])
def test_key_calls_answer_empty(loaded, name, first_column):
    table = b"\x1a\x07sensors"  # field 3: the table
    c = loaded.client()
    info = c.get_flight_info(flight.FlightDescriptor.for_command(any_command(name, table)))
    assert len(info.endpoints) == 1 and not info.endpoints[0].locations
    got = c.do_get(info.endpoints[0].ticket).read_all()
    assert got.num_rows == 0
    assert got.schema.names[0] == first_column
    if name == "CommandGetPrimaryKeys":
        assert got.schema.names == PRIMARY_KEY_COLUMNS


def test_type_info_and_sql_info(loaded):
    c = loaded.client()
    info = c.get_flight_info(flight.FlightDescriptor.for_command(any_command("CommandGetXdbcTypeInfo")))
    types = c.do_get(info.endpoints[0].ticket).read_all()
    assert {"BIGINT", "DOUBLE", "VARCHAR", "TIMESTAMP"} <= set(types.column("type_name").to_pylist())
    with connect(loaded) as conn:
        info = conn.adbc_get_info()
    assert info["vendor_name"] == "shoots" and info["vendor_arrow_version"]


def test_a_flight_sql_error_is_a_plain_status(loaded):
    """INVALID_ARGUMENT with the one-line message, not the JSON dialect's
    FlightServerError with extra_info: pyarrow maps the code to ArrowInvalid."""
    c = loaded.client()
    query = b"\x0a\x1cselect * from no_such_frame_"
    with pytest.raises(pa.ArrowInvalid, match="no_such_frame_.*not found"):
        c.get_flight_info(flight.FlightDescriptor.for_command(any_command("CommandStatementQuery", query)))
    assert c.do_action(flight.Action("ping", b"")).__next__().body.to_pybytes() == b"pong"


def test_delete_through_flight_sql_is_delete_rows(loaded, client):
    """A SQL tool's DELETE: through ADBC's query path (a result of one row)
    and its update path (CommandStatementUpdate, a record count), as the
    `delete_rows` action; a bad one writes nothing."""
    df = sensors().to_pandas()
    with connect(loaded) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM sensors WHERE value > 10 AND site = 'north'")
        assert cur.fetchall() == [(int(((df.value > 10) & (df.site == "north")).sum()),)]
        cur.adbc_statement.set_sql_query("delete from _default.sensors where id < 5")
        assert cur.adbc_statement.execute_update() == 5
        cur.execute("DELETE FROM lab.sites WHERE owner = 'bo'")
        assert cur.fetchall() == [(1,)]
        before = loaded.files()
        for bad in ["DELETE FROM sensors WHERE nope = 1", "DELETE FROM absent", "DELETE FROM sensors LIMIT 3"]:
            with pytest.raises(adbc_driver_manager.Error):
                cur.execute(bad)
        assert loaded.files() == before
    expected = df[~(((df.value > 10) & (df.site == "north")) | (df.id < 5))]
    assert get(client, "sensors").column("id").to_pylist() == expected.id.tolist()
    assert get(client, "sites", bucket="lab").column("site").to_pylist() == ["north"]
    ops = [v["operation"] for v in json.loads(
        client.do_action(flight.Action("history", b'{"name": "sensors"}')).__next__().body.to_pybytes())]
    assert ops[1:3] == ["delete_rows", "delete_rows"]


def test_delete_through_flight_sql_needs_a_write_token(tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--secret", SECRET])
    try:
        writer = jwt({"type": "write"})
        with flight_sql.connect(d.location, db_kwargs={"username": "w", "password": writer}) as conn, \
                conn.cursor() as cur:
            cur.adbc_ingest("t", sensors(), mode="create")
        reader = jwt({"type": "read"})
        with flight_sql.connect(d.location, db_kwargs={"username": "r", "password": reader}) as conn, \
                conn.cursor() as cur:
            with pytest.raises(adbc_driver_manager.Error, match="delete rows"):
                cur.execute("DELETE FROM t")
            cur.execute("select count(*) from t")
            assert cur.fetchall() == [(50,)]
    finally:
        d.stop()


def test_flightsql_dbapi_binds_parameters_the_old_way(loaded):
    """flightsql-dbapi binds with DoPut, then asks GetFlightInfo with the
    handle it had: the daemon remembers what was bound to that handle."""
    from flightsql import FlightSQLClient, connect as dbapi_connect
    client = FlightSQLClient(host="127.0.0.1", port=loaded.port, insecure=True)
    conn = dbapi_connect(client)
    cur = conn.cursor()
    cur.execute("select id, site from sensors where id < ? and site = ? order by id", [10, "north"])
    want = json_get(loaded, "select id, site from sensors where id < 10 and site = 'north' order by id")
    assert [tuple(r) for r in cur.fetchall()] == list(zip(*[want.column(c).to_pylist() for c in ("id", "site")]))
    # Two statements of the same SQL keep their own parameters.
    cur.execute("select count(*) from sensors where id < ?", [5])
    assert cur.fetchall()[0][0] == 5
    cur.execute("select count(*) from sensors where id < ?", [7])
    assert cur.fetchall()[0][0] == 7
    # Writes take parameters too.
    cur.execute("insert into sensors (id, site) values (?, ?)", [1000, "west"])
    assert json_get(loaded, "select site from sensors where id = 1000").column("site").to_pylist() == ["west"]
    conn.close()


def test_an_error_in_the_middle_of_a_result_is_a_flight_sql_status(loaded):
    """Planned fine, failing while rows stream: the tool gets Flight SQL's
    status code and the one-line message, not the JSON dialect's body."""
    with connect(loaded) as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error) as failed:
            cur.execute("select cast(concat('x', site) as bigint) from sensors")
            cur.fetchall()
        message = str(failed.value)
        assert "INVALID_ARGUMENT" in message and "Cannot cast string" in message, message
        assert '"type"' not in message and "DataFusionError:" not in message, message
