"""``ShootsClient.scan``: a polars LazyFrame whose scan runs on the daemon.

polars hands an IO source the columns it needs, a row limit and a predicate.
The columns and every conjunct of the predicate that translates to SQL go
to the daemon as a selection of the version (``get``'s ``columns``,
``where`` and ``limit``, which keep the stored order), so only those rows
and columns cross the wire; the limit too when the whole predicate went.
What does not translate is applied here, on each batch as it arrives.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional

import pyarrow as pa

from .frames import polars_module

if TYPE_CHECKING:
    import polars

    from .shoots_client import ShootsClient


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


_COMPARISONS = {"Eq": "=", "NotEq": "<>", "Lt": "<", "LtEq": "<=", "Gt": ">", "GtEq": ">="}


def _literal(node: dict) -> Optional[str]:
    """A polars literal as SQL, or None when it has no safe spelling."""
    value = node.get("Scalar") or node.get("Dyn")
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (kind, v), = value.items()
    if kind == "String" and isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if kind == "Boolean" and isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, bool):
        return None
    if kind.startswith(("Int", "UInt")) and isinstance(v, int):
        return str(v)
    if kind.startswith("Float") and isinstance(v, (int, float)) and math.isfinite(v):
        return repr(float(v))
    return None


def to_sql(node: Any, columns: set[str]) -> Optional[str]:
    """A serialized polars expression as a SQL boolean expression, or None."""
    if not isinstance(node, dict) or len(node) != 1:
        return None
    (kind, body), = node.items()
    if kind == "Column":
        return quote(body) if body in columns else None
    if kind == "Literal":
        return _literal(body)
    if kind == "BinaryExpr":
        left, right = to_sql(body["left"], columns), to_sql(body["right"], columns)
        op = body["op"]
        if left is None or right is None:
            return None
        if op in _COMPARISONS:
            return f"({left} {_COMPARISONS[op]} {right})"
        if op in ("And", "LogicalAnd"):
            return f"({left} AND {right})"
        if op in ("Or", "LogicalOr"):
            return f"({left} OR {right})"
        return None
    if kind == "Function":
        function, inputs = body.get("function"), body.get("input", [])
        boolean = function.get("Boolean") if isinstance(function, dict) else None
        if len(inputs) != 1 or boolean not in ("IsNull", "IsNotNull", "Not"):
            return None
        arg = to_sql(inputs[0], columns)
        if arg is None:
            return None
        return {"IsNull": f"({arg} IS NULL)", "IsNotNull": f"({arg} IS NOT NULL)", "Not": f"(NOT {arg})"}[boolean]
    return None


def conjuncts(node: Any) -> list[Any]:
    """The terms of a chain of ANDs."""
    if isinstance(node, dict) and "BinaryExpr" in node and node["BinaryExpr"]["op"] in ("And", "LogicalAnd"):
        return conjuncts(node["BinaryExpr"]["left"]) + conjuncts(node["BinaryExpr"]["right"])
    return [node]


def pushdown(predicate: "polars.Expr", columns: set[str]) -> tuple[list[str], bool]:
    """The SQL of each conjunct that translates, and whether all did."""
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
    except Exception:  # a polars that cannot serialize it: filter here
        return [], False
    terms = conjuncts(tree)
    sql = [s for s in (to_sql(t, columns) for t in terms) if s is not None]
    return sql, len(sql) == len(terms)


def scan(client: "ShootsClient", name: str, bucket: Optional[str], version: Optional[int]) -> "polars.LazyFrame":
    pl = polars_module()
    from polars.io.plugins import register_io_source

    arrow_schema = client.get(name, bucket=bucket, version=version, limit=0, as_="arrow").schema
    schema = pl.from_arrow(arrow_schema.empty_table()).schema
    names = list(schema.keys())

    def source(
        with_columns: Optional[list[str]],
        predicate: Optional["polars.Expr"],
        n_rows: Optional[int],
        batch_size: Optional[int],
    ) -> Iterator["polars.DataFrame"]:
        wanted = list(with_columns) if with_columns is not None else names
        where, complete = ([], True) if predicate is None else pushdown(predicate, set(names))
        filter_here = predicate is not None and not complete
        fetched = list(wanted)
        if filter_here:
            fetched += [c for c in predicate.meta.root_names() if c not in fetched]
        if not fetched:
            # polars asked for no column (a row count): any one gives the rows.
            fetched = names[:1]
        reader = client.get(name, bucket=bucket, version=version, columns=fetched,
                            where=" AND ".join(where) if where else None,
                            limit=None if filter_here else n_rows, as_="reader")
        remaining = n_rows
        for batch in reader:
            frame = pl.from_arrow(pa.Table.from_batches([batch]), rechunk=False)
            if filter_here:
                frame = frame.filter(predicate)
            frame = frame.select(wanted)
            if remaining is not None:
                frame = frame.head(remaining)
                remaining -= frame.height
            yield frame
            if remaining == 0:
                break
        reader.close()

    return register_io_source(source, schema=schema, explain_name="shoots", explain_detail=name)

