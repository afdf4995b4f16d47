"""Every method of ShootsClient against the bundled daemon."""

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight
import pytest
from pandas.testing import assert_frame_equal

import shoots
from shoots import BucketDeleteMode, PutMode


def sensor(n=6, start=0):
    return pd.DataFrame({
        "ts": pd.date_range("2024-01-01", periods=n, freq="1s") + pd.Timedelta(seconds=start),
        "site": ["n", "s"] * (n // 2),
        "v": [float(i + start) for i in range(n)],
    })


def test_original_methods(client):
    df = sensor()
    assert client.ping() == "pong"
    assert client.put("s", df) == shoots.PutResult(version=1, rows=6)
    assert_frame_equal(client.get("s"), df)
    got = client.get("s", sql="select site, count(*) as n from s group by site order by site")
    assert got.to_dict("list") == {"site": ["n", "s"], "n": [3, 3]}
    client.put("s", df, mode=PutMode.APPEND)
    client.put("s", df, mode=PutMode.REPLACE, bucket="lab")
    assert [d["name"] for d in client.list()] == ["s"]
    listed = client.list(bucket="lab")[0]
    assert listed["name"] == "s" and listed["rows"] == 6 and listed["version"] == 1
    assert listed["schema"].names == ["ts", "site", "v"]
    assert client.buckets() == ["lab"]
    resampled = client.resample("s", "per2", rule="2s", time_col="ts", aggregation_func="mean")
    assert resampled["source_rows"] == 12 and resampled["target_rows"] == 3 and resampled["dropped_columns"] == ["site"]
    assert len(client.get("per2")) == 3
    assert client.resample("s", "top", sql="select * from s limit 2")["target_rows"] == 2
    assert json.loads(client.delete("s")) == {"success": True, "message": "deleted s"}
    with pytest.raises(shoots.BucketNotEmptyError):
        client.delete_bucket("lab")
    assert "deleted" in client.delete_bucket("lab", mode=BucketDeleteMode.DELETE_CONTENTS)
    assert client.buckets() == []


def test_each_error_kind_is_its_own_exception(client):
    df = sensor()
    client.put("s", df)
    with pytest.raises(shoots.DataframeExistsError) as e:
        client.put("s", df)
    assert isinstance(e.value, FileExistsError) and "already exists" in str(e.value)
    with pytest.raises(shoots.DataframeNotFoundError) as e:
        client.get("missing")
    assert isinstance(e.value, FileNotFoundError) and "missing" in str(e.value)
    with pytest.raises(FileNotFoundError):
        client.list(bucket="nobucket")
    with pytest.raises(shoots.DataFusionError):
        client.get("s", sql="select nope from s")
    with pytest.raises(shoots.SchemaMismatchError):
        client.put("s", pd.DataFrame({"other": [1]}), mode=PutMode.APPEND)
    with pytest.raises(shoots.InvalidNameError):
        client.put("../etc", df)
    with pytest.raises(shoots.InvalidArgumentError):
        client.put("s", df, mode=PutMode.UPSERT, keys=["nope"])
    with pytest.raises(shoots.BucketNotEmptyError):
        client.put("t", df, bucket="b")
        client.delete_bucket("b")
    for cls in (shoots.DataframeExistsError, shoots.DataFusionError, shoots.SchemaMismatchError):
        assert issubclass(cls, shoots.ShootsError)
    # Nothing was written by any of them.
    assert [h["version"] for h in client.history("s")] == [1]
    assert_frame_equal(client.get("s"), df)


def test_versions_history_and_get_version(client):
    client.put("s", sensor(4))
    client.put("s", sensor(4, start=4), mode=PutMode.APPEND)
    history = client.history("s")
    assert [(h["version"], h["operation"], h["rows"]) for h in history] == [(1, "create", 4), (2, "append", 8)]
    assert isinstance(history[0]["timestamp"], dt.datetime)
    assert_frame_equal(client.get("s", version=1), sensor(4))
    assert len(client.get("s")) == 8
    with pytest.raises(shoots.DataframeNotFoundError):
        client.get("s", version=9)


def test_diffs_and_named_snapshots(client):
    client.put("k", pd.DataFrame({"id": [1, 2, 3], "v": [1.0, 2.0, 3.0]}))
    client.put("k", pd.DataFrame({"id": [2, 4], "v": [20.0, 40.0]}), mode=PutMode.UPSERT, keys=["id"])
    plain = client.diff("k", 1, 2).sort_values(["_change", "id"]).reset_index(drop=True)
    assert plain.to_dict("list") == {"_change": ["added", "added", "removed"], "id": [2, 4, 2], "v": [20.0, 40.0, 2.0]}
    keyed = client.diff("k", 1, 2, keys=["id"], as_="arrow").sort_by("id").to_pylist()
    assert keyed == [{"_change": "changed", "_changed_columns": "v", "id": 2, "v": 20.0},
                     {"_change": "added", "_changed_columns": None, "id": 4, "v": 40.0}]
    with pytest.raises(shoots.InvalidArgumentError, match='diff key "nope" is not a column'):
        client.diff("k", 1, 2, keys=["nope"])

    made = client.create_snapshot("before-cleanup")
    assert made["dataframes"] == {"k": 2} and isinstance(made["created"], dt.datetime)
    assert [s["name"] for s in client.snapshots()] == ["before-cleanup"]
    assert client.list()[0]["snapshots"] == ["before-cleanup"]
    with pytest.raises(FileExistsError):
        client.create_snapshot("before-cleanup")
    client.delete("k")
    assert client.get("k", snapshot="before-cleanup")["id"].tolist() == [1, 3, 2, 4]
    assert client.sql("select count(*) as n from k AT (SNAPSHOT => 'before-cleanup')")["n"].tolist() == [4]
    assert client.delete_snapshot("before-cleanup")["dataframes"] == {"k": 2}
    assert client.snapshots() == []
    with pytest.raises(FileNotFoundError):
        client.get("k", snapshot="before-cleanup")


def test_upsert_schema_merge_delete_rows(client):
    client.put("k", pd.DataFrame({"id": [1, 2, 3], "v": [1.0, 2.0, 3.0]}))
    r = client.put("k", pd.DataFrame({"id": [2, 4], "v": [20.0, 40.0]}), mode=PutMode.UPSERT, keys=["id"])
    assert r.version == 2
    assert client.get("k").to_dict("list") == {"id": [1, 3, 2, 4], "v": [1.0, 3.0, 20.0, 40.0]}
    client.put("k", pd.DataFrame({"id": [5], "v": [5.0], "note": ["new"]}), mode="append", schema="merge")
    got = client.get("k")
    assert list(got.columns) == ["id", "v", "note"] and got["note"].isna().sum() == 4
    assert client.delete_rows("k", where="id > 3") == {"rows_deleted": 2, "version": 4}
    assert client.get("k")["id"].tolist() == [1, 3, 2]
    with pytest.raises(shoots.DataFusionError):
        client.delete_rows("k", where="nope = 1")
    assert client.history("k")[-1]["version"] == 4


def test_retention_compact_vacuum_stats(client):
    now = pd.Timestamp.now(tz="UTC").floor("s")
    df = pd.DataFrame({"ts": [now - pd.Timedelta(days=40), now - pd.Timedelta(days=1)], "v": [1, 2]})
    client.put("r", df)
    assert client.retention("r") is None
    reply = client.set_retention("r", time_col="ts", keep=dt.timedelta(days=30))
    assert reply["retention"] == {"time_col": "ts", "keep": "30d"}
    assert client.retention("r") == {"time_col": "ts", "keep": "30d"}
    client.set_retention(bucket=None, time_col="ts", keep="7d")
    client.set_retention("r")
    assert client.retention("r") == {"time_col": "ts", "keep": "1w", "from_bucket": True}
    with pytest.raises(ValueError):
        client.set_retention("r", time_col="ts")
    with pytest.raises(shoots.DataframeNotFoundError):
        client.retention("missing")

    for i in range(5):
        client.put("c", pd.DataFrame({"i": [i]}), mode="append")
    compacted = client.compact("c")
    assert compacted["files_before"] == 5 and compacted["files_after"] == 1
    assert client.get("c")["i"].tolist() == [0, 1, 2, 3, 4]
    vacuumed = client.vacuum("c", retain=1)
    assert vacuumed["versions_removed"] == 5
    assert [h["version"] for h in client.history("c")] == [6]
    stats = client.stats()
    assert stats["store_requests"]["put"] > 0 and "uptime_s" in stats


def test_sql_across_buckets(client):
    client.put("a", pd.DataFrame({"k": [1, 2], "x": ["one", "two"]}))
    client.put("b", pd.DataFrame({"k": [2, 3], "y": [20, 30]}), bucket="lab")
    q = "select a.k, x, y from a join lab.b on a.k = lab.b.k"
    assert client.sql(q).to_dict("list") == {"k": [2], "x": ["two"], "y": [20]}
    assert client.sql("select count(*) as n from b", bucket="lab")["n"].tolist() == [2]
    assert client.sql("select count(*) as n from _default.a", bucket="lab", as_="arrow").column("n").to_pylist() == [2]
    with pytest.raises(shoots.DataFusionError):
        client.sql("select * from nope")
    with pytest.raises(ValueError):
        client.sql("select 1", as_="excel")


def test_typed_errors_mid_stream_and_reader(client):
    client.put("s", sensor(6))
    reader = client.get("s", as_="reader")
    assert isinstance(reader, pa.RecordBatchReader)
    assert reader.read_all().num_rows == 6
    assert client.schema("s").names == ["ts", "site", "v"]


def test_a_source_that_breaks_half_way_writes_nothing(client):
    client.put("s", sensor(4))

    def batches():
        yield pa.record_batch(sensor(4).pipe(pa.Table.from_pandas, preserve_index=False).to_batches()[0])
        raise RuntimeError("the source broke")

    schema = pa.Table.from_pandas(sensor(4), preserve_index=False).schema
    with pytest.raises(RuntimeError, match="the source broke"):
        client.put("s", pa.RecordBatchReader.from_batches(schema, batches()), mode="append")
    assert [h["version"] for h in client.history("s")] == [1]
    with pytest.raises(TypeError):
        client.put("s", {"not": "a frame"})


def test_plain_pyarrow_sees_what_the_package_wrote(client, daemon):
    client.put("s", sensor(4))
    raw = flight.FlightClient(daemon.location)
    ticket = flight.Ticket(json.dumps({"name": "s", "bucket": None}).encode())
    assert raw.do_get(ticket).read_all().num_rows == 4


def test_serve_is_a_context_manager(tmp_path):
    with shoots.serve(tmp_path / "b") as d:
        assert d.running() and d.client().ping() == "pong"
        assert repr(d).endswith("running>")
    assert not d.running() and d.process.returncode == 0
    assert (tmp_path / "b").is_dir()

    # Without a directory: a temporary one, gone when the daemon stops.
    with shoots.serve() as d:
        d.client().put("t", sensor(2))
        bucket_dir = d.process.args[d.process.args.index("--bucket-dir") + 1]
    assert not (tmp_path / bucket_dir).exists()

    with pytest.raises(RuntimeError, match="before listening"):
        shoots.serve(tmp_path / "c", memory_limit="lots")


def test_shutdown_from_the_client(tmp_path):
    d = shoots.serve(tmp_path / "b")
    assert d.client().shutdown() == '["shutdown command received"]'
    assert d.wait(timeout=60) == 0


def test_a_store_failure_is_shoots_io_error(client, daemon, tmp_path):
    client.put("s", sensor(4))
    data = next((tmp_path / "buckets" / "_default" / "s" / "data").glob("*.parquet"))
    data.write_bytes(b"not parquet at all")
    with pytest.raises(shoots.ShootsIOError) as e:
        client.get("s")
    assert isinstance(e.value, OSError) and str(e.value).startswith("parquet: ")
