"""scanner: a client IP sending a scanner's user agent, probing well-known sensitive paths, or causing a
burst of 404s within a window. Probes and 404s are counted on the request path (only failed or unrouted
requests get there); user agents are matched on the export worker."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tracesec.behavior.windowing import OncePerWindow
from tracesec.sketches import WindowedCountMin

if TYPE_CHECKING:
    from tracesec.behavior.actors import Actor
    from tracesec.behavior.report import Alerter
    from tracesec.behavior.settings import BehaviorSettings
    from tracesec.context import RequestContext

SCANNER_AGENTS = (
    "sqlmap", "nikto", "nmap", "masscan", "zgrab", "nuclei", "gobuster", "dirbuster", "dirb/", "wpscan",
    "acunetix", "nessus", "openvas", "w3af", "arachni", "skipfish", "fuzz faster u fool", "feroxbuster",
    "whatweb", "jaeles", "wfuzz", "hydra", "netsparker", "appscan", "commix", "xsstrike",
)  # fmt: skip
PROBE_PATHS = re.compile(
    r"/\.(?:env|git|svn|hg|aws|ssh|htaccess|htpasswd|ds_store|docker)|/wp-(?:admin|login|content|includes)"
    r"|/xmlrpc\.php|/phpmyadmin|/pma/|/etc/passwd|/server-status|/actuator|/cgi-bin/|/vendor/phpunit"
    r"|/boaform|/web\.config|/manager/html|/solr/admin|/hnap1|\.(?:php|asp|aspx|jsp|bak|sql|old|swp)$",
    re.IGNORECASE,
)
_AGENT_CACHE_LIMIT = 4096


class ScannerCheck:
    def __init__(self, settings: BehaviorSettings, alerter: Alerter, now: float) -> None:
        self.settings = settings
        self.alerter = alerter
        self.not_found = WindowedCountMin(settings.window_seconds, settings.sketch_width, now=now)
        self.probes = WindowedCountMin(settings.window_seconds, settings.sketch_width, now=now)
        self.agents = tuple(SCANNER_AGENTS) + tuple(agent.lower() for agent in settings.scanner_user_agents)
        self._agent_verdicts: dict[str, str | None] = {}
        self._reported = OncePerWindow()

    def roll(self, start: float) -> None:
        self.not_found.roll(start)
        self.probes.roll(start)
        self._reported.clear()

    def observe_failure(self, ctx: RequestContext, actor: Actor, now: float) -> None:
        """Request path, for a request that failed (4xx/5xx) or matched no route: probes and 404s."""
        status = ctx.status_code or 0
        ip = ctx.client_ip
        probes = self.probes.current.add(ip) if PROBE_PATHS.search(ctx.path) else 0
        not_found = self.not_found.current.add(ip) if status == 404 else 0
        if probes >= self.settings.scanner_probe_paths:
            figures: dict[str, object] = {"signal": "probe_paths", "probe_paths": probes}
            figures["threshold_probe_paths"] = self.settings.scanner_probe_paths
        elif not_found >= self.settings.scanner_not_found:
            figures = {"signal": "not_found", "not_found": not_found}
            figures["threshold_not_found"] = self.settings.scanner_not_found
        else:
            return
        figures["window_seconds"] = self.settings.window_seconds
        self._report(ctx, actor, figures, now)

    def observe_agent(self, ctx: RequestContext, actor: Actor, now: float) -> None:
        """Export worker, every request: a scanner's user agent (a few seconds' delay costs nothing here,
        and reading and matching the header would cost the request path a tenth of its budget)."""
        user_agent = ctx.headers.get("user-agent")
        if user_agent:
            tool = self._scanner_agent(user_agent)
            if tool is not None:
                self._report(ctx, actor, {"signal": "user_agent", "tool": tool}, now)

    def _report(self, ctx: RequestContext, actor: Actor, figures: dict[str, object], now: float) -> None:
        if self._reported.first(ctx.client_ip):
            self.alerter.alert(ctx, actor, "scanner", figures, (f"ip:{ctx.client_ip}",), now)

    def _scanner_agent(self, user_agent: str) -> str | None:
        try:
            return self._agent_verdicts[user_agent]
        except KeyError:
            lowered = user_agent.lower()
            verdict = next((agent for agent in self.agents if agent in lowered), None)
            if len(self._agent_verdicts) >= _AGENT_CACHE_LIMIT:
                self._agent_verdicts.clear()
            self._agent_verdicts[user_agent] = verdict
            return verdict
