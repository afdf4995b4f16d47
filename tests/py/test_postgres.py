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
