"""``ShootsClient``: the original client's API, and everything shoots added.

Every name and default of ``shoots`` 0.1.1's client is kept, so code written
for it runs unchanged; the additions are keyword arguments and methods.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Optional, Union

import pyarrow as pa
from pyarrow import flight

from . import frames
from .errors import BucketNotEmptyError, DataframeNotFoundError, DataFusionError, ShootsIOError, translate
from .frames import Frame, Output
from .jwt_client_auth_handler import JWTClientAuthHandler

__all__ = [
    "BucketDeleteMode",
    "BucketNotEmptyError",
    "DataFusionError",
    "PutMode",
    "PutResult",
    "ShootsClient",
]


class PutMode(Enum):
    """How ``put`` treats a dataframe that exists.

    Attributes:
        REPLACE: replace its rows.
        APPEND: add the rows after its own.
        ERROR: (default) raise ``FileExistsError``.
        UPSERT: replace the rows whose ``keys`` the upload has, append the rest.
    """

    REPLACE = "replace"
    APPEND = "append"
    ERROR = "error"
    UPSERT = "upsert"


class BucketDeleteMode(Enum):
    """How ``delete_bucket`` treats a bucket that holds dataframes.

    Attributes:
        DELETE_CONTENTS: delete them with it.
        ERROR: (default) raise ``BucketNotEmptyError``.
    """

    DELETE_CONTENTS = "delete"
    ERROR = "error"


@dataclass(frozen=True)
class PutResult:
    """What a put committed: the dataframe's new version and the rows sent."""

    version: int
    rows: int


Duration = Union[str, _dt.timedelta]


def _duration(keep: Duration) -> str:
    if isinstance(keep, _dt.timedelta):
        return f"{int(keep.total_seconds())}s"
    return keep


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def _typed_errors() -> Iterator[None]:
    """Known error kinds leave as their own exception class."""
    try:
        yield
    except (flight.FlightError, pa.ArrowException) as e:
        typed = translate(e)
        if typed is e:
            raise
        raise typed from e


class ShootsClient:
    """A client of a shoots daemon (``shoots serve``, or :func:`shoots.serve`)."""

    def __init__(
        self,
        host: str,
        port: int,
        tls: Optional[bool] = False,
        root_cert: Optional[str] = None,
        token: Optional[str] = None,
        *,
        bearer: bool = False,
        timeout: Optional[float] = None,
    ):
        """Connect to the daemon at ``host:port``.

        Args:
            host: the daemon's host name or address.
            port: its port.
            tls: whether it serves TLS (``grpc+tls://``).
            root_cert: the PEM of the CA that signed a self-signed server's
                certificate (as a string).
            token: a token for a daemon started with ``--secret`` (see
                :func:`shoots.create_token`). Sent at Handshake, as the
                original client did, or as ``authorization: Bearer`` on
                every call when ``bearer`` is true. Refused without TLS
                unless the daemon is on this machine.
            bearer: send the token as a bearer header instead of by Handshake.
            timeout: seconds each call may take (none by default).

        Raises:
            ValueError: a token without TLS to another machine.
            AuthenticationError: the daemon refused the token at Handshake.
        """
        if token and not tls and not _is_loopback(host):
            raise ValueError("a token needs TLS (tls=True) unless the daemon is on this machine")
        kwargs: dict[str, Any] = {}
        if root_cert is not None:
            kwargs["tls_root_certs"] = root_cert
        scheme = "grpc+tls" if tls else "grpc"
        self.client = flight.FlightClient(f"{scheme}://{host}:{port}", **kwargs)
        headers = [(b"authorization", f"Bearer {token}".encode())] if token and bearer else []
        self._options = flight.FlightCallOptions(timeout=timeout, headers=headers)
        if token and not bearer:
            with _typed_errors():
                self.client.authenticate(JWTClientAuthHandler(token=token), options=self._options)

    def close(self) -> None:
        """Close the connection."""
        self.client.close()

    def __enter__(self) -> ShootsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------- the store

    def put(
        self,
        name: str,
        dataframe: Frame,
        mode: Union[PutMode, str] = PutMode.ERROR,
        bucket: Optional[str] = None,
        batch_size: Optional[int] = 5000,
        *,
        keys: Optional[Sequence[str]] = None,
        schema: Optional[Literal["exact", "merge"]] = None,
    ) -> PutResult:
        """Store ``dataframe`` as ``name``; all of it or, on failure, nothing.

        Args:
            name: the dataframe's name.
            dataframe: a pandas or polars DataFrame, a polars LazyFrame, or a
                pyarrow Table, RecordBatch or RecordBatchReader. Readers and
                lazy frames are streamed, never collected whole.
            mode: ``ERROR`` (default: refuse to overwrite), ``APPEND``,
                ``REPLACE`` or ``UPSERT`` (with ``keys``).
            bucket: the bucket; the default bucket when ``None``. A bucket
                is created by its first put.
            batch_size: rows per message sent (``None``: as the data comes).
            keys: the key columns of an upsert.
            schema: ``"merge"`` lets an append or upsert add columns and
                widen types; ``"exact"`` (the default) needs the same ones.

        Returns:
            The version committed and the rows sent.

        Raises:
            FileExistsError: mode ``ERROR`` and the dataframe exists.
            SchemaMismatchError: the columns or types do not fit.
            InvalidArgumentError, InvalidNameError: a request the daemon refuses.
        """
        mode = PutMode(mode)
        command: dict[str, Any] = {"name": name, "mode": mode.value, "bucket": bucket, "batch_size": batch_size}
        if keys is not None:
            command["keys"] = list(keys)
        if schema is not None:
            command["schema"] = schema
        arrow_schema, batches = frames.batches(dataframe, batch_size)
        descriptor = flight.FlightDescriptor.for_command(json.dumps(command).encode())
        with _typed_errors():
            writer, reader = self.client.do_put(descriptor, arrow_schema, options=self._options)
            try:
                for batch in batches:
                    writer.write_batch(batch)
            except flight.FlightError:
                # The daemon ended the call; closing raises what it said.
                writer.close()
                raise
            except BaseException as e:
                # The source broke half-way: the daemon must drop the upload.
                try:
                    writer.write_metadata(json.dumps({"abort": f"{type(e).__name__}: {e}"}).encode())
                    writer.close()
                except flight.FlightError:
                    pass  # the daemon's answer to the abort
                raise
            writer.done_writing()
            reply = reader.read()
            writer.close()
        if reply is None:
            raise ShootsIOError("the daemon closed the put without saying what it committed")
        meta = json.loads(reply.to_pybytes())
        return PutResult(version=meta["version"], rows=meta["rows"])

    def get(
        self,
        name: str,
        sql: Optional[str] = None,
        bucket: Optional[str] = None,
        *,
        version: Optional[int] = None,
        columns: Optional[Sequence[str]] = None,
        where: Optional[str] = None,
        limit: Optional[int] = None,
        snapshot: Optional[str] = None,
        as_: Output = "pandas",
    ) -> Any:
        """A dataframe, an older version of it, or the result of ``sql`` over it.

        Args:
            name: the dataframe.
            sql: a query in which ``name`` (and the bucket's other dataframes)
                are tables; the whole dataframe when ``None``.
            bucket: its bucket; the default bucket when ``None``.
            version: an older version (see :meth:`history`).
            snapshot: the version a named snapshot of the bucket pins (see
                :meth:`create_snapshot`), even after the dataframe was deleted.
            columns: only these columns (not with ``sql``).
            where: only the rows where this SQL predicate is true (not with ``sql``).
            limit: at most this many rows (not with ``sql``). ``columns``,
                ``where`` and ``limit`` run on the daemon and keep the
                stored order of the rows.
            as_: ``"pandas"`` (default), ``"polars"``, ``"arrow"`` or
                ``"reader"`` (a ``pyarrow.RecordBatchReader``, streamed).

        Raises:
            FileNotFoundError: no such dataframe, bucket or version.
            DataFusionError: the SQL or the predicate failed.
        """
        ticket: dict[str, Any] = {"name": name, "bucket": bucket}
        picks = (("sql", sql), ("version", version), ("snapshot", snapshot), ("where", where), ("limit", limit))
        for key, value in picks:
            if value is not None:
                ticket[key] = value
        if columns is not None:
            ticket["columns"] = list(columns)
        return self._do_get(ticket, as_)

    def sql(self, query: str, bucket: Optional[str] = None, *, as_: Output = "pandas") -> Any:
        """A query across every bucket: the default bucket's dataframes by bare
        name, another's as ``bucket.name`` (``bucket`` makes that bucket's the
        bare names).

        Raises:
            DataFusionError: the SQL failed.
        """
        return self._do_get({"sql": query, "bucket": bucket}, as_)

    def _do_get(self, ticket: dict[str, Any], as_: Output) -> Any:
        frames.check_output(as_)
        with _typed_errors():
            reader = self.client.do_get(flight.Ticket(json.dumps(ticket).encode()), options=self._options)
            stream = reader.to_reader()
            if as_ == "reader":
                return _typed_reader(stream)
            return frames.convert(stream, as_)

    def schema(self, name: str, bucket: Optional[str] = None) -> pa.Schema:
        """A dataframe's Arrow schema, without its rows."""
        path = [bucket, name] if bucket else [name]
        with _typed_errors():
            return self.client.get_schema(flight.FlightDescriptor.for_path(*path), options=self._options).schema

    def list(self, bucket: Optional[str] = None, regex: Optional[str] = None) -> list[dict[str, Any]]:
        """The dataframes of a bucket (the default one when ``None``).

        Each is a dict with ``name`` and ``schema`` (as the original client
        gave), and ``rows``, ``bytes``, ``version``, ``timestamp`` (a UTC
        datetime), ``files``, ``retention`` and ``snapshots`` (the named
        snapshots that pin a version of it). ``regex`` keeps only the names
        it matches.

        Raises:
            FileNotFoundError: no such bucket.
        """
        criteria = json.dumps({"bucket": bucket, "regex": regex}).encode()
        out = []
        with _typed_errors():
            for info in self.client.list_flights(criteria=criteria, options=self._options):
                entry: dict[str, Any] = {
                    "name": info.descriptor.path[-1].decode(),
                    "schema": info.schema,
                    "rows": info.total_records,
                    "bytes": info.total_bytes,
                }
                meta = json.loads(info.app_metadata) if info.app_metadata else {}
                if "timestamp_ms" in meta:
                    entry["version"] = meta["version"]
                    entry["timestamp"] = _dt.datetime.fromtimestamp(meta["timestamp_ms"] / 1000, _dt.timezone.utc)
                    entry["files"] = meta["files"]
                entry["retention"] = meta.get("retention")
                entry["snapshots"] = meta.get("snapshots", [])
                out.append(entry)
        return out

    def delete(self, name: str, bucket: Optional[str] = None) -> str:
        """Delete a dataframe; returns ``deleted NAME``.

        Raises:
            FileNotFoundError: no such dataframe.
        """
        return self._action_text("delete", {"name": name, "bucket": bucket})

    def buckets(self) -> list[str]:
        """The buckets' names (the default bucket is not listed)."""
        return json.loads(self._action_text("buckets", {}))

    def delete_bucket(self, name: str, mode: BucketDeleteMode = BucketDeleteMode.ERROR) -> str:
        """Delete a bucket; ``DELETE_CONTENTS`` also deletes its dataframes.

        Raises:
            BucketNotEmptyError: mode ``ERROR`` and the bucket holds dataframes.
            FileNotFoundError: no such bucket.
        """
        mode = BucketDeleteMode(mode)
        return self._action_text("delete_bucket", {"name": name, "mode": mode.value})

    def resample(
        self,
        source: str,
        target: str,
        rule: Optional[str] = None,
        time_col: Optional[str] = None,
        aggregation_func: Optional[str] = None,
        sql: Optional[str] = None,
        mode: Optional[PutMode] = PutMode.APPEND,
        source_bucket: Optional[str] = None,
        target_bucket: Optional[str] = None,
    ) -> dict[str, Any]:
        """Downsample ``source`` into ``target`` on the daemon: by ``sql``, or
        by ``rule`` (``10s``, ``1min``, ...) over ``time_col`` with
        ``aggregation_func`` (``mean``, ``max``, ``median``, ...).

        Returns:
            ``{"source_rows", "target_rows"}`` (and ``dropped_columns`` and
            ``message`` when a numeric-only function left columns out).

        Raises:
            ValueError: neither ``sql`` nor all of rule, time_col and aggregation_func.
            FileNotFoundError: no such source (or target bucket).
            DataFusionError: the SQL failed.
        """
        request: dict[str, Any] = {
            "source": source,
            "target": target,
            "mode": PutMode(mode or PutMode.APPEND).value,
            "source_bucket": source_bucket,
            "target_bucket": target_bucket,
        }
        if sql:
            request["sql"] = sql
        elif rule is None or time_col is None or aggregation_func is None:
            raise ValueError("rule, time_col, and aggregation_func are required if sql is not provided")
        else:
            request.update(rule=rule, time_col=time_col, aggregation_func=aggregation_func)
        return json.loads(self._action_text("resample", request))

    def shutdown(self) -> str:
        """Stop the daemon gracefully (an admin token is needed when it has a secret)."""
        return self._action_text("shutdown", {})

    def ping(self) -> str:
        """``pong`` when the daemon answers."""
        return self._action_text("ping", None)

    # ------------------------------------------------------ versions and changes

    def history(self, name: str, bucket: Optional[str] = None) -> list[dict[str, Any]]:
        """The kept versions, oldest first: ``version``, ``timestamp`` (a UTC
        datetime), ``operation``, ``rows``, ``rows_added``, ``rows_updated``,
        ``rows_deleted``, ``files_added``, ``files_removed``, ``files``.
        Read one with ``get(name, version=N)``."""
        versions = json.loads(self._action_text("history", {"name": name, "bucket": bucket}))
        for v in versions:
            v["timestamp"] = _dt.datetime.fromtimestamp(v.pop("timestamp_ms") / 1000, _dt.timezone.utc)
        return versions

    def diff(
        self,
        name: str,
        from_version: int,
        to_version: int,
        keys: Optional[Sequence[str]] = None,
        bucket: Optional[str] = None,
        *,
        as_: Output = "pandas",
    ) -> Any:
        """The rows that differ from one version to another, streamed: a
        ``_change`` column (``added``, ``removed``; with ``keys`` also
        ``changed``, and ``_changed_columns`` naming the columns whose values
        changed, comma-separated), then the dataframe's columns (a removed
        row's older values). Only the files that differ are read.

        Raises:
            FileNotFoundError: no such dataframe or version.
            ValueError: a key is not a column, or the versions' columns differ.
        """
        spec: dict[str, Any] = {"from": from_version, "to": to_version}
        if keys:
            spec["keys"] = list(keys)
        return self._do_get({"name": name, "bucket": bucket, "diff": spec}, as_)

    def create_snapshot(
        self, name: str, bucket: Optional[str] = None, dataframes: Optional[Sequence[str]] = None
    ) -> dict[str, Any]:
        """Pin the current version of every dataframe of ``bucket`` (or of
        ``dataframes``) under ``name``: ``get(..., snapshot=name)`` and ``AT
        (SNAPSHOT => 'name')`` in SQL read them, vacuum and retention keep
        them, a deleted dataframe stays readable through it.

        Returns:
            ``{"name", "created", "dataframes": {name: version}, "rows", "bytes"}``.

        Raises:
            FileExistsError: the bucket has a snapshot of that name.
        """
        request: dict[str, Any] = {"name": name, "bucket": bucket}
        if dataframes is not None:
            request["dataframes"] = list(dataframes)
        return _snapshot(json.loads(self._action_text("create_snapshot", request)))

    def snapshots(self, bucket: Optional[str] = None) -> list[dict[str, Any]]:
        """The named snapshots of a bucket, as :meth:`create_snapshot` returns them."""
        return [_snapshot(s) for s in json.loads(self._action_text("snapshots", {"bucket": bucket}))]

    def delete_snapshot(self, name: str, bucket: Optional[str] = None) -> dict[str, Any]:
        """Remove a named snapshot; the files only it kept go after the
        daemon's ``--vacuum-grace``. Returns what it pinned."""
        return _snapshot(json.loads(self._action_text("delete_snapshot", {"name": name, "bucket": bucket})))

    def delete_rows(self, name: str, where: str, bucket: Optional[str] = None) -> dict[str, int]:
        """Delete the rows where the SQL predicate ``where`` is true.

        Returns:
            ``{"rows_deleted", "version"}`` (the current version when no row matched).

        Raises:
            DataFusionError: the predicate does not parse, names an unknown
                column or is not a boolean (nothing is written).
        """
        return json.loads(self._action_text("delete_rows", {"name": name, "bucket": bucket, "where": where}))

    def set_retention(
        self,
        name: Optional[str] = None,
        time_col: Optional[str] = None,
        keep: Optional[Duration] = None,
        bucket: Optional[str] = None,
    ) -> dict[str, Any]:
        """Keep only the rows whose ``time_col`` is newer than ``keep``
        (``"30d"``, ``"12h"`` or a ``timedelta``), on ``name`` or, without a
        name, on every dataframe of ``bucket`` that has the column. Both
        ``time_col`` and ``keep`` left out remove the retention.

        Returns:
            ``{"retention", "message"}``.
        """
        if (time_col is None) != (keep is None):
            raise ValueError("give both time_col and keep, or neither to remove the retention")
        retention = None if keep is None else {"time_col": time_col, "keep": _duration(keep)}
        request = {"name": name, "bucket": bucket, "retention": retention}
        return json.loads(self._action_text("set_retention", request))

    def retention(self, name: str, bucket: Optional[str] = None) -> Optional[dict[str, Any]]:
        """The retention that applies to a dataframe (its own or its
        bucket's: ``from_bucket``), or ``None``.

        Raises:
            FileNotFoundError: no such dataframe.
        """
        for entry in self.list(bucket=bucket):
            if entry["name"] == name:
                return entry["retention"]
        where = f" in bucket {bucket}" if bucket else ""
        raise DataframeNotFoundError(f"dataframe {name}{where} not found")

    def compact(self, name: str, bucket: Optional[str] = None) -> dict[str, Any]:
        """Rewrite the current version's small files into few (same rows,
        same order), then vacuum. Returns ``{"version", "files_before",
        "files_after", "versions_removed", "files_deleted", ...}``."""
        return json.loads(self._action_text("compact", {"name": name, "bucket": bucket}))

    def vacuum(self, name: str, bucket: Optional[str] = None, retain: Optional[int] = None) -> dict[str, Any]:
        """Delete versions beyond the newest ``retain`` (default: the
        daemon's ``--retain-versions``) and the files only they used.
        Returns ``{"versions_removed", "files_deleted", "files_waiting"}``."""
        request: dict[str, Any] = {"name": name, "bucket": bucket}
        if retain is not None:
            request["retain"] = retain
        return json.loads(self._action_text("vacuum", request))

    def stats(self) -> dict[str, Any]:
        """The daemon's store, uptime and store requests by kind."""
        return json.loads(self._action_text("stats", {}))

    def scan(self, name: str, bucket: Optional[str] = None, *, version: Optional[int] = None) -> Any:
        """A polars ``LazyFrame`` over a dataframe: the columns, the row
        limit and the filters polars hands over run on the daemon."""
        from .scan import scan

        return scan(self, name, bucket, version)

    # ------------------------------------------------------------ plumbing

    def _action_text(self, kind: str, body: Optional[dict[str, Any]]) -> str:
        payload = b"" if body is None else json.dumps(body).encode()
        with _typed_errors():
            results = self.client.do_action(flight.Action(kind, payload), options=self._options)
            return "\n".join(r.body.to_pybytes().decode() for r in results)


def _snapshot(info: dict[str, Any]) -> dict[str, Any]:
    info["created"] = _dt.datetime.fromtimestamp(info.pop("created_ms") / 1000, _dt.timezone.utc)
    return info


def _typed_reader(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """The same stream, whose errors mid-stream are typed too."""

    def batches() -> Iterator[pa.RecordBatch]:
        with _typed_errors():
            yield from reader

    return pa.RecordBatchReader.from_batches(reader.schema, batches())
