"""Writes through SQL (SPEC §3): INSERT is an append and DELETE is
delete_rows, the same in the JSON dialect's `sql`, Flight SQL and the
Postgres wire protocol; the HTTP API stays read-only."""

import json
import urllib.request

import adbc_driver_manager
import psycopg
import pyarrow as pa
import pyarrow.flight as flight
import pytest
from adbc_driver_flightsql import dbapi as flight_sql
from psycopg import errors as pgerrors

from conftest import Daemon, error_info
from helpers import SECRET, action, get, jwt, put

TABLE = pa.table({"id": pa.array([1, 2], pa.int32()), "name": pa.array(["a", "b"], pa.large_string()),
                  "x": pa.array([0.5, 1.5], pa.float64())})


@pytest.fixture
def d(tmp_path):
    daemon = Daemon(tmp_path / "buckets", ["--pg-port", "0", "--http-port", "0"])
    c = daemon.client()
    put(c, "t", TABLE)
    put(c, "u", pa.table({"id": pa.array([7, 8], pa.int64()), "site": ["p", "q"]}), bucket="lab")
    c.close()
    yield daemon
    daemon.stop()


def json_sql(daemon, sql, bucket=None):
    c = daemon.client()
    try:
        return c.do_get(flight.Ticket(json.dumps({"sql": sql, "bucket": bucket}).encode())).read_all()
    finally:
        c.close()


def rows(daemon, name="t", bucket=None):
    c = daemon.client()
    try:
        return get(c, name, bucket=bucket).to_pylist()
    finally:
        c.close()


def version(daemon, name="t", bucket=None):
    c = daemon.client()
    try:
        return json.loads(action(c, "history", {"name": name, "bucket": bucket})[0])[-1]["version"]
    finally:
        c.close()


def pg(daemon, **kw):
    return psycopg.connect(host="127.0.0.1", port=daemon.pg_port, dbname="shoots", user="x", autocommit=True, **kw)


def test_insert_values_through_the_json_dialect_appends_one_version(d):
    before = version(d)
    out = json_sql(d, "INSERT INTO t VALUES (3, 'c', 2.5), (4, NULL, 3.5)")
    assert out.to_pylist() == [{"rows_inserted": 2}]
    assert version(d) == before + 1
    assert rows(d)[2:] == [{"id": 3, "name": "c", "x": 2.5}, {"id": 4, "name": None, "x": 3.5}]
    # The stored types are kept: the values were cast to them.
    c = d.client()
    assert get(c, "t").schema.equals(TABLE.schema)
    c.close()


def test_insert_select_through_flight_sql_and_a_new_dataframe_from_a_select(d):
    with flight_sql.connect(d.location) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO t (id, name) SELECT CAST(id AS INT), site FROM lab.u")
        assert cur.fetchall() == [(2,)]
        # ADBC's execute_update answers the rows written.
        cur.adbc_statement.set_sql_query("INSERT INTO lab.copy SELECT id, name FROM t WHERE x IS NULL")
        assert cur.adbc_statement.execute_update() == 2
    assert rows(d)[2:] == [{"id": 7, "name": "p", "x": None}, {"id": 8, "name": "q", "x": None}]
    assert rows(d, "copy", "lab") == [{"id": 7, "name": "p"}, {"id": 8, "name": "q"}]


def test_insert_and_delete_through_postgres(d):
    with pg(d) as conn:
        cur = conn.execute("insert into t (id, name, x) values (%s, %s, %s)", (5, "e", 9.5))
        assert cur.rowcount == 1 and cur.statusmessage == "INSERT 0 1"
        cur = conn.execute("delete from t where id = %s", (1,))
        assert cur.statusmessage == "DELETE 1"
        assert conn.execute("select id from t order by id").fetchall() == [(2,), (5,)]


@pytest.mark.parametrize("sql, kind, message", [
    # The second row's id does not fit the column: the first is not kept either.
    ("INSERT INTO t (id, name) VALUES ('3', 'c'), ('x', 'd')", "SchemaMismatchError", "column id"),
    # A VALUES list of mixed types fails as DataFusion plans it.
    ("INSERT INTO t VALUES (3, 'c', 2.5), ('not a number', 'd', 1.0)", "DataFusionError", "not a number"),
    ("INSERT INTO t VALUES (3, 'c')", "SchemaMismatchError", "INSERT has 2 columns but dataframe t has 3"),
    ("INSERT INTO t (id, nosuch) VALUES (3, 'c')", "SchemaMismatchError", "dataframe t has no column nosuch"),
    ("INSERT INTO nosuch VALUES (1)", "FileNotFoundError", "INSERT ... VALUES needs its columns named"),
    ("INSERT INTO t VALUES (1, 'a', 1.0) RETURNING id", "InvalidArgumentError", "INSERT with RETURNING is not supported"),
])
def test_a_bad_insert_writes_nothing_anywhere(d, sql, kind, message):
    before, files = rows(d), d.files()
    with pytest.raises(flight.FlightServerError) as e:
        json_sql(d, sql)
    assert error_info(e)["type"] == kind and message in error_info(e)["message"], error_info(e)
    with flight_sql.connect(d.location) as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error, match=message):
            cur.execute(sql)
    with pg(d) as conn:
        with pytest.raises(psycopg.Error, match=message):
            conn.execute(sql)
        assert conn.execute("select count(*) from t").fetchone() == (2,)
    assert rows(d) == before and d.files() == files


def test_the_http_api_stays_read_only(d):
    body = json.dumps({"sql": "INSERT INTO t VALUES (3, 'c', 2.5)"}).encode()
    request = urllib.request.Request(f"{d.http_url}/api/query", data=body, headers={"content-type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request)
    assert e.value.code == 400 and "read-only" in e.value.read().decode()
    assert len(rows(d)) == 2


def test_a_read_token_cannot_insert(tmp_path):
    daemon = Daemon(tmp_path / "buckets", ["--secret", SECRET, "--pg-port", "0"])
    try:
        read = jwt({"type": "read"})
        with psycopg.connect(host="127.0.0.1", port=daemon.pg_port, dbname="shoots", user="x", password=read,
                             autocommit=True) as conn:
            with pytest.raises(pgerrors.InsufficientPrivilege, match="a read token cannot insert rows"):
                conn.execute("insert into t (a) select 1")
        c = daemon.client()
        options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {read}".encode())])
        with pytest.raises(flight.FlightUnauthorizedError, match="a read token cannot insert rows"):
            c.do_get(flight.Ticket(json.dumps({"sql": "INSERT INTO t (a) SELECT 1"}).encode()), options).read_all()
        assert not list(c.list_flights(options=options))
        c.close()
    finally:
        daemon.stop()
