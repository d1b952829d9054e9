"""Bearer-key check in front of the API: agents send ``Authorization: Bearer <key>``, and readers of
the query API use the same keys. With no key configured the collector only listens on loopback (see
cli.py), and this check lets everything through.

Only paths starting with ``/v1`` need a key: everything else is the dashboard's page and static files, which a
browser loads without one (they hold no data); the dashboard then sends the key on its /v1 calls."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

PROTECTED_PREFIX = "/v1"


class BearerAuth:
    def __init__(self, app: ASGIApp, keys: Iterable[str]) -> None:
        self.app = app
        self.keys = tuple(key.encode() for key in keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.keys
            or not scope["path"].startswith(PROTECTED_PREFIX)
            or self._authorised(scope)
        ):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "missing or wrong API key (Authorization: Bearer <key>)"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="tracesec"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _authorised(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, offered = value.partition(b" ")
                if scheme.lower() != b"bearer":
                    return False
                offered = offered.strip()
                # compare against every key so the time taken does not tell which one nearly matched
                return sum(hmac.compare_digest(offered, key) for key in self.keys) > 0
        return False
