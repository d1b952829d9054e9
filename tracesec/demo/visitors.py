"""Who sends the demo's traffic: a visitor is one client address (sent as ``X-Forwarded-For``, which the
demo shop's agent believes from loopback), a user agent and, once logged in, a token or API key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
MOBILE_APP = "ShopApp/4.2 (Android 14)"
PARTNER_AGENT = "partner-sync/1.3 python-httpx"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    @property
    def blocked_reason(self) -> str | None:
        """The contract's 403 ``reason`` when tracesec refused the request, else None."""
        if self.status != 403:
            return None
        try:
            reason = json.loads(self.body).get("reason")
        except (ValueError, AttributeError):
            return None
        return reason if isinstance(reason, str) else None


@dataclass
class Visitor:
    http: httpx.Client
    ip: str
    user_agent: str = BROWSER
    token: str | None = None
    api_key: str | None = None
    replies: list[Reply] = field(default_factory=list)

    def _headers(self) -> dict[str, str]:
        headers = {"x-forwarded-for": self.ip, "user-agent": self.user_agent}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def get(self, path: str, **params: Any) -> Reply:
        return self._keep(self.http.get(path, params=params, headers=self._headers()))

    def post(self, path: str, body: dict[str, Any]) -> Reply:
        return self._keep(self.http.post(path, json=body, headers=self._headers()))

    def log_in(self, email: str, password: str) -> Reply:
        reply = self.post("/api/login", {"email": email, "password": password})
        if reply.status == 200:
            self.token = json.loads(reply.body)["token"]
        return reply

    def _keep(self, response: httpx.Response) -> Reply:
        reply = Reply(response.status_code, response.content)
        self.replies.append(reply)
        return reply


def address(network: int, host: int) -> str:
    """Client addresses for the demo's actors, from ranges that GeoIP test databases use."""
    prefixes = ("81.2.69", "89.160.20", "175.16.199", "216.160.83", "2.125.160", "67.43.156")
    return f"{prefixes[network % len(prefixes)]}.{host % 250 + 2}"
