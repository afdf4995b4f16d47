"""One exception class per error kind of the wire protocol.

The daemon answers a failure with a Flight error whose ``extra_info`` is JSON
``{"type": KIND, "message": ...}``; :func:`translate` turns it into the class
below named by ``KIND``. The classes also derive from what the original
client raised (``FileNotFoundError``, ``FileExistsError``) or from the
pyarrow class a caller may already catch, so code written for ``shoots``
0.1.1 keeps catching what it caught.
"""

from __future__ import annotations

import json
import re

from pyarrow import flight


class ShootsError(Exception):
    """Base of every error the daemon reports with a known kind."""

    #: The wire protocol's name for this kind (``extra_info``'s ``type``).
    kind = ""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class DataframeNotFoundError(ShootsError, FileNotFoundError):
    """No such dataframe, bucket or version (wire kind ``FileNotFoundError``)."""

    kind = "FileNotFoundError"


class DataframeExistsError(ShootsError, FileExistsError):
    """A put in mode ``error`` onto a dataframe that exists (``FileExistsError``)."""

    kind = "FileExistsError"


class BucketNotEmptyError(ShootsError):
    """``delete_bucket`` in mode ``error`` on a bucket that holds dataframes."""

    kind = "BucketNotEmptyError"


class DataFusionError(ShootsError):
    """SQL that failed to parse, plan or run (or ran out of memory)."""

    kind = "DataFusionError"


class ShootsIOError(ShootsError, OSError):
    """The daemon's store failed (a disk or S3 error)."""

    kind = "ShootsIOError"


class InvalidNameError(ShootsError, ValueError):
    """A bucket or dataframe name the daemon does not accept."""

    kind = "InvalidNameError"


class SchemaMismatchError(ShootsError, ValueError):
    """An append or upsert whose columns or types do not fit the dataframe."""

    kind = "SchemaMismatchError"


class InvalidArgumentError(ShootsError, ValueError):
    """A request the daemon refused as malformed (bad mode, keys, predicate, ...)."""

    kind = "InvalidArgumentError"


class AuthenticationError(ShootsError, flight.FlightUnauthenticatedError):
    """A missing, malformed, expired or wrongly signed token."""

    kind = "FlightUnauthenticatedError"


class PermissionDeniedError(ShootsError, flight.FlightUnauthorizedError):
    """A valid token without the role or bucket the call needs."""

    kind = "FlightUnauthorizedError"


KINDS: dict[str, type[ShootsError]] = {
    cls.kind: cls
    for cls in (
        DataframeNotFoundError,
        DataframeExistsError,
        BucketNotEmptyError,
        DataFusionError,
        ShootsIOError,
        InvalidNameError,
        SchemaMismatchError,
        InvalidArgumentError,
    )
}


# A failure after a result began to stream reaches pyarrow without
# `extra_info`, as an ArrowException whose text holds the daemon's
# "KIND: message".
_STREAMED = re.compile(r"^(?:[\w ]+error: )?(\w+): (.*?)(?:\. gRPC client debug context:|\. Detail:|$)", re.S)


def translate(error: Exception) -> BaseException:
    """The typed exception for a Flight error (or an error that cut a result
    stream), or the error itself when its kind is unknown (a transport
    failure, say)."""
    if not isinstance(error, flight.FlightError):
        m = _STREAMED.match(str(error))
        return KINDS[m.group(1)](m.group(2)) if m and m.group(1) in KINDS else error
    if isinstance(error, flight.FlightUnauthenticatedError):
        return AuthenticationError(_message(error))
    if isinstance(error, flight.FlightUnauthorizedError):
        return PermissionDeniedError(_message(error))
    try:
        info = json.loads(error.extra_info)
        cls = KINDS[info["type"]]
    except (TypeError, ValueError, KeyError):
        return error
    return cls(info.get("message", ""))


def _message(error: flight.FlightError) -> str:
    # pyarrow appends its own detail lines after the server's message.
    return str(error).split(". Detail:")[0]
