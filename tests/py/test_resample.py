"""The resample action (README: Resample) against pandas' own resample."""

import json
import zlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight
import pytest
from pandas.testing import assert_frame_equal

from conftest import error_info, files_under
from helpers import action, get, put

FUNCTIONS = ["mean", "sum", "min", "max", "count", "first", "last", "median", "std", "var"]
NUMERIC_ONLY = {"mean", "sum", "median", "std", "var"}
# Each rule with the pandas alias that means the same in the installed pandas
# (pandas 3 dropped the one-letter spellings shoots still accepts).
RULES = {"500ms": "500ms", "10s": "10s", "1min": "1min", "T": "1min", "1h": "1h", "H": "1h",
         "1D": "1D", "250us": "250us", "100ns": "100ns"}
STEP = {"500ms": 500_000_000, "10s": 10**10, "1min": 60 * 10**9, "T": 60 * 10**9, "1h": 3600 * 10**9,
        "H": 3600 * 10**9, "1D": 86400 * 10**9, "250us": 250_000, "100ns": 100}

# Each test runs on a local bucket directory and on S3 (conftest).
STORES = ("local", "s3")


def series(rule, tz=None, seed=0):
    """Random readings over ~60 bins of `rule`, with a run of empty bins,
    NaNs, and a first timestamp that is not at midnight."""
    rng = np.random.default_rng(seed)
    step = STEP[rule]
    start = pd.Timestamp("2024-03-05 07:13:27.123456789").value
    offsets = np.sort(rng.integers(0, 60 * step, size=400))
    # A gap of several empty bins in the middle.
    offsets = offsets[(offsets < 20 * step) | (offsets > 27 * step)]
    t = pd.to_datetime(start + offsets, unit="ns")
    if tz:
        t = t.tz_localize("UTC").tz_convert(tz)
    a = rng.normal(size=len(t))
    a[rng.random(len(t)) < 0.1] = np.nan
    return pd.DataFrame({
        "t": t,
        "a": a,
        "b": rng.integers(-1000, 1000, size=len(t)),
        "s": [f"s{i % 7}" for i in range(len(t))],
    })


def expected(df, rule, func):
    frame = df.drop(columns=["s"]) if func in NUMERIC_ONLY else df
    return frame.set_index("t").resample(RULES[rule]).agg(func).reset_index()


def resample(client, **body):
    return json.loads(action(client, "resample", body)[0])


def compare(got, want):
    assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("func", FUNCTIONS)
def test_time_series_matches_pandas(client, rule, func):
    df = series(rule, seed=zlib.crc32(f"{rule}/{func}".encode()))
    source = pa.Table.from_pandas(df, preserve_index=False)
    put(client, "src", source, mode="replace")
    reply = resample(client, source="src", target="dst", rule=rule, time_col="t", aggregation_func=func,
                     mode="replace")
    want = expected(df, rule, func)
    got = get(client, "dst")
    if func not in NUMERIC_ONLY and func != "count":
        # As stored, not as the scan reads it.
        assert got.schema.field("s").type == source.schema.field("s").type
    got = got.to_pandas()
    assert reply["source_rows"] == len(df)
    assert reply["target_rows"] == len(want) == len(got)
    if func in NUMERIC_ONLY:
        assert reply["dropped_columns"] == ["s"]
    else:
        assert "dropped_columns" not in reply
    # Empty bins: 0 for count and sum, missing otherwise.
    empty = want["b"].isna() if func not in ("count", "sum") else (want["b"] == 0)
    assert empty.sum() >= 5
    compare(got, want)


def test_time_zone_aware_hours(client):
    df = series("1h", tz="Europe/Berlin", seed=3)
    put(client, "src", pa.Table.from_pandas(df, preserve_index=False), mode="replace")
    resample(client, source="src", target="dst", rule="1h", time_col="t", aggregation_func="mean")
    got = get(client, "dst")
    assert got.schema.field("t").type == pa.timestamp("ns", tz="Europe/Berlin")
    compare(got.to_pandas(), expected(df, "1h", "mean"))


@pytest.mark.parametrize("start", ["2024-03-28 05:13", "2024-10-24 05:13"])  # Berlin's clocks change on the 31st/27th
@pytest.mark.parametrize("rule", ["1D", "2D", "24h", "6h"])
@pytest.mark.parametrize("func", ["mean", "count", "last"])
def test_days_in_a_time_zone_are_calendar_days(client, start, rule, func):
    """pandas cuts `D` rules at local midnights, so the day clocks change on
    is 23 or 25 hours long; hour rules stay fixed lengths."""
    rng = np.random.default_rng(zlib.crc32(f"{start}/{rule}/{func}".encode()))
    first = pd.Timestamp(start, tz="Europe/Berlin").value
    offsets = np.sort(rng.integers(0, 6 * 86400 * 10**9, size=400))
    t = pd.to_datetime(first + offsets, unit="ns", utc=True).tz_convert("Europe/Berlin")
    df = pd.DataFrame({"t": t, "a": rng.normal(size=len(t)), "b": rng.integers(0, 100, size=len(t))})
    put(client, "src", pa.Table.from_pandas(df, preserve_index=False), mode="replace")
    resample(client, source="src", target="dst", rule=rule, time_col="t", aggregation_func=func, mode="replace")
    want = df.set_index("t").resample(rule).agg(func).reset_index()
    compare(get(client, "dst").to_pandas(), want)


@pytest.mark.parametrize("func", FUNCTIONS)
def test_unordered_rows_null_times_and_other_column_types(client, func):
    """Most functions fill per-bin slots directly, a median over rows out of
    time order and max of a boolean group in SQL: both must see rows in
    any order, skip rows without a timestamp, and take booleans, integers
    and millisecond timestamps as pandas does."""
    df = series("10s", seed=7)
    df["c"] = df["b"] > 0
    df["t"] = df["t"].astype("datetime64[ms]")
    df = df.sample(frac=1, random_state=1).reset_index(drop=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    times = table.column("t").to_pylist()
    times[3] = times[11] = None
    table = table.set_column(0, "t", pa.array(times, pa.timestamp("ms")))
    put(client, "src", table, mode="replace")
    resample(client, source="src", target="dst", rule="10s", time_col="t", aggregation_func=func, mode="replace")
    frame = table.to_pandas().dropna(subset=["t"])
    want = expected(frame, "10s", func)
    got = get(client, "dst").to_pandas()
    if func != "count":
        # pandas turns booleans with empty bins into floats; shoots keeps a
        # boolean max as a nullable boolean (a mean is a float in both).
        got["c"], want["c"] = got["c"].astype("float64"), want["c"].astype("float64")
    compare(got, want)


@pytest.mark.parametrize("func", ["first", "last"])
def test_first_and_last_keep_a_dictionary_column(client, func):
    """first and last take any type, a dictionary (categorical) column's
    included, and hand it back as it was stored."""
    df = series("10s", seed=9)
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.set_column(3, "s", table.column("s").dictionary_encode())
    put(client, "src", table, mode="replace")
    resample(client, source="src", target="dst", rule="10s", time_col="t", aggregation_func=func, mode="replace")
    got = get(client, "dst")
    assert pa.types.is_dictionary(got.schema.field("s").type)
    got, want = got.to_pandas(), expected(df, "10s", func)
    got["s"] = got["s"].astype(want["s"].dtype)
    compare(got, want)


@pytest.mark.parametrize("func", ["first", "last", "median", "std", "min", "max"])
def test_rows_over_several_partitions(client, func):
    """A few MB are scanned in several partitions, each a run of the stored
    rows: a bin split between two of them still gets all its values, and
    of equal timestamps first and last take the first and last stored
    (`i` tells which row it was), in time order and out of it."""
    rng = np.random.default_rng(zlib.crc32(func.encode()))
    n = 600_000
    start = pd.Timestamp("2024-03-05 07:13:27").value
    # 1000 rows a second, all with the same timestamp; 10s bins.
    t = pd.to_datetime(start + (np.arange(n) // 1000) * 10**9, unit="ns")
    a = rng.normal(size=n)
    a[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({"t": t, "a": a, "i": np.arange(n), "s": rng.choice(["north", "south", "east"], size=n)})
    for frame in (df, df.sample(frac=1, random_state=3).reset_index(drop=True)):
        put(client, "src", pa.Table.from_pandas(frame, preserve_index=False), mode="replace")
        resample(client, source="src", target="dst", rule="10s", time_col="t", aggregation_func=func, mode="replace")
        numeric = frame.drop(columns=["s"]) if func in NUMERIC_ONLY else frame
        want = numeric.set_index("t").resample("10s").agg(func).reset_index()
        compare(get(client, "dst").to_pandas(), want)


@pytest.mark.parametrize("func", ["sum", "min", "max", "mean", "count"])
def test_numeric_columns_of_every_width(client, func):
    """sum, min and max of numbers fold into per-bin slots in 64 bits and
    come back in the grouped query's types: the column's for min and max,
    widened for sum."""
    df = series("10s", seed=11).drop(columns=["s"])
    df["f"] = df["a"].astype("float32")
    df["i"] = df["b"].astype("int32")
    df["u"] = (df["b"] + 1000).astype("uint16")
    df = df.sample(frac=1, random_state=2).reset_index(drop=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    put(client, "src", table, mode="replace")
    resample(client, source="src", target="dst", rule="10s", time_col="t", aggregation_func=func, mode="replace")
    got = get(client, "dst")
    want = df.set_index("t").resample("10s").agg(func).reset_index()
    widened = {"sum": {"f": pa.float64(), "i": pa.int64(), "u": pa.uint64()}, "mean": {"f": pa.float64(),
               "i": pa.float64(), "u": pa.float64()}, "count": {"f": pa.int64(), "i": pa.int64(), "u": pa.int64()}}
    for name in ["f", "i", "u"]:
        assert got.schema.field(name).type == widened.get(func, {}).get(name, table.schema.field(name).type), name
    got = got.to_pandas()
    assert list(got["t"]) == list(want["t"])
    for name in ["a", "b", "f", "i", "u"]:
        assert np.allclose(got[name].astype("float64"), want[name].astype("float64"), rtol=1e-5, atol=1e-5,
                           equal_nan=True), name  # pandas sums float32 in float32


def test_more_bins_than_slots_give_the_same_mean(client):
    """Past the slots the daemon holds in memory (64 MB; here 2 columns ×
    1.2M bins × 16 bytes in each partition and the total), mean goes
    through the grouped query; the answer must not change."""
    rng = np.random.default_rng(8)
    start = pd.Timestamp("2024-03-05 07:13:27").value
    offsets = np.sort(rng.integers(0, 1_200_000_000, size=5000))
    df = pd.DataFrame({"t": pd.to_datetime(start + offsets, unit="ns"), "a": rng.normal(size=5000),
                       "b": rng.integers(0, 9, size=5000)})
    put(client, "src", pa.Table.from_pandas(df, preserve_index=False), mode="replace")
    reply = resample(client, source="src", target="dst", rule="1us", time_col="t", aggregation_func="mean",
                     mode="replace")
    want = df.set_index("t").resample("1us").mean().reset_index()
    assert reply["target_rows"] == len(want) > 1_000_000
    compare(get(client, "dst").to_pandas(), want)


def test_mode_defaults_to_append_and_buckets(client):
    df = series("10s", seed=5)
    put(client, "src", pa.Table.from_pandas(df, preserve_index=False), bucket="raw")
    body = dict(source="src", source_bucket="raw", target="dst", target_bucket="agg", rule="10s", time_col="t",
                aggregation_func="max")
    first = resample(client, **body)
    second = resample(client, **body)
    assert first["target_rows"] == second["target_rows"]
    got = get(client, "dst", bucket="agg")
    assert got.num_rows == 2 * first["target_rows"]
    assert got.column_names == ["t", "a", "b", "s"]


def test_sql_path(client):
    df = series("10s", seed=6)
    put(client, "src", pa.Table.from_pandas(df, preserve_index=False))
    reply = resample(client, source="src", target="big_b", sql="select t, b from src where b > 0 order by t")
    got = get(client, "big_b").to_pandas()
    want = df[df.b > 0][["t", "b"]].reset_index(drop=True)
    assert reply == {"source_rows": len(df), "target_rows": len(want)}
    assert_frame_equal(got, want, check_dtype=False)


def test_empty_source_gives_an_empty_target(client):
    put(client, "src", pa.table({"t": pa.array([], pa.timestamp("ns")), "x": pa.array([], pa.float64())}))
    reply = resample(client, source="src", target="dst", rule="1s", time_col="t", aggregation_func="mean")
    assert reply["target_rows"] == 0
    assert get(client, "dst").column_names == ["t", "x"]


@pytest.mark.parametrize("body, kind, words", [
    (dict(rule="1fortnight", time_col="t", aggregation_func="mean"), "InvalidArgumentError", "unsupported resample rule"),
    (dict(rule="1M", time_col="t", aggregation_func="mean"), "InvalidArgumentError", "unsupported resample rule"),
    (dict(rule="1s", time_col="t", aggregation_func="avg"), "InvalidArgumentError", "unknown aggregation function"),
    (dict(rule="1s", time_col="nope", aggregation_func="mean"), "InvalidArgumentError", "no column \"nope\""),
    (dict(rule="1s", time_col="b", aggregation_func="mean"), "InvalidArgumentError", "not a timestamp"),
    (dict(rule="1s", time_col="t"), "InvalidArgumentError", "aggregation_func"),
    (dict(sql="select nope from src"), "DataFusionError", "nope"),
    (dict(sql="selec t from src"), "DataFusionError", "selec"),
    (dict(sql="select * from src", mode="upsert"), "InvalidArgumentError", "upsert"),
])
def test_errors_leave_the_target_untouched(client, daemon, body, kind, words):
    df = series("10s", seed=7)
    put(client, "src", pa.Table.from_pandas(df, preserve_index=False))
    put(client, "dst", pa.table({"keep": [1, 2, 3]}))
    before = daemon.files()
    with pytest.raises(flight.FlightServerError) as e:
        resample(client, source="src", target="dst", **body)
    info = error_info(e)
    assert info["type"] == kind
    assert words in info["message"]
    assert get(client, "dst").to_pydict() == {"keep": [1, 2, 3]}
    assert daemon.files() == before


def test_missing_source_and_schema_mismatch(client, daemon):
    with pytest.raises(flight.FlightServerError) as e:
        resample(client, source="nope", target="dst", sql="select 1")
    assert error_info(e)["type"] == "FileNotFoundError"

    df = series("10s", seed=8)
    put(client, "src", pa.Table.from_pandas(df, preserve_index=False))
    put(client, "dst", pa.table({"keep": [1]}))
    before = daemon.files()
    with pytest.raises(flight.FlightServerError) as e:
        resample(client, source="src", target="dst", rule="10s", time_col="t", aggregation_func="mean")
    assert error_info(e)["type"] == "SchemaMismatchError"
    assert daemon.files() == before
