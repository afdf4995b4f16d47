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
from helpers import SECRET, action, get, json_sql, jwt, put

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
            with pytest.raises(pgerrors.InsufficientPrivilege, match="a read token cannot copy rows in"):
                with conn.cursor().copy("COPY t FROM STDIN") as copy:
                    copy.write("1\n")
        c = daemon.client()
        options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {read}".encode())])
        with pytest.raises(flight.FlightUnauthorizedError, match="a read token cannot insert rows"):
            c.do_get(flight.Ticket(json.dumps({"sql": "INSERT INTO t (a) SELECT 1"}).encode()), options).read_all()
        assert not list(c.list_flights(options=options))
        c.close()
    finally:
        daemon.stop()


def psql_in(daemon, command, data, check=True):
    """psql running `command` with `data` on its standard input."""
    import subprocess
    out = subprocess.run(["psql", f"host=127.0.0.1 port={daemon.pg_port} dbname=shoots user=x", "-X", "-v",
                          "ON_ERROR_STOP=1", "-c", command], input=data, capture_output=True, text=True, timeout=60)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_copy_from_stdin_in_csv_and_text_through_psql(d, tmp_path):
    before = version(d)
    out = psql_in(d, "COPY t FROM STDIN WITH (FORMAT csv, HEADER true)",
                  'id,name,x\n3,"with, comma",2.5\n4,,3.5\n5,"",4.5\n')
    assert "COPY 3" in out.stdout
    assert version(d) == before + 1
    assert rows(d)[2:] == [{"id": 3, "name": "with, comma", "x": 2.5}, {"id": 4, "name": None, "x": 3.5},
                           {"id": 5, "name": "", "x": 4.5}]
    # Text format, a column list (x stays NULL), escapes and \N.
    out = psql_in(d, "COPY t (name, id) FROM STDIN", "tab\\there\t6\n\\N\t7\n")
    assert "COPY 2" in out.stdout
    assert rows(d)[5:] == [{"id": 6, "name": "tab\there", "x": None}, {"id": 7, "name": None, "x": None}]
    # psql's \copy reads a file on the client's side.
    source = tmp_path / "more.csv"
    source.write_text("8,h,1.0\n9,i,2.0\n")
    out = psql_in(d, rf"\copy t from '{source}' with csv", "")
    assert "COPY 2" in out.stdout and len(rows(d)) == 9


def test_binary_copy_from_stdin_through_psycopg(d):
    with pg(d) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY t (id, name, x) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "text", "float8"])
                for i in range(3, 2003):
                    copy.write_row((i, f"n{i}", i / 2))
            assert cur.rowcount == 2000
    got = rows(d)
    assert len(got) == 2002 and got[-1] == {"id": 2002, "name": "n2002", "x": 1001.0}


def test_a_bad_row_in_a_copy_writes_nothing(d):
    before, files = rows(d), d.files()
    out = psql_in(d, "COPY t FROM STDIN WITH (FORMAT csv)", "3,c,1.0\nnot a number,d,2.0\n", check=False)
    assert out.returncode != 0 and "column id" in out.stderr, out.stderr
    out = psql_in(d, "COPY t FROM STDIN WITH (FORMAT csv)", "3,c\n", check=False)
    assert out.returncode != 0 and "a row has 2 fields for 3 columns" in out.stderr, out.stderr
    out = psql_in(d, "COPY nosuch FROM STDIN", "1\n", check=False)
    assert out.returncode != 0 and "dataframe nosuch not found" in out.stderr
    assert rows(d) == before and d.files() == files
    # The connection goes on after a failed COPY.
    with pg(d) as conn:
        with pytest.raises(psycopg.Error, match="column id"):
            with conn.cursor().copy("COPY t FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write("x,y,z\n")
        assert conn.execute("select count(*) from t").fetchone() == (2,)
    assert rows(d) == before


def start_copy_and_vanish(port):
    """Speaks the protocol by hand: a COPY FROM STDIN, rows sent, then the
    connection closed with no CopyDone."""
    import socket
    import struct

    def message(kind, body=b""):
        return kind + struct.pack("!i", len(body) + 4) + body

    def read_until(sock, kind):
        while True:
            head = sock.recv(5, socket.MSG_WAITALL)
            assert len(head) == 5, "the daemon closed the connection"
            body = sock.recv(struct.unpack("!i", head[1:])[0] - 4, socket.MSG_WAITALL)
            if head[:1] == kind:
                return body
            assert head[:1] != b"E", body

    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    startup = struct.pack("!i", 196608) + b"user\0x\0database\0shoots\0\0"
    sock.sendall(struct.pack("!i", len(startup) + 4) + startup)
    read_until(sock, b"Z")
    sock.sendall(message(b"Q", b"COPY t FROM STDIN WITH (FORMAT csv)\0"))
    read_until(sock, b"G")
    for i in range(1000):
        sock.sendall(message(b"d", f"{i},n{i},0.5\n".encode()))
    sock.close()


def test_a_client_gone_mid_copy_writes_nothing(d):
    before = version(d)
    start_copy_and_vanish(d.pg_port)
    # A COPY after it is the next version: the cut one made none.
    assert "COPY 1" in psql_in(d, "COPY t FROM STDIN WITH (FORMAT csv)", "9,z,1.0\n").stdout
    assert version(d) == before + 1
    assert [r["id"] for r in rows(d)] == [1, 2, 9]
