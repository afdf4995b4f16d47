"""The bundled daemon, run as a subprocess: ``shoots.serve(...)``."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import IO, Any, Optional, Sequence, Union

from .shoots_client import ShootsClient

StrPath = Union[str, "os.PathLike[str]"]

_LISTENING = re.compile(r"listening on (grpc(?:\+tls)?)://(\S+):(\d+)")
_CONSOLE = re.compile(r"console on (https?)://\S+:(\d+)/")


def binary() -> str:
    """The ``shoots`` binary: ``$SHOOTS_BIN``, else the one this package was
    installed with (beside this interpreter's scripts), else the PATH's."""
    if os.environ.get("SHOOTS_BIN"):
        return os.environ["SHOOTS_BIN"]
    exe = "shoots.exe" if sys.platform == "win32" else "shoots"
    bundled = Path(sysconfig.get_path("scripts")) / exe
    if bundled.is_file():
        return str(bundled)
    found = shutil.which(exe)
    if found:
        return found
    raise FileNotFoundError("the shoots binary is not installed beside this package nor on the PATH; set SHOOTS_BIN")


class Daemon:
    """A running ``shoots serve``; a context manager that stops it on exit."""

    def __init__(self, args: Sequence[str], env: Optional[dict[str, str]], log: Optional[IO[Any]], cleanup: Optional[Path]):
        self._cleanup = cleanup
        self.process = subprocess.Popen(
            [binary(), "serve", *args], stdout=subprocess.PIPE, stderr=log, env={**os.environ, **(env or {})}
        )
        line = self.process.stdout.readline().decode().strip()
        m = _LISTENING.search(line)
        if not m:
            code = self.process.wait()
            self._remove_temp()
            raise RuntimeError(f"shoots serve exited with {code} before listening: {line or 'see its stderr'}")
        scheme, host, port = m.groups()
        console = _CONSOLE.search(line)
        #: Whether the daemon serves TLS.
        self.tls = scheme == "grpc+tls"
        #: The address and port it listens on.
        self.host, self.port = host.strip("[]"), int(port)
        #: Its Flight location, e.g. ``grpc://127.0.0.1:40123``.
        self.location = f"{scheme}://{host}:{port}"
        #: The console's URL when ``http_port`` was given.
        self.http_url = f"{console.group(1)}://{host}:{console.group(2)}" if console else None

    def client(self, **kwargs: Any) -> ShootsClient:
        """A client of this daemon (``ShootsClient``'s keyword arguments)."""
        return ShootsClient(self.host, self.port, tls=self.tls, **kwargs)

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: Optional[float] = None) -> int:
        """Wait until the daemon stops; its exit code."""
        code = self.process.wait(timeout)
        self._remove_temp()
        return code

    def stop(self, timeout: float = 60) -> int:
        """Stop it gracefully (SIGTERM: running calls finish), killing it if
        it has not stopped within ``timeout`` seconds."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.wait()

    def _remove_temp(self) -> None:
        if self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()
        if self._cleanup is not None:
            shutil.rmtree(self._cleanup, ignore_errors=True)
            self._cleanup = None

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        return f"<shoots daemon {self.location} {state}>"


def serve(
    bucket_dir: Optional[StrPath] = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    http_port: Optional[int] = None,
    cert_file: Optional[StrPath] = None,
    key_file: Optional[StrPath] = None,
    certs: Optional[tuple[str, str]] = None,
    secret: Optional[str] = None,
    memory_limit: Optional[str] = None,
    args: Sequence[str] = (),
    env: Optional[dict[str, str]] = None,
    log: Optional[IO[Any]] = None,
) -> Daemon:
    """Start the bundled daemon and return once it listens.

    Args:
        bucket_dir: a directory, ``file://PATH`` or ``s3://BUCKET[/PREFIX]``;
            a temporary directory, removed when the daemon stops, when not given.
        host: the address to listen on.
        port: the Flight port; 0 (the default) takes a free one (``.port``).
        http_port: also serve the console, ``/metrics`` and ``/health``
            there (0: a free port; ``.http_url``).
        cert_file, key_file: PEM files to serve TLS with.
        certs: or the certificate and key themselves, PEM strings (as
            ``ShootsServer`` takes them): written to a private temporary
            directory, removed when the daemon stops.
        secret: require tokens signed with it (see :func:`shoots.create_token`).
        memory_limit: query memory, e.g. ``"512MiB"``.
        args: more ``shoots serve`` flags.
        env: more environment variables (``AWS_*`` for S3, ``SHOOTS_LOG``).
        log: where the daemon's log goes (a file opened for writing);
            this process's stderr when not given.

    Example::

        with shoots.serve() as daemon:
            client = daemon.client()
            client.put("t", pd.DataFrame({"a": [1, 2]}))
    """
    if certs is not None and (cert_file is not None or key_file is not None):
        raise ValueError("give certs or cert_file and key_file, not both")
    cleanup = None
    if bucket_dir is None or certs is not None:
        cleanup = Path(tempfile.mkdtemp(prefix="shoots-"))
    if bucket_dir is None:
        bucket_dir = cleanup / "buckets"
    if certs is not None:
        cert_file, key_file = cleanup / "cert.pem", cleanup / "key.pem"
        for path, pem in ((cert_file, certs[0]), (key_file, certs[1])):
            path.touch(mode=0o600)
            path.write_text(pem)
    flags = ["--host", host, "--port", str(port), "--bucket-dir", os.fspath(bucket_dir)]
    if http_port is not None:
        flags += ["--http-port", str(http_port)]
    if cert_file is not None or key_file is not None:
        flags += ["--cert-file", os.fspath(cert_file or ""), "--key-file", os.fspath(key_file or "")]
    if memory_limit is not None:
        flags += ["--memory-limit", memory_limit]
    environment = dict(env or {})
    if secret is not None:
        # Through the environment: a flag would show in the process list.
        environment["SHOOTS_SECRET"] = secret
    return Daemon([*flags, *args], environment, log, cleanup)
