"""pandas, polars and pyarrow in and out, with exact types; streaming; the
lazy polars scan and what it pushes to the daemon."""

import decimal

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pandas.testing import assert_frame_equal
from polars.testing import assert_frame_equal as assert_pl_equal

from conftest import metric


def typed_pandas():
    return pd.DataFrame({
        "ts": pd.date_range("2024-03-31 00:30", periods=4, freq="1h", tz="Europe/Berlin", unit="ns"),
        "u8": pd.array([0, 1, 254, 255], dtype="uint8"),
        "u64": np.array([0, 1, 2**63, 2**64 - 1], dtype="uint64"),
        "nullable": pd.array([1, None, 3, None], dtype="Int32"),
        "cat": pd.Categorical(["lo", "hi", "mid", "lo"], categories=["lo", "mid", "hi"], ordered=True),
        "dec": [decimal.Decimal("1.10"), decimal.Decimal("-2.25"), None, decimal.Decimal("3.00")],
        "lists": [[1, 2], [], None, [3]],
        "s": ["a", None, "c", "d"],
    })


def test_pandas_round_trip_keeps_every_type(client):
    df = typed_pandas()
    client.put("p", df)
    back = client.get("p")
    assert_frame_equal(back, df)
    assert back["cat"].cat.ordered and list(back["cat"].cat.categories) == ["lo", "mid", "hi"]
    assert str(back["ts"].dtype) == "datetime64[ns, Europe/Berlin]"


def test_pyarrow_round_trip_is_exact(client):
    table = pa.table({
        "ts": pa.array([0, 1, None], pa.timestamp("ns", tz="UTC")),
        "u32": pa.array([1, 2, 4_000_000_000], pa.uint32()),
        "dec": pa.array([decimal.Decimal("1.5"), None, decimal.Decimal("-2.5")], pa.decimal128(10, 2)),
        "dict": pa.array(["x", "y", "x"]).dictionary_encode(),
        "list": pa.array([[1.5], None, [2.5, 3.5]], pa.list_(pa.float64())),
        "big": pa.array(["a", "b", None], pa.large_string()),
    })
    client.put("t", table)
    assert client.get("t", as_="arrow").equals(table)
    client.put("t", pa.RecordBatchReader.from_batches(table.schema, table.to_batches()), mode="replace")
    assert client.get("t", as_="arrow").equals(table)


def test_polars_round_trip_is_exact(client):
    df = pl.DataFrame({
        "ts": pl.Series([1, 2, None], dtype=pl.Datetime("ns", "Asia/Tokyo")),
        "u16": pl.Series([1, 2, 65535], dtype=pl.UInt16),
        "cat": pl.Series(["b", "a", "b"], dtype=pl.Categorical),
        "enum": pl.Series(["lo", "hi", "lo"], dtype=pl.Enum(["lo", "hi", "unused"])),
        "dec": pl.Series([decimal.Decimal("1.25"), None, decimal.Decimal("2.50")], dtype=pl.Decimal(10, 2)),
        "lst": pl.Series([[1, 2], None, []], dtype=pl.List(pl.Int64)),
        "s": ["x", None, "z"],
    })
    client.put("pl", df)
    back = client.get("pl", as_="polars")
    assert isinstance(back, pl.DataFrame)
    assert back.schema == df.schema  # an Enum keeps its categories, in order
    assert_pl_equal(back, df)


def test_a_lazy_frame_is_streamed_in_batches(client, daemon):
    lazy = pl.LazyFrame({"i": range(300_000)}).with_columns((pl.col("i") * 2).alias("j"))
    assert client.put("lazy", lazy, batch_size=50_000).rows == 300_000
    back = client.get("lazy", as_="polars")
    assert back["j"].sum() == 2 * sum(range(300_000)) and back.height == 300_000
    # Sent as it was computed: many messages, not one table.
    assert metric(daemon, "shoots_rows_total", direction="in") == 300_000


def test_five_million_rows_put_and_get_streamed(client):
    n, chunk = 5_000_000, 500_000
    schema = pa.schema([("i", pa.int64()), ("x", pa.float64())])

    def generate():
        for start in range(0, n, chunk):
            i = np.arange(start, start + chunk, dtype=np.int64)
            yield pa.record_batch([pa.array(i), pa.array(i * 0.5)], schema=schema)

    assert client.put("big", pa.RecordBatchReader.from_batches(schema, generate()), batch_size=None).rows == n
    total, rows = 0, 0
    for batch in client.get("big", as_="reader"):
        rows += batch.num_rows
        total += pc.sum(batch.column("i")).as_py()
    assert rows == n and total == n * (n - 1) // 2


def test_scan_pushes_columns_filters_and_limits(client, daemon):
    n = 10_000
    df = pl.DataFrame({"site": ["n", "s", "e", "w"] * (n // 4), "v": [float(i) for i in range(n)], "k": list(range(n))})
    client.put("s", df)
    lazy = client.scan("s")
    assert isinstance(lazy, pl.LazyFrame) and lazy.collect_schema() == df.schema

    def rows_out():
        return metric(daemon, "shoots_rows_total", direction="out")

    before = rows_out()
    got = lazy.filter(pl.col("site") == "n").select("v").collect()
    assert_pl_equal(got, df.filter(pl.col("site") == "n").select("v"))
    assert rows_out() - before == n // 4  # only the matching rows crossed

    before = rows_out()
    got = lazy.filter((pl.col("k") >= 100) & (pl.col("k") < 110) & pl.col("v").is_not_null()).collect()
    assert_pl_equal(got, df.filter((pl.col("k") >= 100) & (pl.col("k") < 110)))
    assert rows_out() - before == 10

    before = rows_out()
    assert lazy.head(7).collect().height == 7
    assert rows_out() - before == 7

    # A predicate SQL cannot say is applied here, still with the right answer.
    before = rows_out()
    odd = lazy.filter((pl.col("k") % 2 == 1) & (pl.col("site") == "s")).collect()
    assert_pl_equal(odd, df.filter((pl.col("k") % 2 == 1) & (pl.col("site") == "s")))
    assert rows_out() - before == n // 4  # the translatable half went to the daemon

    assert lazy.select(pl.len()).collect().item() == n
    assert_pl_equal(client.scan("s", version=1).filter(pl.col("k") < 3).collect(), df.head(3))
