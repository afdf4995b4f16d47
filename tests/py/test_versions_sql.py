"""Versions in SQL (SPEC §16): a table reference names a version or a time,
`name AT (VERSION => n)` or `name AT (TIMESTAMP => '...')`, in every SQL
front end; several versions meet in one query."""

import json
import time

import adbc_driver_flightsql.dbapi as flight_sql
import psycopg
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from conftest import Daemon, error_info
from helpers import action, cli, get, json_sql, put


@pytest.fixture
def d(tmp_path):
    daemon = Daemon(tmp_path / "buckets", ["--pg-port", "0", "--retain-versions", "2"])
    c = daemon.client()
    put(c, "t", pa.table({"id": [1, 2], "x": [0.5, 1.5]}))                       # version 1
    put(c, "t", pa.table({"id": [3], "x": [2.5]}), mode="append")                  # version 2
    daemon.between = time.time()
    time.sleep(0.05)
    put(c, "t", pa.table({"id": [9], "x": [9.5]}), mode="replace")                 # version 3
    put(c, "u", pa.table({"id": [1]}), bucket="lab")
    put(c, "u", pa.table({"id": [2]}), bucket="lab", mode="append")
    c.close()
    yield daemon
    daemon.stop()



def version_rows(daemon, version, name="t", bucket=None):
    c = daemon.client()
    try:
        return get(c, name, bucket=bucket, version=version).to_pylist()
    finally:
        c.close()


def test_a_version_in_every_sql_front_end_equals_the_get_of_it(d):
    sql = "select id, x from t AT (VERSION => 2) order by id"
    want = version_rows(d, 2)
    assert json_sql(d, sql).to_pylist() == want
    with flight_sql.connect(d.location) as conn, conn.cursor() as cur:
        cur.execute(sql)
        assert cur.fetch_arrow_table().to_pylist() == want
    with psycopg.connect(host="127.0.0.1", port=d.pg_port, dbname="shoots", user="x") as conn:
        assert [dict(zip(["id", "x"], r)) for r in conn.execute(sql).fetchall()] == want
    out = cli(d, "sql", sql, "--format", "csv").stdout.decode()
    assert out == "id,x\n" + "".join(f"{r['id']},{r['x']}\n" for r in want)


def test_versions_meet_in_one_query_and_a_time_names_the_version_then(d):
    joined = json_sql(d, "select a.id from t AT (VERSION => 2) a join t b on a.id < b.id order by a.id").to_pylist()
    assert joined == [{"id": 1}, {"id": 2}, {"id": 3}]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(d.between)) + f".{int(d.between * 1000) % 1000:03d}"
    at_time = json_sql(d, f"select id from t AT (TIMESTAMP => '{stamp}') order by id").to_pylist()
    assert at_time == [{"id": i} for i in (1, 2, 3)]
    assert json_sql(d, "select count(*) as n from lab.u AT (VERSION => 1)").to_pylist() == [{"n": 1}]


def test_a_vacuumed_version_names_the_oldest_kept(d):
    c = d.client()
    action(c, "vacuum", {"name": "t"})
    c.close()
    with pytest.raises(flight.FlightServerError) as e:
        json_sql(d, "select * from t AT (VERSION => 1)")
    info = error_info(e)
    assert info["type"] == "FileNotFoundError", info
    assert "version 1 of dataframe t is not kept" in info["message"] and "the oldest kept is 2" in info["message"]


def test_history_is_a_table(d):
    c = d.client()
    want = [(v["version"], v["operation"], v["rows"]) for v in json.loads(action(c, "history", {"name": "t"})[0])]
    c.close()
    sql = "select version, operation, rows from history('t') order by version"
    got = [(r["version"], r["operation"], r["rows"]) for r in json_sql(d, sql).to_pylist()]
    assert got == want and [v for v, _, _ in got] == [1, 2, 3]
    with flight_sql.connect(d.location) as conn, conn.cursor() as cur:
        cur.execute("select max(version) from history('lab.u')")
        assert cur.fetchall() == [(2,)]
    with psycopg.connect(host="127.0.0.1", port=d.pg_port, dbname="shoots", user="x") as conn:
        rows = conn.execute(sql).fetchall()
        assert [(v, op, n) for v, op, n in rows] == want
    with pytest.raises(flight.FlightServerError) as e:
        json_sql(d, "select * from history('nosuch')")
    assert error_info(e)["type"] == "FileNotFoundError"
