"""token_sharing: one credential used from many client IPs within a window. Runs on the export worker
(a credential shared across IPs shows over minutes; a flush interval's delay changes nothing).

The common case (same credential, same IP as last time) is one dict lookup. When the IP changes, a count-min
of (credential, IP) says whether the pair is new, and only then does the credential's distinct-IP count go
up. Credentials seen from two IPs or more get a small HyperLogLog of their IPs (a bounded number of them),
shipped so the collector can count distinct IPs per credential across all processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracesec.behavior.windowing import OncePerWindow, Tumbling
from tracesec.sketches import HyperLogLog, WindowedCountMin

if TYPE_CHECKING:
    from tracesec.behavior.actors import Actor
    from tracesec.behavior.report import Alerter
    from tracesec.behavior.settings import BehaviorSettings
    from tracesec.context import RequestContext

TRACKED_HLL_PRECISION = 8
_LAST_IP_LIMIT = 16_384


class TokenSharingCheck:
    def __init__(self, settings: BehaviorSettings, alerter: Alerter, now: float) -> None:
        self.settings = settings
        self.alerter = alerter
        seconds = settings.token_sharing_window_seconds
        self.window = Tumbling(seconds, now)
        self.pairs = WindowedCountMin(seconds, settings.sketch_width, now=now)
        self.distinct_ips = WindowedCountMin(seconds, settings.sketch_width, now=now)
        self.tracked: dict[str, HyperLogLog] = {}
        self.closed: list[tuple[float, dict[str, HyperLogLog]]] = []
        """(window start, credential -> IPs) of windows closed since the last snapshot took them."""
        self._last_ip: dict[str, str] = {}
        self._reported = OncePerWindow()

    def roll(self, now: float) -> None:
        closing = self.window.start
        start = self.window.advance(now)
        if start is None:
            return
        if self.tracked:
            self.closed.append((closing, self.tracked))
            del self.closed[:-2]
        self.tracked = {}
        self.pairs.roll(start)
        self.distinct_ips.roll(start)
        self._last_ip.clear()
        self._reported.clear()

    def observe(self, ctx: RequestContext, actor: Actor, now: float) -> None:
        digest = actor.credential_hash
        if digest is None:
            return
        if now >= self.window.end:
            self.roll(now)
        ip = ctx.client_ip
        previous = self._last_ip.get(digest)
        if previous == ip:
            return
        if len(self._last_ip) >= _LAST_IP_LIMIT:
            self._last_ip.clear()
        self._last_ip[digest] = ip
        if self.pairs.current.add(f"{digest}\x1f{ip}") != 1:
            return
        distinct = self.distinct_ips.current.add(digest)
        if distinct >= 2:
            self._track(digest, previous, ip)
        if distinct >= self.settings.token_sharing_ips and self._reported.first(digest):
            figures = {
                "distinct_ips": distinct,
                "threshold_ips": self.settings.token_sharing_ips,
                "window_seconds": self.window.seconds,
            }
            self.alerter.alert(ctx, actor, "token_sharing", figures, (f"credential:{digest}",), now)

    def _track(self, digest: str, previous: str | None, ip: str) -> None:
        ips = self.tracked.get(digest)
        if ips is None:
            if len(self.tracked) >= self.settings.max_tracked_credentials:
                return
            ips = self.tracked[digest] = HyperLogLog(TRACKED_HLL_PRECISION)
        if previous is not None:
            ips.add(previous)
        ips.add(ip)
