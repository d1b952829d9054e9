"""Who is calling: the identity behind a request and the credential it presented.

Order of preference: ``tracesec.set_user`` (the app vouches for it), then the credential: an API key header,
``Authorization`` (a JWT's ``sub``, read without verification and used as an identity label only; a basic
auth user name; any other token as an opaque secret), a session cookie; and the client IP when there is none.
Credentials are only ever kept as a keyed BLAKE2b digest. Parsing is cached per header value (keyed by the
value's built-in hash, so the cache holds no secret), which keeps the common case to a few dict lookups.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tracesec.context import RequestContext

MAX_ID_CHARS = 256
_CACHE_LIMIT = 4096


class Actor(NamedTuple):
    """``kind`` is user, jwt, basic, api_key, token, session or ip; ``key`` ("kind:id") names it in
    sketches; ``block_keys`` are what blocking it puts on the blocklist."""

    kind: str
    id: str
    credential_kind: str | None
    credential_hash: str | None
    key: str
    block_keys: tuple[str, ...]
    span_attributes: dict[str, str]


def make_actor(kind: str, actor_id: str, credential_kind: str | None, credential_hash: str | None) -> Actor:
    attributes = {"tracesec.actor.id": actor_id, "tracesec.actor.kind": kind}
    if kind in ("user", "jwt", "basic"):
        attributes["enduser.id"] = actor_id
    if credential_hash is not None and credential_kind is not None:
        attributes["tracesec.credential.kind"] = credential_kind
        attributes["tracesec.credential.hash"] = credential_hash
    # An unverified JWT sub or a basic-auth name can be forged, so blocking one blocks the credential only.
    block_keys = tuple(
        key
        for key in (
            f"{kind}:{actor_id}" if kind in ("user", "ip") else None,
            None if credential_hash is None else f"credential:{credential_hash}",
        )
        if key is not None
    )
    return Actor(
        kind, actor_id, credential_kind, credential_hash, f"{kind}:{actor_id}", block_keys, attributes
    )


class ActorResolver:
    """Derives actors from headers; bounded caches make the repeat case cheap."""

    def __init__(
        self,
        api_key_headers: tuple[str, ...] = ("x-api-key",),
        session_cookies: frozenset[str] = frozenset({"session", "sessionid"}),
        hash_key: bytes = b"tracesec",
    ) -> None:
        self.api_key_headers = api_key_headers
        self.session_cookies = frozenset(name.lower() for name in session_cookies)
        self._hash_key = hashlib.blake2b(hash_key, digest_size=32).digest()
        self._by_authorization: dict[int, Actor | None] = {}
        self._by_api_key: dict[int, Actor | None] = {}
        self._by_cookie: dict[int, Actor | None] = {}
        self._by_ip: dict[str, Actor] = {}
        self._by_user: dict[tuple[str, str | None], Actor] = {}

    def credential_hash(self, secret: str) -> str:
        """A keyed digest of a secret: stable across processes sharing the key, useless for recovering it."""
        return hashlib.blake2b(secret.encode(), digest_size=12, key=self._hash_key).hexdigest()

    def resolve(self, ctx: RequestContext) -> Actor:
        """The actor of a request; once ``ctx.user`` is set, ``named_user`` turns it into the user without
        reading the headers again."""
        credential = self.from_credentials(ctx)
        if ctx.user is not None:
            return self.named_user(ctx.user[0], credential)
        if credential is not None:
            return credential
        ip = ctx.client_ip
        actor = self._by_ip.get(ip)
        if actor is None:
            actor = make_actor("ip", ip, None, None)
            _remember(self._by_ip, ip, actor)
        return actor

    def named_user(self, user: object, seen: Actor | None) -> Actor:
        """The user the app named, carrying the credential of ``seen`` (the actor found before), if any."""
        user_id = str(user)[:MAX_ID_CHARS]
        if seen is not None and seen.kind == "user" and seen.id == user_id:
            return seen
        kind = None if seen is None else seen.credential_kind
        digest = None if seen is None else seen.credential_hash
        slot = (user_id, digest)
        named = self._by_user.get(slot)
        if named is None:
            named = make_actor("user", user_id, kind, digest)
            _remember(self._by_user, slot, named)
        return named

    def from_credentials(self, ctx: RequestContext) -> Actor | None:
        headers = ctx.headers
        authorization = headers.get("authorization")
        if authorization:
            return _cached(self._by_authorization, authorization, self._from_authorization)
        for name in self.api_key_headers:
            value = headers.get(name)
            if value:
                return _cached(self._by_api_key, value, self._from_api_key)
        cookie = headers.get("cookie")
        if cookie:
            return _cached(self._by_cookie, cookie, self._from_cookie)
        return None

    def _from_authorization(self, value: str) -> Actor | None:
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        digest = self.credential_hash(token or value)
        if not token:
            return make_actor("token", digest, "token", digest)
        scheme = scheme.lower()
        if scheme == "basic":
            user = _basic_user(token)
            return (
                make_actor("basic", user, "basic", digest)
                if user
                else make_actor("token", digest, "basic", digest)
            )
        if scheme == "bearer":
            subject = jwt_subject(token)
            if subject is not None:
                return make_actor("jwt", subject, "jwt", digest)
            return make_actor("token", digest, "bearer", digest)
        return make_actor("token", digest, scheme[:32], digest)

    def _from_api_key(self, value: str) -> Actor:
        digest = self.credential_hash(value.strip())
        return make_actor("api_key", digest, "api_key", digest)

    def _from_cookie(self, header: str) -> Actor | None:
        for part in header.split(";"):
            name, _, value = part.partition("=")
            if value.strip() and name.strip().lower() in self.session_cookies:
                digest = self.credential_hash(value.strip())
                return make_actor("session", digest, "session", digest)
        return None


def jwt_subject(token: str) -> str | None:
    """The ``sub`` claim of a JWT, unverified: an identity label only. None when the token is no JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    if isinstance(subject, (str, int)) and not isinstance(subject, bool) and str(subject):
        return str(subject)[:MAX_ID_CHARS]
    return None


def _basic_user(token: str) -> str | None:
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    user, separator, _ = decoded.partition(":")
    return user[:MAX_ID_CHARS] if separator and user else None


def _cached(cache: dict[int, Actor | None], value: str, parse: Callable[[str], Actor | None]) -> Actor | None:
    """The actor parsed from a header value, by the value's built-in hash: the cache holds no secret."""
    slot = hash(value)
    try:
        return cache[slot]
    except KeyError:
        actor = parse(value)
        _remember(cache, slot, actor)
        return actor


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    """Bounded cache: start over when full (cheaper than LRU bookkeeping on every hit)."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
