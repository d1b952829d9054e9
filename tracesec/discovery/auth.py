"""The authentication a request presented, as scheme keys an inventory can count and OpenAPI can name.

Keys: ``none``, ``basic``, ``bearer``, ``jwt`` (a bearer token that is a JWT), ``digest`` or another
``Authorization`` scheme in lower case, ``api_key:header:<name>``, ``api_key:query:<name>`` and
``cookie:<name>`` (a session cookie). Only names are kept, never credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tracesec.discovery.labels import looks_like_jwt

NO_AUTH = "none"

_API_KEY_HEADER = re.compile(r"(?:x-)?(?:[a-z0-9]+-)*(?:api|auth|access|app|client|functions)-?(?:key|token)")
_API_KEY_QUERY = frozenset({"api_key", "apikey", "api-key", "access_token", "auth_token", "token", "key"})
_SESSION_COOKIE = re.compile(
    r"(?:session|sess|sid|connect\.sid|phpsessid|jsessionid|\.aspxauth|auth|token|jwt|remember)", re.I
)
_NOT_SESSION_COOKIE = re.compile(r"csrf|xsrf", re.I)
_SCHEME_NAME = re.compile(r"[a-z][a-z0-9-]{0,19}")


def auth_schemes(
    authorization: str | None,
    header_names: Iterable[str],
    cookie_names: Iterable[str],
    query_names: Iterable[str],
) -> list[str]:
    """Every scheme a request carried, or ``["none"]``."""
    found: list[str] = []
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            found.append("jwt" if looks_like_jwt(credentials.strip()) else "bearer")
        elif _SCHEME_NAME.fullmatch(scheme):
            found.append(scheme)
    found.extend(f"api_key:header:{name}" for name in header_names if _API_KEY_HEADER.fullmatch(name))
    found.extend(f"api_key:query:{name}" for name in query_names if name.lower() in _API_KEY_QUERY)
    found.extend(
        f"cookie:{name}"
        for name in cookie_names
        if _SESSION_COOKIE.search(name) and not _NOT_SESSION_COOKIE.search(name)
    )
    return found or [NO_AUTH]


def credential_parameters(schemes: Iterable[str]) -> set[tuple[str, str]]:
    """(location, name) of the headers, query parameters and cookies that carried credentials: they
    belong to the auth scheme, not to the endpoint's parameters."""
    found = set()
    for key in schemes:
        if key.startswith("api_key:"):
            _, location, name = key.split(":", 2)
            found.add((location, name))
        elif key.startswith("cookie:"):
            found.add(("cookie", key.split(":", 1)[1]))
    return found


def cookie_names(cookie_header: str | None) -> list[str]:
    """Cookie names from a ``Cookie`` header, in order."""
    if not cookie_header:
        return []
    return [part.split("=", 1)[0].strip() for part in cookie_header.split(";") if "=" in part]
