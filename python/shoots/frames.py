"""What goes in and out of the client: pandas, polars and pyarrow alike.

Uploads are turned into a schema and an iterator of record batches, so a
``pyarrow.RecordBatchReader`` or a polars ``LazyFrame`` is streamed, never
collected whole. Results are a pyarrow stream turned into what was asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, Union

import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    import polars

#: What ``get`` and ``sql`` return: ``"pandas"`` (a DataFrame, the default,
#: as the original client), ``"polars"`` (a polars DataFrame), ``"arrow"`` (a
#: ``pyarrow.Table``) or ``"reader"`` (a ``pyarrow.RecordBatchReader`` that
#: streams the result as it arrives).
Output = Literal["pandas", "polars", "arrow", "reader"]
OUTPUTS = ("pandas", "polars", "arrow", "reader")

#: What ``put`` takes.
Frame = Union[
    pd.DataFrame,
    pa.Table,
    pa.RecordBatch,
    pa.RecordBatchReader,
    "polars.DataFrame",
    "polars.LazyFrame",
]


class MissingExtraError(ImportError):
    """An optional dependency the call needs is not installed."""


def polars_module() -> Any:
    """polars, or one clear error naming the extra that brings it."""
    try:
        return importlib.import_module("polars")
    except ImportError as e:
        raise MissingExtraError(
            "polars is not installed; install the extra: pip install 'shoots-df[polars]'"
        ) from e


def _is_polars(data: Any, cls: str) -> bool:
    # Looked up by module name so that polars is only imported when it is used.
    mod = type(data).__module__
    return mod.startswith("polars") and type(data).__name__ == cls


def batches(data: Frame, batch_size: int | None) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The upload's schema and its batches of at most ``batch_size`` rows."""
    if isinstance(data, pd.DataFrame):
        # As the original client did: the index is kept as pandas metadata.
        return _table_batches(pa.Table.from_pandas(data), batch_size)
    if isinstance(data, pa.Table):
        return _table_batches(data, batch_size)
    if isinstance(data, pa.RecordBatch):
        return _table_batches(pa.Table.from_batches([data]), batch_size)
    if isinstance(data, pa.RecordBatchReader):
        return data.schema, _rechunk(iter(data), batch_size)
    if _is_polars(data, "DataFrame"):
        return _table_batches(data.to_arrow(), batch_size)
    if _is_polars(data, "LazyFrame"):
        return _lazy_batches(data, batch_size)
    raise TypeError(
        "put takes a pandas or polars DataFrame, a polars LazyFrame, or a pyarrow "
        f"Table, RecordBatch or RecordBatchReader, not {type(data).__name__}"
    )


def _table_batches(table: pa.Table, batch_size: int | None) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    return table.schema, iter(table.to_batches(max_chunksize=batch_size))


def _rechunk(source: Iterator[pa.RecordBatch], batch_size: int | None) -> Iterator[pa.RecordBatch]:
    for batch in source:
        if batch_size is None or batch.num_rows <= batch_size:
            yield batch
        else:
            for start in range(0, batch.num_rows, batch_size):
                yield batch.slice(start, batch_size)


def _lazy_batches(lazy: "polars.LazyFrame", batch_size: int | None) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    # The schema comes from the plan: an empty head runs no scan.
    schema = lazy.head(0).collect().to_arrow().schema

    def generate() -> Iterator[pa.RecordBatch]:
        for chunk in lazy.collect_batches(chunk_size=batch_size):
            table = chunk.to_arrow()
            if table.schema != schema:
                table = table.cast(schema)
            yield from table.to_batches(max_chunksize=batch_size)

    return schema, generate()


def check_output(as_: str) -> None:
    """Refuse an unknown ``as_``, or polars when it is not installed, before
    anything is asked of the daemon."""
    if as_ not in OUTPUTS:
        raise ValueError(f"as_ must be one of {', '.join(OUTPUTS)}, not {as_!r}")
    if as_ == "polars":
        polars_module()


def convert(reader: pa.RecordBatchReader, as_: Output) -> Any:
    """A result stream as ``as_`` asks (checked by :func:`check_output`)."""
    if as_ == "reader":
        return reader
    if as_ == "polars":
        pl = polars_module()
        return pl.from_arrow(reader.read_all(), rechunk=False)
    if as_ == "arrow":
        return reader.read_all()
    return reader.read_all().to_pandas()
