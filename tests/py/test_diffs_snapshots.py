"""Diffs of two versions and named snapshots (SPEC §16): through the JSON
dialect, Flight SQL (ADBC), Postgres and `shoots sql`/`shoots diff`/`shoots
snapshot`, each equal to pandas computing the same from `get --version`."""

import json
import time
from collections import Counter

import adbc_driver_flightsql.dbapi as flight_sql
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from conftest import Daemon, error_info, start_daemon
from helpers import action, cli, get, json_sql, put

DIFF_FILES_READ = b"shoots.diff.files_read"

# Only the tests that take `store_kind` run on both stores.
STORES = ("local", "s3")


def readings(ids, value=lambda i: i * 0.5):
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "site": pa.array([f"s{i % 3}" for i in ids]),
        "value": pa.array([value(i) for i in ids], pa.float64()),
    })


@pytest.fixture
def d(tmp_path):
    daemon = Daemon(tmp_path / "buckets", ["--pg-port", "0", "--vacuum-grace", "0s", "--compact-after", "0"])
    c = daemon.client()
    put(c, "t", readings(range(0, 40)))                                       # v1: 1 file
    for start in (40, 50, 60):                                                 # v2-v4: 3 more files
        put(c, "t", readings(range(start, start + 10)), mode="append")
    # v5: ids 45..47 get new values, 70..72 are new (rewrites the 40-49 file only)
    put(c, "t", readings([45, 46, 47, 70, 71, 72], value=lambda i: i * 10.0), mode="upsert", keys=["id"])
    action(c, "delete_rows", {"name": "t", "where": "id in (3, 55)"})         # v6
    put(c, "t", readings([1]), mode="append")                                  # v7: a duplicate row of id 1
    c.close()
    yield daemon
    daemon.stop()


def frame(daemon, version, name="t", bucket=None):
    c = daemon.client()
    try:
        return get(c, name, bucket=bucket, version=version).to_pandas()
    finally:
        c.close()


def pandas_diff(before, after, keys=()):
    """The same diff, computed by pandas from whole versions: a multiset
    difference of rows, and with keys an outer merge of what is left."""
    cols = list(after.columns)
    count = lambda df: Counter(map(tuple, df[cols].itertuples(index=False)))
    old, new = count(before), count(after)
    gone = pd.DataFrame(list((old - new).elements()), columns=cols)
    came = pd.DataFrame(list((new - old).elements()), columns=cols)
    if not keys:
        gone.insert(0, "_change", "removed")
        came.insert(0, "_change", "added")
        return pd.concat([gone, came], ignore_index=True)
    merged = gone.merge(came, on=list(keys), how="outer", suffixes=("_old", ""), indicator=True)
    rows = []
    for _, r in merged.iterrows():
        if r["_merge"] == "right_only":
            change, changed, values = "added", None, {c: r[c] for c in cols if c not in keys}
        elif r["_merge"] == "left_only":
            change, changed, values = "removed", None, {c: r[c + "_old"] for c in cols if c not in keys}
        else:
            differs = [c for c in cols if c not in keys and r[c] != r[c + "_old"]]
            change, changed, values = "changed", ",".join(differs), {c: r[c] for c in cols if c not in keys}
        rows.append({"_change": change, "_changed_columns": changed, **{k: r[k] for k in keys}, **values})
    return pd.DataFrame(rows, columns=["_change", "_changed_columns", *cols])


def same_rows(got, want):
    key = lambda df: sorted(json.dumps(r, sort_keys=True, default=str) for r in df.to_dict("records"))
    got = got.astype(object).where(got.notna(), None)
    want = want.astype(object).where(want.notna(), None)
    assert list(got.columns) == list(want.columns)
    assert key(got) == key(want)


def ticket_diff(daemon, frm, to, keys=(), name="t", bucket=None):
    c = daemon.client()
    try:
        spec = {"from": frm, "to": to, **({"keys": list(keys)} if keys else {})}
        return c.do_get(flight.Ticket(json.dumps({"name": name, "bucket": bucket, "diff": spec}).encode())).read_all()
    finally:
        c.close()



@pytest.mark.parametrize("frm,to,keys", [(1, 7, ()), (4, 5, ()), (4, 5, ("id",)), (1, 7, ("id",)), (5, 6, ("id",)),
                                         (7, 1, ())])
def test_a_diff_in_every_front_end_equals_pandas_on_the_versions(d, frm, to, keys):
    want = pandas_diff(frame(d, frm), frame(d, to), keys)
    same_rows(ticket_diff(d, frm, to, keys).to_pandas(), want)
    args = ", ".join([f"'t', {frm}, {to}", *(f"'{k}'" for k in keys)])
    sql = f"select * from diff({args})"
    same_rows(json_sql(d, sql).to_pandas(), want)
    with flight_sql.connect(d.location) as conn, conn.cursor() as cur:
        cur.execute(sql)
        same_rows(cur.fetch_arrow_table().to_pandas(), want)
    with psycopg.connect(host="127.0.0.1", port=d.pg_port, dbname="shoots", user="x") as conn:
        cur = conn.execute(sql)
        got = pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])
        same_rows(got, want)
    # JSON lines leave nulls out.
    from_json = lambda out: pd.DataFrame(json.loads(out)).reindex(columns=want.columns)
    same_rows(from_json(cli(d, "sql", sql, "--format", "json").stdout), want)
    key_args = [a for k in keys for a in ("--key", k)]
    same_rows(from_json(cli(d, "diff", "t", str(frm), str(to), *key_args, "--format", "json").stdout), want)


def test_a_diff_reads_only_the_files_that_differ(d):
    # v4 -> v5: the upsert rewrote one of four files (without its three
    # matched rows) and added one (those three and three new ones).
    diff = ticket_diff(d, 4, 5)
    assert diff.schema.metadata[DIFF_FILES_READ] == b"3"
    assert diff.schema.metadata[b"shoots.diff.files"] == b"9"
    run = cli(d, "diff", "t", "4", "5", "--format", "csv")
    assert "9 rows differ from version 4 to 5 (3 of 9 file entries read)" in run.stderr.decode()
    # Proof by absence: the files both versions share are gone from the
    # disk, and the diff is still answered (a whole read of v5 is not).
    frame_dir = d.bucket_dir / "_default" / "t"
    files = lambda v: {f["path"] for f in json.loads((frame_dir / "_log" / f"{v:020}.json").read_text())["files"]}
    shared = files(4) & files(5)
    assert len(shared) == 3
    for path in shared:
        (frame_dir / path).unlink()
    got = ticket_diff(d, 4, 5, ("id",)).to_pandas()
    assert sorted(zip(got["_change"], got["id"])) == [
        ("added", 70), ("added", 71), ("added", 72), ("changed", 45), ("changed", 46), ("changed", 47)]
    assert set(got.loc[got["_change"] == "changed", "_changed_columns"]) == {"value"}
    assert json_sql(d, "select count(*) as n from diff('t', 4, 5)").to_pylist() == [{"n": 9}]
    with pytest.raises(flight.FlightServerError):
        frame(d, 5)


def test_diff_errors_say_what_is_wrong(d):
    cases = [
        ({"from": 1, "to": 7, "keys": ["nope"]}, "InvalidArgumentError", 'diff key "nope" is not a column of dataframe t'),
        ({"from": 1, "to": 70}, "FileNotFoundError", "has no version 70"),
    ]
    c = d.client()
    for spec, kind, message in cases:
        with pytest.raises(flight.FlightError) as e:
            c.do_get(flight.Ticket(json.dumps({"name": "t", "diff": spec}).encode())).read_all()
        info = error_info(e)
        assert info["type"] == kind and message in info["message"], info
    with pytest.raises(flight.FlightError) as e:
        c.do_get(flight.Ticket(json.dumps({"name": "t", "diff": {"from": 1, "to": 2}, "version": 2}).encode()))
    assert error_info(e) == {"type": "InvalidArgumentError", "message": "a ticket takes either version or diff, not both"}
    # A schema that changed between the versions.
    put(c, "m", pa.table({"a": [1]}))
    put(c, "m", pa.table({"a": [2], "b": ["x"]}), mode="append", schema="merge")
    with pytest.raises(flight.FlightError) as e:
        c.do_get(flight.Ticket(json.dumps({"name": "m", "diff": {"from": 1, "to": 2}}).encode())).read_all()
    assert "versions 1 and 2 of dataframe m have different columns" in error_info(e)["message"]
    c.close()
    with pytest.raises(flight.FlightServerError) as e:
        json_sql(d, "select * from diff('t', 1)")
    info = error_info(e)
    assert info["type"] == "DataFusionError" and "diff('name', 3, 5, 'key')" in info["message"], info
    run = cli(d, "diff", "t", "1", "2", "--key", "nope", check=False)
    assert run.returncode != 0 and 'diff key "nope" is not a column' in run.stderr.decode()


def files_of(daemon, name="t", bucket="_default"):
    data = daemon.bucket_dir / bucket / name / "data"
    return {p.name for p in data.iterdir()} if data.exists() else set()


def test_a_snapshot_reads_through_every_front_end_and_survives_vacuum_retention_and_deletion(d):
    c = d.client()
    now_ns = time.time_ns()
    put(c, "events", pa.table({"ts": pa.array([now_ns - 10 * 86400 * 10**9, now_ns], pa.timestamp("ns", tz="UTC")),
                               "n": [1, 2]}), bucket="lab")
    put(c, "other", pa.table({"k": [1, 2, 3]}), bucket="lab")
    made = json.loads(action(c, "create_snapshot", {"name": "q4", "bucket": "lab"})[0])
    assert made["dataframes"] == {"events": 1, "other": 1} and made["rows"] == 5
    pinned_events = frame(d, 1, "events", "lab")
    # Retention drops the old row, then more versions, then vacuum to one version.
    action(c, "set_retention", {"name": "events", "bucket": "lab", "retention": {"time_col": "ts", "keep": "1d"}})
    history = lambda: json.loads(action(c, "history", {"name": "events", "bucket": "lab"})[0])
    deadline = time.monotonic() + 60
    while not any(v["operation"] == "retention" for v in history()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(v["operation"] == "retention" for v in history())
    put(c, "events", pa.table({"ts": pa.array([now_ns], pa.timestamp("ns", tz="UTC")), "n": [3]}),
        bucket="lab", mode="replace")
    vacuumed = json.loads(action(c, "vacuum", {"name": "events", "bucket": "lab", "retain": 1})[0])
    assert vacuumed["versions_removed"] >= 2
    assert [v["version"] for v in history()][0] > 1

    def through_the_snapshot():
        want = pinned_events.to_dict("records")
        ticket = {"name": "events", "bucket": "lab", "snapshot": "q4"}
        assert c.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all().to_pandas().to_dict("records") == want
        sql = "select ts, n from lab.events AT (SNAPSHOT => 'q4') order by n"
        assert json_sql(d, sql).to_pandas().to_dict("records") == want
        with flight_sql.connect(d.location) as conn, conn.cursor() as cur:
            cur.execute(sql)
            assert cur.fetch_arrow_table().to_pandas().to_dict("records") == want
        with psycopg.connect(host="127.0.0.1", port=d.pg_port, dbname="lab", user="x") as conn:
            assert [r[0] for r in conn.execute("select n from events AT (SNAPSHOT => 'q4') order by n")] == [1, 2]
        out = cli(d, "get", "events", "--bucket", "lab", "--snapshot", "q4", "--format", "json").stdout
        assert [r["n"] for r in json.loads(out)] == [1, 2]
        out = cli(d, "sql", "select count(*) as n from lab.events AT (SNAPSHOT => 'q4')", "--format", "csv").stdout
        assert out.decode() == "n\n2\n"

    through_the_snapshot()
    assert get(c, "events", bucket="lab").num_rows == 1
    # ls --long and the listing say which snapshots pin a dataframe.
    listed = [json.loads(i.app_metadata) for i in c.list_flights(json.dumps({"bucket": "lab"}).encode())]
    assert [m["snapshots"] for m in listed] == [["q4"], ["q4"]]
    run = cli(d, "ls", "--bucket", "lab", "--long", "--format", "json")
    assert [e["snapshots"] for e in json.loads(run.stdout)] == [["q4"], ["q4"]]

    # Deleted: gone for everyone but the snapshot.
    action(c, "delete", {"name": "events", "bucket": "lab"})
    with pytest.raises(flight.FlightError):
        get(c, "events", bucket="lab")
    through_the_snapshot()
    pinned_files = files_of(d, "events", "lab")
    assert pinned_files
    # A vacuum of the deleted dataframe keeps what the snapshot pins.
    action(c, "vacuum", {"name": "events", "bucket": "lab"})
    assert files_of(d, "events", "lab") == pinned_files
    through_the_snapshot()

    listed = cli(d, "snapshot", "ls", "--bucket", "lab", "--format", "json").stdout
    assert [(s["name"], s["dataframes"]) for s in json.loads(listed)] == [("q4", {"events": 1, "other": 1})]
    run = cli(d, "snapshot", "rm", "q4", "--bucket", "lab")
    assert "removed snapshot q4 (it pinned events v1, other v1)" in run.stderr.decode()
    # The grace period is 0 here: the next vacuum takes what only the snapshot kept.
    action(c, "vacuum", {"name": "events", "bucket": "lab"})
    assert files_of(d, "events", "lab") == set()
    with pytest.raises(flight.FlightError) as e:
        c.do_get(flight.Ticket(json.dumps({"name": "events", "bucket": "lab", "snapshot": "q4"}).encode())).read_all()
    assert error_info(e) == {"type": "FileNotFoundError", "message": "snapshot q4 not found in bucket lab"}
    assert get(c, "other", bucket="lab").num_rows == 3
    c.close()


def test_snapshot_errors_say_what_is_wrong_and_write_nothing(d):
    c = d.client()
    put(c, "u", pa.table({"a": [1]}), bucket="lab")
    action(c, "create_snapshot", {"name": "s1", "bucket": "lab", "dataframes": ["u"]})
    before = d.files()
    cases = [
        ({"name": "s1", "bucket": "lab"}, "create_snapshot", "FileExistsError",
         "snapshot s1 already exists in bucket lab; remove it first to pin the current versions"),
        ({"name": "s2", "bucket": "lab", "dataframes": ["nope"]}, "create_snapshot", "FileNotFoundError",
         "dataframe nope in bucket lab not found"),
        ({"name": "../x", "bucket": "lab"}, "create_snapshot", "InvalidNameError",
         "invalid snapshot name \"../x\": character '/' not allowed (use letters, digits, '_', '-', '.')"),
        ({"name": "s2", "bucket": "nosuch"}, "create_snapshot", "FileNotFoundError", "bucket nosuch not found"),
        ({"bucket": "lab"}, "create_snapshot", "InvalidArgumentError", "a snapshot request needs the snapshot's name"),
        ({"name": "s9", "bucket": "lab"}, "delete_snapshot", "FileNotFoundError", "snapshot s9 not found in bucket lab"),
    ]
    for body, kind, error, message in cases:
        with pytest.raises(flight.FlightError) as e:
            action(c, kind, body)
        assert error_info(e) == {"type": error, "message": message}, (body, error_info(e))
    assert d.files() == before
    with pytest.raises(flight.FlightError) as e:
        c.do_get(flight.Ticket(json.dumps({"name": "t", "snapshot": "s1"}).encode())).read_all()
    assert error_info(e)["type"] == "FileNotFoundError"
    with pytest.raises(flight.FlightServerError) as e:
        json_sql(d, "select * from lab.u AT (SNAPSHOT => 'nope')")
    assert error_info(e) == {"type": "FileNotFoundError", "message": "snapshot nope not found in bucket lab"}
    # A bucket with a snapshot is not empty.
    action(c, "delete", {"name": "u", "bucket": "lab"})
    with pytest.raises(flight.FlightError) as e:
        action(c, "delete_bucket", {"name": "lab"})
    assert error_info(e)["type"] == "BucketNotEmptyError" and "(0 dataframes, 1 snapshot)" in error_info(e)["message"]
    assert json_sql(d, "select a from lab.u AT (SNAPSHOT => 's1')").to_pylist() == [{"a": 1}]
    c.close()


def test_a_diff_and_a_snapshot_on_each_store(tmp_path, request, store_kind):
    d = start_daemon(tmp_path, request, store_kind, ["--vacuum-grace", "0s"])
    try:
        c = d.client()
        put(c, "t", readings(range(10)), bucket="lab")
        put(c, "t", readings([2, 11], value=lambda i: -1.0), bucket="lab", mode="upsert", keys=["id"])
        changes = ticket_diff(d, 1, 2, ("id",), bucket="lab").sort_by("id").to_pylist()
        assert [(r["_change"], r["id"], r["_changed_columns"]) for r in changes] == [
            ("changed", 2, "value"), ("added", 11, None)]
        action(c, "create_snapshot", {"name": "s", "bucket": "lab"})
        pinned = get(c, "t", bucket="lab").to_pylist()
        action(c, "delete", {"name": "t", "bucket": "lab"})
        ticket = flight.Ticket(json.dumps({"name": "t", "bucket": "lab", "snapshot": "s"}).encode())
        assert c.do_get(ticket).read_all().to_pylist() == pinned
        assert any(f.startswith("lab/t/data/") for f in d.files())
        assert any(f.startswith("lab/_snapshots/") for f in d.files())
        action(c, "delete_snapshot", {"name": "s", "bucket": "lab"})
        action(c, "vacuum", {"name": "t", "bucket": "lab"})
        assert [f for f in d.files() if f.startswith(("lab/t/", "lab/_snapshots/"))] == []
        c.close()
    finally:
        d.stop()
