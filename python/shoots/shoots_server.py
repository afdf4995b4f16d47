"""``ShootsServer``: the original's in-process server, now the bundled daemon.

The original ran a pyarrow Flight server in the calling process; this one
starts ``shoots serve`` with the same settings, so code that set up the
original's server (its own test suite does) runs unchanged.
"""

from __future__ import annotations

import datetime
import os
from typing import Any, Optional
from urllib.parse import urlsplit

from . import tokens
from .daemon import Daemon, serve


class ShootsServer:
    """The daemon at ``location`` over ``bucket_dir``, listening once constructed.

    Args:
        location: a ``pyarrow.flight.Location`` (or its URI):
            ``grpc://HOST:PORT``, or ``grpc+tls://HOST:PORT`` with ``certs``.
        bucket_dir: the directory of the buckets (created if missing).
        certs: a TLS certificate and key, PEM strings, in that order.
        secret: require tokens signed with it; the admin token is printed.
    """

    def __init__(self, location: Any, bucket_dir: str, certs: Optional[tuple[str, str]] = None,
                 secret: Optional[str] = None, *args: Any, **kwargs: Any):
        self.location = location
        self.bucket_dir = bucket_dir
        self.secret = secret
        uri = location.uri.decode() if hasattr(location, "uri") else str(location)
        parts = urlsplit(uri)
        os.makedirs(bucket_dir, exist_ok=True)
        if secret:
            print("Generating admin JWT:")
            print(self.generate_admin_jwt())
        self._daemon: Daemon = serve(
            os.path.abspath(bucket_dir), host=parts.hostname or "localhost", port=parts.port or 0,
            certs=certs, secret=secret,
        )

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._daemon.port

    def generate_admin_jwt(self) -> str:
        """An admin token valid for a year, as the original minted it."""
        if not self.secret:
            raise ValueError("Server must be started with a secret to use JWTs")
        now = datetime.datetime.now(datetime.timezone.utc)
        uri = self.location.uri.decode() if hasattr(self.location, "uri") else str(self.location)
        claims = {
            "exp": int((now + datetime.timedelta(days=365)).timestamp()),
            "iat": int(now.timestamp()),
            "server": uri,
            "type": "admin",
        }
        return tokens.encode(claims, self.secret)

    def serve(self) -> None:
        """Block until the daemon stops (``shutdown()``, or a client's shutdown)."""
        self.wait()

    def wait(self) -> None:
        self._daemon.wait()

    def shutdown(self) -> None:
        """Stop the daemon gracefully and wait until it is gone."""
        self._daemon.stop()

    def __enter__(self) -> ShootsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
