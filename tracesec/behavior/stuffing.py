"""credential_stuffing: many failed authentications from one IP, or failures across many accounts from it.

A failure is a response whose status is among ``auth_failure_statuses``, or any 4xx/5xx from a login route.
The account tried is the failing credential's identity (basic-auth user, JWT subject, or the credential's
hash), or, on a login route, the user-name field of the form or JSON body (hashed; only failures are parsed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from tracesec.behavior.windowing import OncePerWindow, Tumbling
from tracesec.sketches import WindowedCountMin

if TYPE_CHECKING:
    from tracesec.behavior.actors import Actor
    from tracesec.behavior.report import Alerter
    from tracesec.behavior.settings import BehaviorSettings
    from tracesec.context import RequestContext

ACCOUNT_FIELDS = ("username", "email", "login", "user", "user_name", "account")
MAX_PARSED_BODY = 8192


class StuffingCheck:
    def __init__(
        self, settings: BehaviorSettings, alerter: Alerter, hash_secret: Callable[[str], str], now: float
    ) -> None:
        self.settings = settings
        self.alerter = alerter
        self.hash_secret = hash_secret
        seconds = settings.stuffing_window_seconds
        self.window = Tumbling(seconds, now)
        self.failures = WindowedCountMin(seconds, settings.sketch_width, now=now)
        self.seen = WindowedCountMin(seconds, settings.sketch_width, now=now)
        self.accounts = WindowedCountMin(seconds, settings.sketch_width, now=now)
        self._reported = OncePerWindow()

    def roll(self, now: float) -> None:
        start = self.window.advance(now)
        if start is None:
            return
        for sketch in (self.failures, self.seen, self.accounts):
            sketch.roll(start)
        self._reported.clear()

    def observe(self, ctx: RequestContext, actor: Actor, now: float) -> None:
        """A request that ended in an error status (the caller filters out the rest)."""
        status = ctx.status_code
        login_route = ctx.route in self.settings.login_routes or ctx.path in self.settings.login_routes
        if not login_route and status not in self.settings.auth_failure_statuses:
            return
        if now >= self.window.end:
            self.roll(now)
        ip = ctx.client_ip
        failures = self.failures.current.add(ip)
        accounts = 0
        account = self._account(ctx, actor, login_route)
        if account is not None and self.seen.current.add(f"{ip}\x1f{account}") == 1:
            accounts = self.accounts.current.add(ip)
        else:
            accounts = self.accounts.current.estimate(ip)
        if failures < self.settings.stuffing_failures and accounts < self.settings.stuffing_accounts:
            return
        if self._reported.first(ip):
            figures = {
                "failures": failures,
                "threshold_failures": self.settings.stuffing_failures,
                "distinct_accounts": accounts,
                "threshold_accounts": self.settings.stuffing_accounts,
                "window_seconds": self.window.seconds,
            }
            self.alerter.alert(ctx, actor, "credential_stuffing", figures, (f"ip:{ip}",), now)

    def _account(self, ctx: RequestContext, actor: Actor, login_route: bool) -> str | None:
        if actor.kind in ("basic", "jwt"):
            return actor.key
        if actor.credential_hash is not None:
            return actor.credential_hash
        if not login_route or not ctx.request_body:
            return None
        name = account_field(bytes(ctx.request_body[:MAX_PARSED_BODY]), ctx.headers.get("content-type"))
        return None if name is None else self.hash_secret(name.strip().lower())


def account_field(body: bytes, content_type: str | None) -> str | None:
    """The user name a login form or JSON body carries, if any."""
    fields: Any
    try:
        text = body.decode("utf-8")
        if "json" in (content_type or "").lower() or text.lstrip().startswith("{"):
            fields = json.loads(text)
        else:
            fields = dict(parse_qsl(text))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(fields, dict):
        return None
    for name in ACCOUNT_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None
