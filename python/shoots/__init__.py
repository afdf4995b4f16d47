"""shoots: a dataframe storage server and its client, for pandas, polars and pyarrow.

``ShootsClient`` talks to a daemon (``shoots serve``, bundled with this
package, or :func:`serve` from Python). The names of the original ``shoots``
0.1.1 keep their signatures and behaviour.
"""

from .daemon import Daemon, binary, serve
from .errors import (
    AuthenticationError,
    BucketNotEmptyError,
    DataframeExistsError,
    DataframeNotFoundError,
    DataFusionError,
    InvalidArgumentError,
    InvalidNameError,
    PermissionDeniedError,
    SchemaMismatchError,
    ShootsError,
    ShootsIOError,
)
from .frames import MissingExtraError
from .shoots_client import BucketDeleteMode, PutMode, PutResult, ShootsClient
from .shoots_server import ShootsServer
from .tokens import create_token

__all__ = [
    "AuthenticationError",
    "BucketDeleteMode",
    "BucketNotEmptyError",
    "Daemon",
    "DataframeExistsError",
    "DataframeNotFoundError",
    "DataFusionError",
    "InvalidArgumentError",
    "InvalidNameError",
    "MissingExtraError",
    "PermissionDeniedError",
    "PutMode",
    "PutResult",
    "SchemaMismatchError",
    "ShootsClient",
    "ShootsError",
    "ShootsIOError",
    "ShootsServer",
    "binary",
    "create_token",
    "serve",
]
