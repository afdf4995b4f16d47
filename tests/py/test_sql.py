"""SQL across buckets (README: SQL): through a DoGet ticket and `shoots sql`,
read-only refusals, and the memory limit."""

import json
import subprocess

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.flight as flight
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest

from conftest import Daemon, error_info, files_under, shoots_bin
from helpers import cli, get, put

JOIN = """
    select s.id, s.reading, m.place
    from sensors s join meta.places m on s.id = m.id
    order by s.id
"""
WANT = {"id": [1, 2, 3], "reading": [0.5, 1.5, 2.5], "place": ["north", "south", "east"]}

# Each test runs on a local bucket directory and on S3 (conftest).
STORES = ("local", "s3")


def sql_ticket(client, sql, bucket=None):
    ticket = {"sql": sql, "bucket": bucket}
    return client.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()


@pytest.fixture
def two_buckets(client):
    put(client, "sensors", pa.table({"id": [3, 1, 2, 9], "reading": [2.5, 0.5, 1.5, 7.0]}))
    put(client, "places", pa.table({"id": [1, 2, 3], "place": ["north", "south", "east"]}), bucket="meta")
    return client


def test_join_across_buckets_through_a_ticket(two_buckets):
    assert sql_ticket(two_buckets, JOIN).to_pydict() == WANT
    # With a bucket, its dataframes are the bare names; the default bucket is `_default`.
    swapped = "select s.id, s.reading, m.place from _default.sensors s join places m on s.id = m.id order by s.id"
    assert sql_ticket(two_buckets, swapped, bucket="meta").to_pydict() == WANT
    # A named ticket sees its own bucket by bare name and the others qualified.
    assert get(two_buckets, "sensors", sql=JOIN).to_pydict() == WANT


def test_flight_info_for_a_query(two_buckets):
    descriptor = flight.FlightDescriptor.for_command(json.dumps({"sql": JOIN}))
    info = two_buckets.get_flight_info(descriptor)
    assert info.schema.names == ["id", "reading", "place"]
    assert two_buckets.do_get(info.endpoints[0].ticket).read_all().to_pydict() == WANT


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "ndjson", "parquet", "arrow", "table"])
def test_join_through_shoots_sql_in_every_format(daemon, two_buckets, tmp_path, fmt):
    if fmt == "table":
        text = cli(daemon, "sql", JOIN, "--format", "table").stdout.decode()
        for place in WANT["place"]:
            assert f" {place} " in text
        assert text.endswith("3 rows\n")
        return
    out = tmp_path / f"result.{fmt}"
    cli(daemon, "sql", JOIN, "-o", str(out))
    if fmt in ("csv", "tsv"):
        table = pacsv.read_csv(out, parse_options=pacsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","))
    elif fmt == "json":
        rows = json.loads(out.read_text())
        table = pa.Table.from_pylist(rows)
    elif fmt == "ndjson":
        table = pajson.read_json(out)
    elif fmt == "parquet":
        table = pq.read_table(out)
    else:
        table = pa.ipc.open_file(out).read_all()
    assert table.to_pydict() == WANT
    # And the same to stdout.
    if fmt in ("csv", "json", "ndjson"):
        assert cli(daemon, "sql", JOIN, "--format", fmt).stdout == out.read_bytes()


def test_piped_statements_and_bucket_flag(daemon, two_buckets):
    script = "select count(*) as n from sensors;\nselect place from places where id = 2;\n"
    run = subprocess.run([shoots_bin(), "sql", "--bucket", "meta", "--host", "127.0.0.1", "--port", str(daemon.port)],
                         input=script.replace("from sensors", "from _default.sensors").encode(), capture_output=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode() == "n\n4\nplace\nsouth\n"


@pytest.mark.parametrize("sql", [
    "COPY (select 1) TO '{tmp}/copied.csv'",
    "CREATE EXTERNAL TABLE pw STORED AS CSV LOCATION '/etc/passwd'",
    "CREATE TABLE t AS select 1",
    "UPDATE sensors SET reading = 0",
    "DROP TABLE sensors",
    "SET datafusion.execution.batch_size = 1",
    "select * from '/etc/passwd'",
])
def test_sql_is_read_only(daemon, two_buckets, tmp_path, sql):
    sql = sql.format(tmp=tmp_path)
    before = daemon.files()
    with pytest.raises(flight.FlightServerError) as e:
        sql_ticket(two_buckets, sql)
    assert error_info(e)["type"] == "DataFusionError"
    with pytest.raises(flight.FlightServerError) as e:
        get(two_buckets, "sensors", sql=sql)
    assert error_info(e)["type"] == "DataFusionError"
    assert not (tmp_path / "copied.csv").exists()
    assert daemon.files() == before
    assert get(two_buckets, "sensors").num_rows == 4

    run = cli(daemon, "sql", sql, check=False)
    assert run.returncode == 1
    assert run.stderr.decode().startswith("shoots: error: ")


def test_refusals_say_why(two_buckets):
    with pytest.raises(flight.FlightServerError) as e:
        sql_ticket(two_buckets, "DROP TABLE sensors")
    assert error_info(e)["message"].startswith("SQL in shoots is read-only")


def test_strings_come_back_as_strings(two_buckets):
    """Queries scan strings as views (cheaper to decode, hash and compare);
    what a query hands back, and the schema it announces, is the plain
    string type the column was stored as."""
    for sql in ["select place from meta.places order by place",
                "select place, count(*) as n from meta.places group by place order by place",
                "select upper(place) as u, min(place) as lo from meta.places group by upper(place) order by u",
                "select m.place, s.reading from sensors s join meta.places m on s.id = m.id order by m.place"]:
        got = sql_ticket(two_buckets, sql)
        announced = two_buckets.get_flight_info(flight.FlightDescriptor.for_command(json.dumps({"sql": sql}))).schema
        strings = [f.name for f in got.schema if f.name in ("place", "u", "lo")]
        assert strings and all(got.schema.field(name).type == pa.string() for name in strings), sql
        assert announced == got.schema, sql
    assert sql_ticket(two_buckets, "select min(place) as lo from meta.places").to_pydict() == {"lo": ["east"]}


def test_a_join_with_a_small_aggregate_builds_on_the_aggregate(client):
    """Each data file counts the distinct values of its low-cardinality
    columns; with them the planner knows `group by site` is a few rows and
    builds the join's hash table on that, not on the table it probes."""
    rng = np.random.default_rng(1)
    n = 100_000
    table = pa.table({"site": rng.choice(["north", "south", "east"], n), "x": rng.normal(size=n), "id": np.arange(n)})
    put(client, "t", table)
    put(client, "t", table, mode="append")
    sql = ("select t.site, count(*) as n from t join (select site, max(x) as top from t group by site) m "
           "on t.site = m.site and t.x > m.top - 0.5 group by t.site order by t.site")
    plan = "\n".join(get(client, "t", sql="explain " + sql).column("plan").to_pylist())
    join = plan[plan.index("HashJoinExec"):]
    assert "mode=CollectLeft" in join.splitlines()[0], plan
    # The build side, the join's first input, is the aggregate over the table.
    build = join[:join.index("DataSourceExec")]
    assert "AggregateExec" in build and "max(" in build, plan
    frame = pa.concat_tables([table, table]).to_pandas()
    top = frame.groupby("site")["x"].max()
    want = frame[frame["x"] > frame["site"].map(top) - 0.5].groupby("site").size()
    got = get(client, "t", sql=sql).to_pydict()
    assert got == {"site": list(want.index), "n": list(want.values)}


def test_distinct_counts_are_right_in_every_shape(client):
    """`count(distinct c)` over a whole dataframe, alone or per group of a
    column (nulls in both), is answered from the Parquet dictionaries where
    they can tell; every shape, the ones that take that way and the ones
    that do not, equals pandas' count."""
    rng = np.random.default_rng(7)

    def part(n, codes):
        return pa.table({
            "code": pa.array(rng.integers(0, codes, n), mask=rng.random(n) < 0.1),
            "site": pa.array(rng.choice(["north", "south", "east", "west"], n), mask=rng.random(n) < 0.1),
            "value": rng.normal(size=n).round(1),
        })
    parts = [part(20_000, 300), part(5_000, 600)]
    put(client, "readings", parts[0])
    put(client, "readings", parts[1], mode="append")

    def count(sql):
        return sql_ticket(client, sql).column(0)[0].as_py()

    def check(frame):
        for column in ("code", "site", "value"):
            want = frame[column].nunique()
            assert count(f"select count(distinct {column}) from readings") == want, column
            assert count(f"select count(distinct r.{column}) as n from _default.readings r") == want, column
        positive = frame[frame["value"] > 0]
        assert count("select count(distinct code) from readings where value > 0") == positive["code"].nunique()
        assert sql_ticket(client, "select count(distinct code) as n, count(*) as rows from readings").to_pylist() == [
            {"n": frame["code"].nunique(), "rows": len(frame)}]
        for group, counted in (("site", "code"), ("code", "site")):
            want = frame.groupby(group, dropna=False)[counted].nunique()
            want = {None if pd.isna(k) else (int(k) if group == "code" else k): v for k, v in want.items()}
            got = sql_ticket(client, f"select {group}, count(distinct {counted}) as n from readings group by {group}")
            assert dict(zip(got.column(0).to_pylist(), got.column(1).to_pylist())) == want, (group, counted)
        top = sql_ticket(client, "select site, count(distinct code) as n from readings group by site "
                                 "having count(distinct code) > 1 order by n desc, site limit 2").to_pylist()
        want = frame.groupby("site", dropna=False)["code"].nunique().sort_values(ascending=False, kind="stable")
        assert [r["n"] for r in top] == list(want.values[:2])
    frame = pa.concat_tables(parts).to_pandas()
    check(frame)
    # Rows marked deleted are in the dictionaries still: counted another way.
    assert sql_ticket(client, "delete from readings where code < 100").column(0)[0].as_py() > 0
    check(frame[~(frame["code"] < 100)])


def test_bad_sql_and_unknown_tables(two_buckets):
    for sql, words in [("selec 1", "selec"), ("select * from nope", "nope"), ("select * from nobucket.x", "nobucket")]:
        with pytest.raises(flight.FlightServerError) as e:
            sql_ticket(two_buckets, sql)
        assert error_info(e)["type"] == "DataFusionError"
        assert words in error_info(e)["message"]
    with pytest.raises(flight.FlightServerError) as e:
        sql_ticket(two_buckets, "select 1", bucket="nobucket")
    assert error_info(e)["type"] == "FileNotFoundError"


def test_a_query_over_the_memory_limit_fails_and_the_next_works(tmp_path):
    daemon = Daemon(tmp_path / "buckets", extra_args=["--memory-limit", "16MiB", "--pg-port", "0"])
    try:
        client = daemon.client()
        n = 2_000_000
        put(client, "big", pa.table({"id": pa.array(range(n), pa.int64()), "x": pa.array(range(n), pa.float64())}))
        join = "select count(*) from big a join big b on a.id = b.id"
        with pytest.raises(flight.FlightServerError) as e:
            sql_ticket(client, join)
        info = error_info(e)
        assert info["type"] == "DataFusionError"
        assert "needs more memory than --memory-limit" in info["message"] and "Resources exhausted" in info["message"]
        # The same kind in the other SQL front ends: its own status and SQLSTATE.
        import adbc_driver_flightsql.dbapi as flight_sql
        import psycopg
        with flight_sql.connect(daemon.location) as conn, conn.cursor() as cur:
            with pytest.raises(Exception, match=r"Resources exhausted.*\(ResourceExhausted; DoGet"):
                cur.execute(join)
                cur.fetchall()
        with psycopg.connect(host="127.0.0.1", port=daemon.pg_port, dbname="shoots", user="x") as conn:
            with pytest.raises(psycopg.errors.OutOfMemory, match="Resources exhausted"):
                conn.execute(join)
        assert sql_ticket(client, "select count(*) as n, sum(x) as s from big").to_pydict() == {
            "n": [n], "s": [float(n * (n - 1) // 2)]}
        # Sorting spills to disk instead of failing.
        top = sql_ticket(client, "select id from big order by x desc")
        assert top.num_rows == n and top["id"][0].as_py() == n - 1
        assert daemon.proc.poll() is None
    finally:
        daemon.stop()
