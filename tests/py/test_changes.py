"""Changing data in place (SPEC §12): schema merge on append, upsert by keys,
row deletes and retention, each checked against what pandas computes for the
same change, through plain pyarrow, the real CLI and ADBC's Flight SQL driver."""

import json
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight
import pytest
from adbc_driver_flightsql import dbapi as flight_sql

from conftest import Daemon, error_info, files_under
from helpers import action, cli, get, put, wait_for

STORES = ("local", "s3")

CATEGORIES = ["north", "south", "east"]


def frame(n, start=0, day="2024-03-01"):
    """A table with a tz-aware ns time, uint64 keys and a dictionary column."""
    ids = np.arange(start, start + n, dtype=np.uint64)
    return pa.table({
        "ts": pa.array(pd.date_range(day, periods=n, freq="min", tz="Europe/Paris").as_unit("ns")),
        "id": pa.array(ids),
        "site": pa.DictionaryArray.from_arrays(pa.array((ids % 3).astype(np.int8)), pa.array(CATEGORIES)),
        "value": pa.array(ids.astype(np.float64) / 10),
    })


def history(client, name, bucket=None):
    return json.loads(action(client, "history", {"name": name, "bucket": bucket})[0])


def last_of(client, name, operation, bucket=None):
    """The newest version made by `operation` (a background compaction may
    follow a change that marked rows deleted)."""
    return [v for v in history(client, name, bucket) if v["operation"] == operation][-1]


def pandas(table):
    return table.to_pandas()


def same(got: pa.Table, expected: pd.DataFrame):
    pd.testing.assert_frame_equal(got.to_pandas(), expected.reset_index(drop=True))


def refused(call):
    with pytest.raises(flight.FlightServerError) as e:
        call()
    return error_info(e)


def unchanged(daemon, client, name, before_files, before_versions):
    assert len(history(client, name)) == before_versions
    assert daemon.files() == before_files


# ---- schema merge --------------------------------------------------------


def test_append_with_merge_adds_columns_nulls_missing_ones_and_widens(daemon, client):
    old = frame(100).append_column("n", pa.array(range(100), pa.int32()))
    put(client, "m", old)
    new = pa.table({
        "ts": pa.array(pd.date_range("2024-04-01", periods=5, freq="min", tz="Europe/Paris").as_unit("ns")),
        "id": pa.array(range(1000, 1005), pa.uint64()),
        "n": pa.array([10**12 + i for i in range(5)], pa.int64()),  # int32 -> int64
        "note": ["a", "b", None, "d", "e"],  # new; "site" and "value" are left out
    })
    assert put(client, "m", new, mode="append", schema="merge") == {"version": 2, "rows": 5}

    got = get(client, "m")
    assert [(f.name, str(f.type)) for f in got.schema] == [
        ("ts", "timestamp[ns, tz=Europe/Paris]"), ("id", "uint64"),
        ("site", "dictionary<values=string, indices=int8, ordered=0>"), ("value", "double"),
        ("n", "int64"), ("note", "string")]
    expected = pd.concat([pandas(old), pandas(new)], ignore_index=True)
    expected["n"] = expected["n"].astype("int64")
    expected["site"] = pd.Categorical(expected["site"], categories=CATEGORIES)
    same(got, expected[[f.name for f in got.schema]])
    # The older version reads with its own schema, exactly.
    assert get(client, "m", version=1).equals(old)
    # SQL sees the merged table too.
    sql = get(client, None, sql="select count(*) c, count(note) notes, count(site) sites, max(n) n from m")
    assert sql.to_pylist() == [{"c": 105, "notes": 4, "sites": 100, "n": 10**12 + 4}]
    assert history(client, "m")[-1]["operation"] == "append"


def test_merge_refuses_narrowing_and_changed_kinds_and_writes_nothing(daemon, client):
    put(client, "m", pa.table({"id": pa.array([1, 2], pa.int64()), "x": [0.5, 1.5]}))
    files, versions = daemon.files(), len(history(client, "m"))
    for bad, column, what in [
        (pa.table({"id": pa.array([3], pa.int32()), "x": [1.0]}), "id", "Int64 in the dataframe but Int32"),
        (pa.table({"id": pa.array([3], pa.int64()), "x": ["text"]}), "x", "Float64 in the dataframe but Utf8"),
        (pa.table({"id": pa.array([3], pa.uint64()), "x": [1.0]}), "id", "Int64 in the dataframe but UInt64"),
    ]:
        info = refused(lambda: put(client, "m", bad, mode="append", schema="merge"))
        assert info["type"] == "SchemaMismatchError", info
        assert f'column "{column}" is {what}' in info["message"], info
        unchanged(daemon, client, "m", files, versions)
    # Without merge a new column is still a mismatch.
    info = refused(lambda: put(client, "m", pa.table({"id": [3], "x": [1.0], "y": [1]}), mode="append"))
    assert info["type"] == "SchemaMismatchError" and "cannot append to dataframe m" in info["message"], info
    info = refused(lambda: put(client, "m", pa.table({"id": [3]}), mode="append", schema="loose"))
    assert info["type"] == "InvalidArgumentError" and 'unknown schema "loose"' in info["message"], info
    unchanged(daemon, client, "m", files, versions)


def test_cli_put_schema_merge_from_csv(daemon, client, tmp_path):
    put(client, "c", pa.table({"id": pa.array([1, 2], pa.int64()), "x": [0.5, 1.5]}))
    path = tmp_path / "more.csv"
    path.write_text("id,x,label\n3,2.5,new\n")
    cli(daemon, "put", "c", str(path), "--mode", "append", "--schema", "merge")
    assert get(client, "c").to_pylist()[-1] == {"id": 3, "x": 2.5, "label": "new"}
    assert get(client, "c").column("label").null_count == 2


# ---- upsert --------------------------------------------------------------


def upsert_expected(old: pd.DataFrame, upload: pd.DataFrame, keys):
    """pandas' upsert: rows whose keys the upload has go, the upload is appended."""
    index = pd.MultiIndex.from_frame(old[keys])
    incoming = pd.MultiIndex.from_frame(upload[keys])
    return pd.concat([old[~index.isin(incoming)], upload], ignore_index=True)


def test_upsert_replaces_matching_keys_and_appends_the_rest(daemon, client):
    old = frame(1000)
    put(client, "u", old)
    changed = pandas(frame(100, start=450))
    changed["value"] = -1.0
    fresh = pandas(frame(50, start=5000, day="2024-05-01"))
    upload = pa.Table.from_pandas(pd.concat([changed, fresh], ignore_index=True), schema=old.schema,
                                  preserve_index=False)
    assert put(client, "u", upload, mode="upsert", keys=["id"]) == {"version": 2, "rows": 150}
    same(get(client, "u"), upsert_expected(pandas(old), pandas(upload), ["id"]))
    last = last_of(client, "u", "upsert")
    assert (last["version"], last["rows_updated"], last["rows_added"], last["rows"]) == (2, 100, 50, 1050)
    assert get(client, "u", version=1).equals(old)
    # Flight SQL (ADBC) sees the new version.
    with flight_sql.connect(daemon.location) as conn, conn.cursor() as cur:
        cur.execute("select count(*), sum(value) from u where value < 0")
        assert cur.fetchone() == (100, -100.0)


def test_upsert_by_a_key_of_two_columns_and_into_a_new_dataframe(daemon, client):
    old = frame(300)
    assert put(client, "k", old, mode="upsert", keys=["site", "ts"]) == {"version": 1, "rows": 300}
    upload = pandas(frame(20, start=100))
    upload["value"] = 99.0
    upload = pa.Table.from_pandas(upload, schema=old.schema, preserve_index=False)
    put(client, "k", upload, mode="upsert", keys=["site", "ts"])
    same(get(client, "k"), upsert_expected(pandas(old), pandas(upload), ["site", "ts"]))
    assert history(client, "k")[0]["operation"] == "create"


def test_upsert_with_schema_merge(daemon, client):
    old = frame(10)
    put(client, "um", old)
    upload = pa.table({"id": pa.array([3, 20], pa.uint64()), "value": [30.0, 200.0], "flag": [True, False]})
    put(client, "um", upload, mode="upsert", keys=["id"], schema="merge")
    got = get(client, "um").to_pandas()
    assert list(got.columns) == ["ts", "id", "site", "value", "flag"]
    assert got["id"].tolist() == [0, 1, 2, 4, 5, 6, 7, 8, 9, 3, 20]
    assert got["value"].tolist()[-2:] == [30.0, 200.0]
    assert got["flag"].isna().sum() == 9 and got["ts"].isna().sum() == 2


def test_upsert_errors_write_nothing(daemon, client):
    put(client, "e", frame(20))
    files, versions = daemon.files(), len(history(client, "e"))
    dup = pa.concat_tables([frame(3, start=5), frame(2, start=6)])
    cases = [
        (lambda: put(client, "e", frame(3), mode="upsert"), "InvalidArgumentError", 'mode upsert needs "keys"'),
        (lambda: put(client, "e", frame(3), mode="upsert", keys=[]), "InvalidArgumentError", 'mode upsert needs "keys"'),
        (lambda: put(client, "e", frame(3), mode="upsert", keys=["nope"]), "InvalidArgumentError",
         'unknown key column "nope"'),
        (lambda: put(client, "e", frame(3), mode="upsert", keys=["id", "id"]), "InvalidArgumentError",
         'key column "id" is named twice'),
        (lambda: put(client, "e", frame(3), mode="append", keys=["id"]), "InvalidArgumentError",
         '"keys" are for mode upsert, not append'),
        (lambda: put(client, "e", dup, mode="upsert", keys=["id"], batch_size=3), "InvalidArgumentError",
         "the upload holds the key (id=6) more than once"),
        (lambda: put(client, "e", pa.table({"id": pa.array([1], pa.uint64())}), mode="upsert", keys=["id"]),
         "SchemaMismatchError", "cannot upsert into dataframe e"),
    ]
    for call, kind, message in cases:
        info = refused(call)
        assert info["type"] == kind and message in info["message"], info
        unchanged(daemon, client, "e", files, versions)
    assert get(client, "e").equals(frame(20))


def test_cli_upsert_and_its_usage_errors(daemon, client, tmp_path):
    put(client, "cu", pa.table({"id": pa.array([1, 2, 3], pa.int64()), "x": [1.0, 2.0, 3.0]}))
    path = tmp_path / "u.csv"
    path.write_text("id,x\n2,20\n4,40\n")
    out = cli(daemon, "put", "cu", str(path), "--mode", "upsert", "--key", "id").stderr.decode()
    assert "put cu: 2 rows, version 2" in out
    assert get(client, "cu").to_pydict() == {"id": [1, 3, 2, 4], "x": [1.0, 3.0, 20.0, 40.0]}
    run = cli(daemon, "put", "cu", str(path), "--mode", "upsert", check=False)
    assert run.returncode == 2 and b"--mode upsert needs --key" in run.stderr
    run = cli(daemon, "put", "cu", str(path), "--mode", "upsert", "--key", "nope", check=False)
    assert run.returncode != 0 and b'shoots: error: unknown key column "nope"' in run.stderr
    assert len(history(client, "cu")) == 2


def data_files_of(daemon, name, version=None):
    """The data file entries a version lists, read from the layout."""
    commits = sorted(p for p in files_under(daemon.bucket_dir) if p.startswith(f"_default/{name}/_log/0"))
    path = commits[-1] if version is None else f"_default/{name}/_log/{version:020}.json"
    return json.loads((daemon.bucket_dir / path).read_text())["files"]


@pytest.fixture
def uncompacted(tmp_path):
    """A local daemon that leaves small files alone (no background
    compaction), so that a test can count the files its puts made, and
    whose vacuum deletes at once (no other daemon shares its store)."""
    d = Daemon(tmp_path / "buckets", extra_args=["--compact-after", "0", "--vacuum-grace", "0s"])
    yield d
    d.stop()


def test_upsert_of_one_day_rewrites_only_that_days_file(uncompacted):
    daemon, client = uncompacted, uncompacted.client()
    days = pd.date_range("2024-01-01", periods=30, freq="D", tz="UTC")
    for day in days:
        put(client, "month", frame(200, start=int((day - days[0]).days) * 1000, day=str(day.date())), mode="append")
    before = data_files_of(daemon, "month")
    assert len(before) == 30
    old = get(client, "month")
    upload = pandas(frame(200, start=14000, day="2024-01-15"))
    upload["value"] = -7.0
    upload = pa.Table.from_pandas(upload, schema=old.schema, preserve_index=False)
    put(client, "month", upload, mode="upsert", keys=["id"])
    after = data_files_of(daemon, "month")
    kept = {f["path"] for f in before} & {f["path"] for f in after}
    assert len(kept) == 29, "only the day's file goes"
    last = last_of(client, "month", "upsert")
    assert (last["files_removed"], last["files_added"], last["rows_updated"]) == (1, 1, 200)
    same(get(client, "month"), upsert_expected(pandas(old), pandas(upload), ["id"]))


def test_a_change_inside_one_big_file_keeps_its_other_row_groups(uncompacted):
    daemon, client = uncompacted, uncompacted.client()
    big = frame(600_000)  # 5 row groups of 128K rows in one file
    put(client, "big", big)
    (only,) = data_files_of(daemon, "big")
    # 40,000 of the 131,072 rows of the third row group: more than marks are for.
    reply = json.loads(action(client, "delete_rows", {"name": "big", "where": "id >= 300000 and id < 340000"})[0])
    assert reply == {"rows_deleted": 40_000, "version": 2}
    after = data_files_of(daemon, "big")
    ranges = [f for f in after if f["path"] == only["path"]]
    assert len(ranges) == 2 and all("range" in f for f in ranges), after
    assert sum(f["rows"] for f in after) == 560_000
    rewritten = [f for f in after if f["path"] != only["path"]]
    assert len(rewritten) == 1 and rewritten[0]["rows"] == 131_072 - 40_000
    df = pandas(big)
    expected = df[~((df.id >= 300000) & (df.id < 340000))]
    same(get(client, "big"), expected)
    got = get(client, None, sql="select count(*) c, sum(id) s, min(id) lo, max(id) hi from big")
    assert got.to_pylist() == [{"c": 560_000, "s": int(expected.id.sum()), "lo": 0, "hi": 599_999}]
    with flight_sql.connect(daemon.location) as conn, conn.cursor() as cur:
        cur.execute("select id from big where id between 299995 and 340005 order by id")
        assert [r[0] for r in cur.fetchall()] == [*range(299995, 300000), *range(340000, 340006)]


def test_kill_9_mid_upsert_keeps_the_previous_version(tmp_path, request, store_kind):
    from conftest import start_daemon
    d = start_daemon(tmp_path, request, store_kind)
    try:
        c = d.client()
        old = frame(1000)
        put(c, "k9", old)
        upload = pa.concat_tables([frame(1000, start=i * 1000) for i in range(20)])
        cmd = {"name": "k9", "mode": "upsert", "keys": ["id"]}
        writer, _ = c.do_put(flight.FlightDescriptor.for_command(json.dumps(cmd)), upload.schema)
        batches = upload.to_batches(max_chunksize=1000)
        for b in batches[:10]:
            writer.write_batch(b)
        d.kill()
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - the daemon is gone; any error will do
            pass
        d.start()
        c = d.client()
        assert get(c, "k9").equals(old)
        assert [v["operation"] for v in history(c, "k9")] == ["create"]
        put(c, "k9", frame(5, start=2), mode="upsert", keys=["id"])
        assert get(c, "k9").num_rows == 1000
    finally:
        d.stop()


def test_concurrent_appends_and_upserts_lose_nothing(daemon, client):
    put(client, "race", frame(100))
    errors = []

    def appender():
        c = daemon.client()
        try:
            for i in range(20):
                put(c, "race", frame(5, start=10_000 + i * 5), mode="append")
        except Exception as e:  # noqa: BLE001 - any failure fails the test
            errors.append(e)

    def upserter():
        c = daemon.client()
        try:
            for i in range(10):
                put(c, "race", frame(10, start=i * 10), mode="upsert", keys=["id"])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=appender), threading.Thread(target=upserter)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    ids = get(client, "race").column("id").to_pylist()
    assert sorted(ids) == list(range(100)) + list(range(10_000, 10_100))


# ---- delete rows ---------------------------------------------------------


def test_delete_rows_matches_a_pandas_mask(daemon, client):
    old = frame(2000)
    put(client, "d", old)
    df = pandas(old)
    where = "id % 7 = 0 or (site = 'south' and value > 150)"
    reply = json.loads(action(client, "delete_rows", {"name": "d", "where": where})[0])
    mask = (df.id % 7 == 0) | ((df.site == "south") & (df.value > 150))
    assert reply == {"rows_deleted": int(mask.sum()), "version": 2}
    same(get(client, "d"), df[~mask])
    last = last_of(client, "d", "delete_rows")
    assert (last["version"], last["rows_deleted"], last["rows"]) == (2, int(mask.sum()), int((~mask).sum()))
    assert get(client, "d", version=1).equals(old)
    # A predicate that matches nothing makes no version.
    reply = json.loads(action(client, "delete_rows", {"name": "d", "where": "id > 10000000"})[0])
    assert reply == {"rows_deleted": 0, "version": 2}


def test_delete_rows_by_time_with_nulls_kept(daemon, client):
    t = pa.table({"ts": pa.array([pd.Timestamp("2024-01-01", tz="UTC"), None, pd.Timestamp("2025-01-01", tz="UTC")],
                                 pa.timestamp("ns", tz="UTC")), "v": [1, 2, 3]})
    put(client, "n", t)
    json.loads(action(client, "delete_rows", {"name": "n", "where": "ts < '2024-06-01T00:00:00Z'"})[0])
    assert get(client, "n").column("v").to_pylist() == [2, 3]


def test_delete_rows_leaves_files_the_statistics_rule_out(daemon, client):
    for day in range(5):
        put(client, "days", frame(100, start=day * 100, day=f"2024-02-0{day + 1}"), mode="append")
    # 30 of a file's 100 rows: that file is rewritten, the other four are not read.
    action(client, "delete_rows", {"name": "days", "where": "id >= 210 and id < 240"})
    last = last_of(client, "days", "delete_rows")
    assert (last["files_removed"], last["files_added"], last["rows_deleted"]) == (1, 1, 30)
    assert get(client, "days").column("id").to_pylist() == [*range(210), *range(240, 500)]


def test_delete_rows_errors_write_nothing(daemon, client):
    put(client, "de", frame(10))
    files, versions = daemon.files(), len(history(client, "de"))
    for where, kind, message in [
        ("id >", "DataFusionError", ""),
        ("nope = 1", "DataFusionError", "nope"),
        ("value + 1", "DataFusionError", "is Float64, not a boolean"),
    ]:
        info = refused(lambda: action(client, "delete_rows", {"name": "de", "where": where}))
        assert info["type"] == kind and message in info["message"], info
        unchanged(daemon, client, "de", files, versions)
    info = refused(lambda: action(client, "delete_rows", {"name": "absent", "where": "true"}))
    assert info["type"] == "FileNotFoundError", info
    info = refused(lambda: action(client, "delete_rows", {"name": "de"}))
    assert info["type"] == "InvalidArgumentError" and "missing field `where`" in info["message"], info
    unchanged(daemon, client, "de", files, versions)


def test_cli_rm_where(daemon, client):
    put(client, "r", frame(100))
    out = cli(daemon, "rm", "r", "--where", "id < 30").stderr.decode()
    assert "deleted 30 rows of r, version 2" in out
    assert get(client, "r").num_rows == 70
    run = cli(daemon, "rm", "r", "--where", "id <", check=False)
    assert run.returncode == 1 and run.stderr.decode().startswith("shoots: error: "), run.stderr
    run = cli(daemon, "rm", "r", "x", "--where", "id < 3", check=False)
    assert run.returncode == 2 and b"one dataframe at a time" in run.stderr
    text = cli(daemon, "history", "r").stdout.decode()
    assert "delete_rows" in text and "-30" in text


# ---- retention -----------------------------------------------------------


def aged(name_days, now):
    """Hourly rows over `name_days` days back from `now`, with a gap of two
    days around 30 days ago so that no row is near a 30-day cutoff."""
    times = [t for t in pd.date_range(now - pd.Timedelta(days=name_days), now, freq="h", tz="UTC")
             if abs((now - t) - pd.Timedelta(days=30)) > pd.Timedelta(days=1)]
    return pa.table({"ts": pa.array(pd.DatetimeIndex(times).as_unit("ns")), "v": np.arange(len(times), dtype=np.int64)})


def test_retention_drops_old_rows_in_the_background(daemon, client):
    now = pd.Timestamp.now(tz="UTC").floor("h")
    table = aged(40, now)
    # One file per ten days, so whole files can go.
    for part in range(4):
        put(client, "ret", table.slice(part * 240, 240 if part < 3 else None), mode="append")
    out = cli(daemon, "retention", "ret", "--time-col", "ts", "--keep", "30d").stderr.decode()
    assert "dataframe ret (version 5) keeps rows of the last 30d by ts" in out
    wait_for(lambda: any(v["operation"] == "retention" for v in history(client, "ret")), "the retention run")
    df = pandas(table)
    expected = df[df.ts >= now - pd.Timedelta(days=30)]
    same(get(client, "ret"), expected)
    last = last_of(client, "ret", "retention")
    assert last["rows_deleted"] == len(df) - len(expected)
    assert last["files_removed"] >= 1, "the oldest file went whole"
    assert get(client, "ret", version=4).num_rows == len(df)
    assert "30d by ts" in cli(daemon, "ls", "--long").stdout.decode()
    assert cli(daemon, "retention", "ret").stdout.decode().strip() == "30d by ts"
    cli(daemon, "retention", "ret", "--off")
    assert "30d by ts" not in cli(daemon, "ls", "--long").stdout.decode()
    assert cli(daemon, "retention", "ret").stdout.decode().startswith("none")


def test_bucket_retention_applies_to_dataframes_with_the_column(daemon, client):
    now = pd.Timestamp.now(tz="UTC").floor("h")
    table = aged(40, now)
    put(client, "a", table, bucket="logs")
    put(client, "other", pa.table({"when": [1, 2]}), bucket="logs")
    cli(daemon, "retention", "--bucket", "logs", "--time-col", "ts", "--keep", "30d")
    wait_for(lambda: any(v["operation"] == "retention" for v in history(client, "a", bucket="logs")),
             "the retention run")
    df = pandas(table)
    same(get(client, "a", bucket="logs"), df[df.ts >= now - pd.Timedelta(days=30)])
    assert [v["operation"] for v in history(client, "other", bucket="logs")] == ["create"]
    listed = json.loads(cli(daemon, "ls", "--bucket", "logs", "--format", "json").stdout)
    assert listed[0]["retention"] == {"time_col": "ts", "keep": "30d", "from_bucket": True}
    assert "retention" not in listed[1]


def test_retention_errors(daemon, client):
    put(client, "re", pa.table({"ts": pa.array([1, 2], pa.int64()), "t": pa.array([0, 1], pa.timestamp("s"))}))
    files, versions = daemon.files(), len(history(client, "re"))
    for body, kind, message in [
        ({"name": "re", "retention": {"time_col": "nope", "keep": "30d"}}, "InvalidArgumentError",
         'column "nope" is not in the dataframe'),
        ({"name": "re", "retention": {"time_col": "ts", "keep": "30d"}}, "InvalidArgumentError",
         '"ts" is Int64, not a timestamp or date'),
        ({"name": "re", "retention": {"time_col": "t", "keep": "5y"}}, "InvalidArgumentError", "unknown unit"),
        ({"name": "re", "retention": {"time_col": "t", "keep": "0d"}}, "InvalidArgumentError", "longer than 0s"),
        ({"name": "absent", "retention": {"time_col": "t", "keep": "1d"}}, "FileNotFoundError", "absent"),
        ({"bucket": "nobucket", "retention": {"time_col": "t", "keep": "1d"}}, "FileNotFoundError", "nobucket"),
    ]:
        info = refused(lambda: action(client, "set_retention", body))
        assert info["type"] == kind and message in info["message"], (body, info)
        unchanged(daemon, client, "re", files, versions)
    run = cli(daemon, "retention", "re", "--time-col", "t", "--keep", "5y", check=False)
    assert run.returncode == 2 and b"unknown unit" in run.stderr
    run = cli(daemon, "retention", check=False)
    assert run.returncode == 2 and b"give --time-col and --keep, or --off" in run.stderr


def test_a_scattered_upsert_marks_rows_deleted_and_compaction_folds_them_in(uncompacted):
    daemon, client = uncompacted, uncompacted.client()
    old = frame(300_000)
    put(client, "s", old)
    upload = pandas(old.take(pa.array(np.arange(0, 300_000, 100))))
    upload["value"] = -1.0
    upload = pa.Table.from_pandas(upload, schema=old.schema, preserve_index=False)
    put(client, "s", upload, mode="upsert", keys=["id"])
    entries = data_files_of(daemon, "s")
    marked = [f for f in entries if "deleted" in f]
    assert len(marked) == 1 and marked[0]["deleted"]["rows"] == 3000, entries
    assert sum(f["rows"] for f in entries) == 300_000
    expected = upsert_expected(pandas(old), pandas(upload), ["id"])
    same(get(client, "s"), expected)
    sql = get(client, None, sql="select count(*) n, sum(value) v, count(*) filter (where value < 0) neg from s")
    # A float sum's last digit depends on the order the partitions add up in.
    assert sql.to_pylist() == [{"n": 300_000, "v": pytest.approx(expected.value.sum(), rel=1e-12), "neg": 3000}]
    with flight_sql.connect(daemon.location) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from s where id % 100 = 0 and value >= 0")
        assert cur.fetchone() == (0,)
    # A row delete on top adds to the marks.
    reply = json.loads(action(client, "delete_rows", {"name": "s", "where": "id % 1000 = 7"})[0])
    assert reply["rows_deleted"] == 300
    expected = expected[expected.id % 1000 != 7]
    same(get(client, "s"), expected)
    cli(daemon, "compact", "s")
    assert not any("deleted" in f for f in data_files_of(daemon, "s"))
    same(get(client, "s"), expected)
    cli(daemon, "vacuum", "s", "--retain", "1")
    assert [f for f in files_under(daemon.bucket_dir) if f.endswith(".deleted")] == []
