"""The Python original's own client (PyPI `shoots` 0.1.1) against this daemon."""

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from shoots import BucketDeleteMode, BucketNotEmptyError, DataFusionError, PutMode, ShootsClient

# Each test runs on a local bucket directory and on S3 (conftest).
STORES = ("local", "s3")


@pytest.fixture
def shoots(daemon):
    return ShootsClient("127.0.0.1", daemon.port)


def sensor_frame():
    return pd.DataFrame({
        "timestamp": pd.date_range("2024-01-01", periods=100, freq="1s"),
        "Sensor_1": [i / 100 for i in range(100)],
        "Sensor_2": [(100 - i) / 100 for i in range(100)],
    })


def test_readme_flow(shoots):
    df = sensor_frame()
    assert shoots.ping() == "pong"
    shoots.put("sensor_data", dataframe=df, mode=PutMode.REPLACE)
    assert_frame_equal(shoots.get("sensor_data"), df)

    sql = 'select "Sensor_1" from sensor_data where "Sensor_2" < .2'
    subset = shoots.get("sensor_data", sql=sql)
    assert list(subset.columns) == ["Sensor_1"]
    assert len(subset) == 19

    names = [r["name"] for r in shoots.list()]
    assert names == ["sensor_data"]
    assert shoots.list()[0]["schema"].names[:3] == ["timestamp", "Sensor_1", "Sensor_2"]

    shoots.put("sensor_data", dataframe=df, mode=PutMode.REPLACE, bucket="my-bucket")
    shoots.put("other", dataframe=df, mode=PutMode.REPLACE, bucket="foo")
    assert_frame_equal(shoots.get("sensor_data", bucket="my-bucket"), df)
    assert shoots.buckets() == ["foo", "my-bucket"]

    with pytest.raises(BucketNotEmptyError):
        shoots.delete_bucket("my-bucket")
    shoots.delete_bucket("my-bucket", mode=BucketDeleteMode.DELETE_CONTENTS)
    assert shoots.buckets() == ["foo"]

    assert "deleted sensor_data" in shoots.delete("sensor_data")
    assert shoots.list() == []


def test_append_and_errors_map_to_python_exceptions(shoots):
    df = sensor_frame()
    shoots.put("s", dataframe=df)
    shoots.put("s", dataframe=df, mode=PutMode.APPEND)
    assert len(shoots.get("s")) == 200
    with pytest.raises(FileExistsError):
        shoots.put("s", dataframe=df)
    with pytest.raises(FileNotFoundError):
        shoots.get("missing")
    with pytest.raises(FileNotFoundError):
        shoots.delete("missing")
    with pytest.raises(FileNotFoundError):
        shoots.list(bucket="missing")
    with pytest.raises(FileNotFoundError):
        shoots.delete_bucket("missing")
    with pytest.raises(DataFusionError):
        shoots.get("s", sql="select nope from s")


def test_shutdown(shoots, daemon):
    assert shoots.shutdown() == '["shutdown command received"]'
    assert daemon.proc.wait(timeout=60) == 0


def test_resample_both_paths(shoots):
    df = sensor_frame()
    shoots.put("sensor_data", dataframe=df, mode=PutMode.REPLACE)

    reply = shoots.resample("sensor_data", "per_10s", rule="10s", time_col="timestamp", aggregation_func="mean")
    assert reply == {"source_rows": 100, "target_rows": 10}
    want = df.set_index("timestamp").resample("10s").mean().reset_index()
    assert_frame_equal(shoots.get("per_10s"), want)

    sql = 'select timestamp, "Sensor_1" from sensor_data where "Sensor_2" < .2'
    reply = shoots.resample("sensor_data", "low", sql=sql, target_bucket="derived")
    assert reply["target_rows"] == 19
    assert list(shoots.get("low", bucket="derived").columns) == ["timestamp", "Sensor_1"]
    # The mode defaults to append, as in the original.
    shoots.resample("sensor_data", "low", sql=sql, target_bucket="derived")
    assert len(shoots.get("low", bucket="derived")) == 38

    with pytest.raises(DataFusionError):
        shoots.resample("sensor_data", "bad", sql="select nope from sensor_data")


def test_categories_keep_their_order(shoots):
    levels = ["lo", "mid", "hi"]
    df = pd.DataFrame({
        "plain": pd.Categorical([levels[i % 3] for i in range(50)]),
        "ordered": pd.Categorical([levels[2 - i % 3] for i in range(50)], categories=levels + ["max"], ordered=True),
    })
    shoots.put("levels", dataframe=df)
    back = shoots.get("levels")
    assert list(back["plain"].cat.categories) == ["hi", "lo", "mid"]
    assert list(back["ordered"].cat.categories) == ["lo", "mid", "hi", "max"]
    assert_frame_equal(back, df)
