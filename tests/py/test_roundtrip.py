"""README, Storage: what goes in comes out identical, pandas metadata included."""

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.testing import assert_frame_equal

from helpers import get, put

# Each test runs on a local bucket directory and on S3 (conftest).
STORES = ("local", "s3")


def rich_frame(n=200):
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "ts_ns": pd.date_range("2024-01-01", periods=n, freq="1ns"),
        "ts_tz": pd.date_range("2024-03-31 00:30", periods=n, freq="7min", tz="Europe/Berlin"),
        "u8": np.arange(n, dtype=np.uint8),
        "u16": np.full(n, 65535, dtype=np.uint16),
        "u32": np.full(n, 2**32 - 1, dtype=np.uint32),
        "u64": np.array([2**64 - 1 - i for i in range(n)], dtype=np.uint64),  # above i64::MAX
        "nullable": pd.array([None if i % 3 == 0 else i for i in range(n)], dtype="Int64"),
        "cat": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "flag": rng.random(n) > 0.5,
        "f32": rng.random(n).astype(np.float32),
        "dec": [decimal.Decimal(f"{i}.{i % 100:02d}") for i in range(n)],
        "day": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)],
        "text": [f"row {i} ✓" if i % 5 else None for i in range(n)],
        "lists": [list(range(i % 4)) for i in range(n)],
        "structs": [{"a": i, "b": str(i)} for i in range(n)],
    })


def test_pandas_frame_round_trips_exactly(client):
    df = rich_frame()
    table = pa.Table.from_pandas(df)
    assert table.schema.field("dec").type == pa.decimal128(5, 2)
    put(client, "rich", table, batch_size=37)
    back = get(client, "rich")
    assert back.schema.equals(table.schema, check_metadata=True)
    assert back.schema.metadata[b"pandas"] == table.schema.metadata[b"pandas"]
    assert_frame_equal(back.to_pandas(), df)


def test_appended_frames_keep_the_first_schema(client):
    df = rich_frame(50)
    first = pa.Table.from_pandas(df)
    put(client, "rich", first)
    # Same types (a 10-row slice alone would infer a narrower decimal).
    put(client, "rich", pa.Table.from_pandas(df.iloc[:10], schema=first.schema), mode="append")
    back = get(client, "rich")
    assert back.num_rows == 60
    assert back.schema.equals(first.schema, check_metadata=True)


def test_custom_index_and_metadata(client):
    df = pd.DataFrame({"v": [1.5, 2.5, None]}, index=pd.Index(["a", "b", "c"], name="key"))
    table = pa.Table.from_pandas(df).replace_schema_metadata(
        {**pa.Table.from_pandas(df).schema.metadata, b"mine": b"kept"})
    put(client, "indexed", table)
    back = get(client, "indexed")
    assert back.schema.metadata[b"mine"] == b"kept"
    assert_frame_equal(back.to_pandas(), df)


def categorical_frame():
    """The categories in their own order, not the order the data shows them
    in; one unused; one column ordered."""
    levels = ["lo", "mid", "hi"]
    return pd.DataFrame({
        # pandas sorts these categories: ['hi', 'lo', 'mid'], the data starts with 'lo'.
        "plain": pd.Categorical([levels[i % 3] for i in range(50)]),
        "ordered": pd.Categorical([levels[2 - i % 3] for i in range(50)], categories=levels + ["max"], ordered=True),
    })


def test_categories_keep_their_order_unused_ones_and_ordered(client):
    df = categorical_frame()
    assert list(df["plain"].cat.categories) == ["hi", "lo", "mid"]
    put(client, "levels", pa.Table.from_pandas(df), batch_size=7)
    back = get(client, "levels").to_pandas()
    assert list(back["plain"].cat.categories) == ["hi", "lo", "mid"]
    assert list(back["ordered"].cat.categories) == ["lo", "mid", "hi", "max"]
    assert back["ordered"].cat.ordered
    assert_frame_equal(back, df)
    # Codes keep their meaning: the comparison an ordered categorical allows.
    assert (back["ordered"] > "mid").sum() == (df["ordered"] > "mid").sum()


def test_categories_survive_append_and_compaction(client, daemon):
    from helpers import cli
    df = categorical_frame()
    put(client, "levels", pa.Table.from_pandas(df))
    put(client, "levels", pa.Table.from_pandas(df), mode="append")
    cli(daemon, "compact", "levels")
    back = get(client, "levels").to_pandas()
    assert list(back["ordered"].cat.categories) == ["lo", "mid", "hi", "max"]
    assert_frame_equal(back, pd.concat([df, df], ignore_index=True))


def test_large_lists_come_back_as_large_lists(client, daemon, tmp_path):
    # polars' lists are large lists; arrow-flight 59's encoder announced them
    # as lists while it sent 64-bit offsets, which readers took for 32-bit ones.
    table = pa.table({
        "big": pa.array([[1, 2], None, [], [3]], pa.large_list(pa.int64())),
        "nested": pa.array([[["a"]], [], None, [["b", None]]], pa.large_list(pa.large_list(pa.string()))),
    })
    put(client, "ll", table)
    got = get(client, "ll")
    got.validate(full=True)
    assert got.equals(table)
    got = get(client, "ll", sql="select * from ll")
    got.validate(full=True)
    assert got.column("big").to_pylist() == table.column("big").to_pylist()

    # Through the command line both ways: its upload and its download.
    import pyarrow.feather as feather
    from helpers import cli
    feather.write_feather(table, tmp_path / "ll.arrow", compression="uncompressed")
    cli(daemon, "put", "ll_cli", str(tmp_path / "ll.arrow"))
    cli(daemon, "get", "ll_cli", "-o", str(tmp_path / "back.arrow"))
    back = feather.read_table(tmp_path / "back.arrow")
    back.validate(full=True)
    assert back.equals(table)
