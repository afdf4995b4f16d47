"""The Postgres wire protocol (`serve --pg-port`), driven by clients nobody
here wrote: Debian's psql, psycopg 3, asyncpg, SQLAlchemy with pandas."""

import subprocess

import pyarrow as pa
import pytest
import psycopg
from psycopg import errors as pgerrors

from conftest import Daemon
from helpers import SECRET, get, jwt, put, tls_files

TABLE = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", None], "x": [0.5, 1.5, 2.5]})


@pytest.fixture
def pg(tmp_path):
    d = Daemon(tmp_path / "buckets", ["--pg-port", "0"])
    c = d.client()
    put(c, "t", TABLE)
    put(c, "u", pa.table({"id": pa.array([2, 3, 4], pa.int64()), "site": ["p", "q", "r"]}), bucket="lab")
    c.close()
    yield d
    d.stop()


def psql(daemon, *commands, database="shoots", env=None, check=True, **conn):
    """psql's unaligned output of `commands` (meta-commands or SQL)."""
    dsn = " ".join(f"{k}={v}" for k, v in {"host": "127.0.0.1", "port": daemon.pg_port, "dbname": database,
                                             "user": "anyone", **conn}.items())
    args = ["psql", dsn, "-X", "-A", "-F", "|", "-v", "ON_ERROR_STOP=1"]
    for c in commands:
        args += ["-c", c]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def connect(daemon, database="shoots", **kw):
    return psycopg.connect(host="127.0.0.1", port=daemon.pg_port, dbname=database, user="anyone", **kw)


def test_psql_lists_buckets_and_dataframes_and_describes_them(pg):
    out = psql(pg, r"\dn", r"\dt", r"\d t", r"\d lab.u").stdout
    assert "_default|" in out and "lab|" in out
    assert "_default|t|table|" in out and "lab|u|table|" in out
    # \d NAME: the columns of that dataframe, with Postgres' type names.
    assert "id|bigint|" in out and "name|text|" in out and "x|double precision|" in out
    assert "site|text|" in out
    # Dataframes of another bucket by bucket.name, and a join across buckets.
    out = psql(pg, "select t.id, t.name, u.site from t join lab.u using (id) order by id").stdout
    assert out.splitlines()[1:3] == ["2|b|p", "3||q"]


def test_the_database_names_the_bucket_of_bare_names(pg):
    assert psql(pg, "select site from u order by id", database="lab").stdout.splitlines()[1:4] == ["p", "q", "r"]
    assert psql(pg, "select count(*) from t", database="_default").stdout.splitlines()[1] == "3"
    out = psql(pg, "select 1", database="nosuch", check=False)
    assert out.returncode != 0 and 'database "nosuch" does not exist: no such bucket' in out.stderr


def test_psql_copy_out_to_a_file(pg, tmp_path):
    target = tmp_path / "out.csv"
    psql(pg, rf"\copy (select id, name from t order by id) to '{target}' with csv header")
    assert target.read_text() == "id,name\n1,a\n2,b\n3,\n"


def test_psycopg_parameters_equal_the_json_dialect(pg):
    c = pg.client()
    want = get(c, "t", sql="select id, name from t where id >= 2 order by id").to_pylist()
    c.close()
    with connect(pg) as conn:
        rows = conn.execute("select id, name from t where id >= %s order by id", (2,)).fetchall()
        assert [dict(zip(["id", "name"], r)) for r in rows] == want
        # The same statement, prepared on the server and bound again.
        for _ in range(3):
            assert conn.execute("select name from t where id = %s", (1,), prepare=True).fetchone() == ("a",)
        # Binary results.
        with conn.cursor(binary=True) as cur:
            cur.execute("select id, name, x from t where name = %s", ("b",))
            assert cur.fetchall() == [(2, "b", 1.5)]


def test_a_named_cursor_fetches_in_pages(pg):
    with connect(pg) as conn:
        with conn.cursor(name="pages") as cur:
            cur.itersize = 1
            cur.execute("select id from t order by id")
            assert cur.fetchmany(2) == [(1,), (2,)]
            assert cur.fetchmany(2) == [(3,)]


def test_session_statements_tools_send_are_accepted(pg):
    with connect(pg, autocommit=True) as conn:
        conn.execute("SET extra_float_digits = 3")
        conn.execute("SET application_name = 'grafana'")
        assert conn.execute("SHOW application_name").fetchone() == ("grafana",)
        assert conn.execute("SHOW transaction isolation level").fetchone() == ("read committed",)
        conn.execute("BEGIN")
        assert conn.execute("select count(*) from t").fetchone() == (3,)
        conn.execute("ROLLBACK")
        conn.execute("DISCARD ALL")
        assert conn.execute("select version()").fetchone()[0].startswith("PostgreSQL 16")
    # psycopg's own transaction around reads.
    with connect(pg) as conn:
        with conn.transaction():
            assert conn.execute("select max(id) from t").fetchone() == (3,)


def test_errors_carry_a_sqlstate_and_leave_the_connection_usable(pg, tmp_path):
    before = {p for p in (tmp_path / "buckets").rglob("*")}
    with connect(pg, autocommit=True) as conn:
        with pytest.raises(pgerrors.UndefinedTable) as e:
            conn.execute("select * from nosuch")
        assert "nosuch" in str(e.value) and "\n" not in str(e.value).strip()
        with pytest.raises(pgerrors.ReadOnlySqlTransaction) as e:
            conn.execute("create table v (a int)")
        assert str(e.value).startswith("SQL in shoots is read-only: CREATE TABLE is not supported")
        with pytest.raises(pgerrors.SyntaxError):
            conn.execute("selec 1")
        with pytest.raises(pgerrors.UndefinedObject):
            conn.execute("show no_such_setting")
        assert conn.execute("select count(*) from t").fetchone() == (3,)
    assert {p for p in (tmp_path / "buckets").rglob("*")} == before, "nothing was written"


@pytest.fixture
def pg_tls(tmp_path):
    # The data first, through a daemon without tokens on the same directory.
    plain = Daemon(tmp_path / "buckets")
    c = plain.client()
    put(c, "t", TABLE)
    put(c, "w", TABLE, bucket="lab")
    put(c, "z", TABLE, bucket="ops")
    c.close()
    plain.stop()
    _, _, tls = tls_files(tmp_path, "localhost")
    d = Daemon(tmp_path / "buckets", [*tls, "--secret", SECRET, "--pg-port", "0"])
    d.ca = tmp_path / "ca.pem"
    yield d
    d.stop()


def test_psql_over_tls_with_verify_full_and_a_token_as_password(pg_tls):
    admin = jwt({"type": "admin"})
    env = {"PGPASSWORD": admin, "PATH": "/usr/bin:/bin"}
    out = psql(pg_tls, "select count(*) from t", r"\dn", host="localhost", sslmode="verify-full",
               sslrootcert=str(pg_tls.ca), env=env).stdout
    assert out.splitlines()[1] == "3" and "lab|" in out
    # A wrong password (not a token of this secret) is refused.
    out = psql(pg_tls, "select 1", host="localhost", sslmode="verify-full", sslrootcert=str(pg_tls.ca),
               env={**env, "PGPASSWORD": jwt({"type": "admin"}, secret="other")}, check=False)
    assert out.returncode != 0 and "password authentication failed" in out.stderr
    # A token for bucket lab sees lab alone, in queries and in the catalog.
    scoped = jwt({"type": "read", "buckets": ["lab"]})
    with psycopg.connect(host="localhost", port=pg_tls.pg_port, dbname="lab", user="x", password=scoped,
                         sslmode="verify-full", sslrootcert=str(pg_tls.ca)) as conn:
        assert conn.execute("select count(*) from w").fetchone() == (3,)
        assert [r[0] for r in conn.execute("select nspname from pg_catalog.pg_namespace order by 1")] == [
            "information_schema", "lab", "pg_catalog"]
        with pytest.raises(pgerrors.UndefinedTable):
            conn.execute("select * from _default.t")
    # It may start from the default bucket, seeing lab alone; not from another bucket.
    with psycopg.connect(host="localhost", port=pg_tls.pg_port, dbname="shoots", user="x", password=scoped,
                         sslmode="verify-full", sslrootcert=str(pg_tls.ca)) as conn:
        assert conn.execute("select count(*) from lab.w").fetchone() == (3,)
        with pytest.raises(pgerrors.UndefinedTable):
            conn.execute("select * from t")
    with pytest.raises(psycopg.OperationalError, match="this token is not valid for bucket ops"):
        psycopg.connect(host="localhost", port=pg_tls.pg_port, dbname="ops", user="x", password=scoped,
                        sslmode="verify-full", sslrootcert=str(pg_tls.ca)).close()


def expected_rows(daemon, sql, name="t"):
    """The JSON-dialect answer to `sql` (a DoGet of `name`), as Python values."""
    c = daemon.client()
    try:
        return get(c, name, sql=sql).to_pylist()
    finally:
        c.close()


@pytest.fixture
def rich(tmp_path):
    from test_roundtrip import rich_frame
    d = Daemon(tmp_path / "buckets", ["--pg-port", "0"])
    c = d.client()
    put(c, "rich", pa.Table.from_pandas(rich_frame(50), preserve_index=False))
    c.close()
    yield d
    d.stop()


def normalise(value):
    """A value as both sides can be compared: decimals and unsigned integers
    as Decimal, timestamps in UTC."""
    import datetime as dt
    import decimal
    import pandas as pd
    if isinstance(value, dt.datetime):
        # Postgres keeps microseconds: nanoseconds are cut, as it would.
        value = pd.Timestamp(value).floor("us").to_pydatetime()
        return value.astimezone(dt.timezone.utc) if value.tzinfo is not None else value
    if isinstance(value, dict) or type(value).__name__ == "Record":
        # A struct is an anonymous record: its fields in order.
        return tuple(normalise(v) for v in (value.values() if isinstance(value, dict) else value))
    if isinstance(value, int) and not isinstance(value, bool):
        return decimal.Decimal(value)
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def test_asyncpg_reads_every_type_of_the_round_trip_in_binary(rich):
    import asyncio
    import asyncpg
    # Arrays make asyncpg look their types up with a query of its own.
    columns = ["ts_ns", "ts_tz", "u8", "u16", "u32", "u64", "nullable", "cat", "flag", "f32", "dec", "day", "text",
               "lists", "structs"]
    want = expected_rows(rich, f"select {', '.join(columns)} from rich", "rich")

    async def fetch():
        conn = await asyncpg.connect(host="127.0.0.1", port=rich.pg_port, database="shoots", user="x")
        try:
            rows = await conn.fetch(f"select {', '.join(columns)} from rich")
            # The types written column by column, alone (the rest go through arrow-pg).
            scalar = ["ts_ns", "ts_tz", "u8", "u16", "u32", "nullable", "cat", "flag", "f32", "day", "text"]
            plain = [dict(r) for r in await conn.fetch(f"select {', '.join(scalar)} from rich")]
            # Parameters typed by the plan, sent in binary.
            one = await conn.fetchrow("select u64, text from rich where u8 = $1 and flag = $2", 1, want[1]["flag"])
            return [dict(r) for r in rows], one, plain
        finally:
            await conn.close()

    rows, one, plain = asyncio.run(fetch())
    assert [{c: normalise(r[c]) for c in r} for r in plain] == [
        {c: normalise(r[c]) for c in r} for r in ({c: row[c] for c in plain[0]} for row in rows)]
    assert len(rows) == len(want)
    for got, expected in zip(rows, want):
        for column in columns:
            assert normalise(got[column]) == normalise(expected[column]), (column, got[column], expected[column])
    assert normalise(one["u64"]) == normalise(want[1]["u64"]) and one["text"] == want[1]["text"]


def test_psycopg_binary_and_text_agree_on_every_type(rich):
    columns = "ts_tz, u8, u16, u32, u64, nullable, cat, flag, f32, dec, day, text, lists"
    with connect(rich) as conn:
        text = conn.execute(f"select {columns} from rich").fetchall()
        with conn.cursor(binary=True) as cur:
            binary = cur.execute(f"select {columns} from rich").fetchall()
    assert [[normalise(v) for v in r] for r in text] == [[normalise(v) for v in r] for r in binary]


def test_binary_copy_to_stdout_through_psycopg(pg):
    with connect(pg) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY (select id, name, x from t order by id) TO STDOUT (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "text", "float8"])
                rows = list(copy.rows())
    assert rows == [(1, "a", 0.5), (2, "b", 1.5), (3, None, 2.5)]
    with connect(pg) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY (select id from t where id > 100) TO STDOUT (FORMAT BINARY)") as copy:
                copy.set_types(["int8"])
                assert list(copy.rows()) == []
    with connect(pg) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY t (id, name) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                data = b"".join(bytes(b) for b in copy)
    assert data == b"id,name\n1,a\n2,b\n3,\n"


def test_cancel_stops_a_long_query_and_the_connection_goes_on(pg):
    import threading
    with connect(pg, autocommit=True) as conn:
        timer = threading.Timer(1.0, conn.cancel)
        timer.start()
        with pytest.raises(pgerrors.QueryCanceled):
            # A sum over a cross join of ten billion rows: hours, unless cancelled.
            conn.execute("select sum(a.value + b.value) from generate_series(1, 100000) a, generate_series(1, 100000) b")
        timer.join()
        assert conn.execute("select count(*) from t").fetchone() == (3,)


def test_pandas_read_sql_through_sqlalchemy_and_psycopg(pg):
    import pandas as pd
    import sqlalchemy
    engine = sqlalchemy.create_engine(f"postgresql+psycopg://anyone@127.0.0.1:{pg.pg_port}/shoots")
    try:
        df = pd.read_sql("select id, name, x from t order by id", engine)
        lab = pd.read_sql(sqlalchemy.text("select site from lab.u where id > :id order by id"), engine, params={"id": 2})
    finally:
        engine.dispose()
    df = df.astype(object).where(df.notna(), None)
    assert df.to_dict("records") == expected_rows(pg, "select id, name, x from t order by id")
    assert list(lab["site"]) == ["q", "r"]


def non_loopback_address() -> str:
    """This machine's address on a real interface (the test needs one)."""
    import socket
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        address = probe.getsockname()[0]
    finally:
        probe.close()
    assert not address.startswith("127."), "the test needs an address that is not loopback"
    return address


def test_a_token_without_tls_is_refused_off_loopback(tmp_path):
    import re
    from conftest import shoots_bin
    proc = subprocess.Popen([shoots_bin(), "serve", "--host", "0.0.0.0", "--port", "0", "--pg-port", "0",
                             "--bucket-dir", str(tmp_path / "b"), "--secret", SECRET],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(re.search(r"postgres on [^:]+:(\d+)", proc.stdout.readline().decode()).group(1))
        token = jwt({"type": "admin"})
        with pytest.raises(psycopg.OperationalError, match="tokens over TLS only"):
            psycopg.connect(host=non_loopback_address(), port=port, dbname="shoots", user="x", password=token,
                            sslmode="disable").close()
        # The same on loopback is let in.
        with psycopg.connect(host="127.0.0.1", port=port, dbname="shoots", user="x", password=token,
                             sslmode="disable") as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def closed(sock) -> bool:
    """Whether the server closes `sock` (after an error message, perhaps)."""
    sock.settimeout(10)
    while True:
        data = sock.recv(65536)
        if not data:
            sock.close()
            return True


def test_hostile_input_leaves_the_daemon_answering(pg):
    import os
    import socket
    import struct

    def raw():
        return socket.create_connection(("127.0.0.1", pg.pg_port), timeout=10)

    def answers():
        with connect(pg) as conn:
            return conn.execute("select count(*) from t").fetchone() == (3,)

    # Random bytes, as a first message and after a proper start.
    for seed in range(5):
        s = raw()
        s.sendall(os.urandom(4096 * (seed + 1)))
        s.close()
    # A message that claims to be 2 GB long, before and after the start:
    # refused, and the connection closed, without waiting for the rest.
    s = raw()
    s.sendall(struct.pack("!i", 0x7FFFFFFF) + b"\0" * 64)
    assert closed(s)
    conn = connect(pg)
    conn.execute("select 1")
    sock = socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM)
    sock.sendall(b"Q" + struct.pack("!i", 0x7FFFFFF0) + b"select")
    assert closed(sock)
    with pytest.raises(psycopg.OperationalError):
        conn.execute("select 1")
    conn.close()
    # Starts that never finish, and 500 connections at once.
    stalled = [raw() for _ in range(20)]
    for s in stalled[:10]:
        s.sendall(struct.pack("!ii", 64, 196608))  # a startup message cut short
    many = [raw() for _ in range(500)]
    assert answers()
    conns = [connect(pg) for _ in range(50)]
    assert all(c.execute("select 1").fetchone() == (1,) for c in conns)
    for c in conns:
        c.close()
    for s in stalled + many:
        s.close()
    assert answers() and pg.proc.poll() is None


@pytest.mark.parametrize("tool", ["DBEAVER", "GRAFANA", "METABASE"])
def test_the_catalog_queries_of_sql_tools_answer(pg, tool):
    import tool_queries
    with connect(pg, autocommit=True) as conn:
        for query in getattr(tool_queries, tool):
            try:
                cur = conn.execute(query)
                if cur.description:
                    cur.fetchall()
            except psycopg.Error as e:
                pytest.fail(f"{tool}: {e}\n{query}")
