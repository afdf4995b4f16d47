"""Tokens the daemon accepts: HS256 JWTs signed with its ``--secret``,
minted here with nothing but the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from typing import Literal, Optional

Role = Literal["read", "write", "admin"]
ROLES = ("read", "write", "admin")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode(claims: dict, secret: str) -> str:
    """An HS256 JWT of ``claims``."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def create_token(
    secret: str,
    role: Role = "read",
    buckets: Optional[Iterable[Optional[str]]] = None,
    expires_in: Optional[float] = None,
) -> str:
    """A token for a daemon started with ``--secret`` (as ``shoots token create``).

    Args:
        secret: the daemon's secret.
        role: ``read`` (get, list, query), ``write`` (also put, delete,
            resample, changes in place) or ``admin`` (also delete buckets,
            shut the daemon down).
        buckets: the only buckets the token may touch (``None`` or ``""`` is
            the default bucket); all of them when not given.
        expires_in: seconds until the token expires; never when not given.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    now = int(time.time())
    claims: dict = {"type": role, "iat": now}
    if buckets is not None:
        claims["buckets"] = [b or "" for b in buckets]
    if expires_in is not None:
        claims["exp"] = now + int(expires_in)
    return encode(claims, secret)
