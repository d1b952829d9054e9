"""The shop's login tokens: HS256 JWTs whose ``sub`` is the customer id (so tracesec names the actor)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: bytes, subject: str, lifetime_seconds: int = 3600) -> str:
    header = _encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": subject, "exp": int(time.time()) + lifetime_seconds}
    payload = _encode(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_encode(signature)}"


def subject_of(secret: bytes, token: str) -> str | None:
    """The token's ``sub`` when its signature is right and it has not expired; otherwise None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _decode(parts[2])):
            return None
        claims = json.loads(_decode(parts[1]))
    except ValueError:
        return None
    if not isinstance(claims, dict) or claims.get("exp", 0) < time.time():
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) else None
