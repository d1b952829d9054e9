"""The protection product's sink checks: one subscriber per sink kind on the hook bus.

Each check exits as early as it can: no request, no input, or no input inside the sink argument, and it
returns after a few substring tests. Only an input found in the argument reaches a detector. The one
check that runs without a request is the cloud metadata endpoint, which no app should reach by accident.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from tracesec.protect.addresses import is_metadata_address, parse_host_address
from tracesec.protect.hosts import Target, authority_bounds, canonical_host, input_targets, url_targets
from tracesec.protect.inputs import NO_INPUTS, UserInputs, extract_inputs
from tracesec.protect.path import OS_READING, detect_path_traversal, path_needles
from tracesec.protect.ratelimit import EventLimiter
from tracesec.protect.shell import detect_shell_injection, shell_command_from_argv
from tracesec.protect.sqli import detect_sql_injection
from tracesec.protect.ssrf import could_be_address, detect_ssrf
from tracesec.protect.verdict import Emit, Finding, Verdict

if TYPE_CHECKING:
    from tracesec.config import Config
    from tracesec.context import RequestContext
    from tracesec.hooks import Hooks

INPUTS_KEY = "protect.inputs"
PATH_FORMS_KEY = "protect.path_forms"
INPUT_TARGETS_KEY = "protect.input_targets"
NAMING_KEY = "protect.naming"
SSRF_REPORTED_KEY = "protect.ssrf_reported"
METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
"""Names cloud SDKs use for the metadata service: reaching it by these is reported, never blocked."""
_PROCESS_APIS = {"subprocess": "subprocess.Popen"}
NAME_ONLY_OPERATIONS = frozenset({"os.path.realpath"})
"""Path functions that compute a name and open nothing: the safe pattern resolves the user's path first
and checks it stays in its folder, so these are not sinks."""
_PATH_CHARACTERS = frozenset("./\\~%:\x00\uff0e\uff0f\uff3c\u2215")


class Naming(NamedTuple):
    """What the request's inputs could make an outbound call reach, for the pre-filter: their texts
    case-folded (a context-free map, unlike lower(), so a substring stays one) with the host names they
    name (canonical, so lower case), the longest text's length, and whether any input names an address."""

    needles: tuple[str, ...]
    longest: int
    addresses: bool


class Protection:
    """Subscribes the four sink checks and turns their findings into verdicts."""

    def __init__(self, config: Config, emit: Emit) -> None:
        self.limiter = EventLimiter(config.protect_events_per_minute)
        self.verdict = Verdict(block=config.mode == "block", limiter=self.limiter, emit=emit)
        self.max_inputs = config.protect_max_inputs
        self.allow_routes = config.protect_allow_routes
        self.allow_inputs = config.protect_allow_inputs
        self.allow_hosts = allowed_targets(config.protect_allow_hosts)
        self.proxy_hosts = proxy_hosts()

    def subscribe(self, hooks: Hooks) -> None:
        hooks.add_sink_check("sql", self.check_sql)
        hooks.add_sink_check("shell", self.check_shell)
        hooks.add_sink_check("path", self.check_path)
        hooks.add_sink_check("outbound", self.check_outbound)

    def after_fork_in_child(self) -> None:
        self.limiter.after_fork_in_child()

    # -- inputs ---------------------------------------------------------------------------------------

    def inputs(self, ctx: RequestContext) -> UserInputs:
        """The request's inputs, extracted on the first sink check that needs them and kept for the rest."""
        found: UserInputs | None = ctx.state.get(INPUTS_KEY)
        if found is None:
            found = (
                NO_INPUTS
                if self.route_allowed(ctx)
                else extract_inputs(ctx, self.max_inputs, self.allow_inputs)
            )
            ctx.state[INPUTS_KEY] = found
        return found

    def route_allowed(self, ctx: RequestContext) -> bool:
        """An allow-listed route (template or path; a trailing ``*`` matches a prefix) is never checked."""
        for pattern in self.allow_routes:
            if pattern.endswith("*"):
                prefix = pattern[:-1]
                if ctx.path.startswith(prefix) or (ctx.route or "").startswith(prefix):
                    return True
            elif pattern in (ctx.route, ctx.path):
                return True
        return False

    # -- the four sinks -------------------------------------------------------------------------------

    def check_sql(
        self, ctx: RequestContext | None, kind: str, query: str, details: Mapping[str, Any]
    ) -> None:
        if ctx is None:
            return
        inputs: UserInputs = ctx.state.get(INPUTS_KEY) or self.inputs(ctx)
        if not holds_any(query, inputs.structural_values):
            return
        dialect = details.get("dialect", "generic")
        for path, value in inputs.structural:
            if value in query and detect_sql_injection(query, value, dialect):
                system = details.get("system", "sql")
                sink = details.get("sink") or f"{system}.execute"
                attributes = {"db.system": system}
                finding = Finding("sql_injection", kind, sink, query, path, value, attributes=attributes)
                self.verdict.report(ctx, finding)
                return

    def check_shell(
        self, ctx: RequestContext | None, kind: str, command: str, details: Mapping[str, Any]
    ) -> None:
        if ctx is None:
            return
        if not details.get("shell"):
            argv = details.get("argv")
            shell_command = shell_command_from_argv(argv) if argv else None
            if shell_command is None:
                return
            command = shell_command
        inputs: UserInputs = ctx.state.get(INPUTS_KEY) or self.inputs(ctx)
        if not holds_any(command, inputs.structural_values):
            return
        for path, value in inputs.structural:
            if value in command and detect_shell_injection(command, value):
                api = str(details.get("api", "subprocess"))
                finding = Finding("shell_injection", kind, _PROCESS_APIS.get(api, api), command, path, value)
                self.verdict.report(ctx, finding)
                return

    def check_path(
        self, ctx: RequestContext | None, kind: str, path: str, details: Mapping[str, Any]
    ) -> None:
        if ctx is None or details.get("operation") in NAME_ONLY_OPERATIONS:
            return
        candidates = self._path_forms(ctx)
        if not candidates:
            return
        normal_path = OS_READING.normal(path) if OS_READING.needs_normalising(path) else path
        for input_path, value, forms in candidates:
            found = holds_any(path, forms) or (normal_path is not path and holds_any(normal_path, forms))
            if found and detect_path_traversal(path, value):
                operation = str(details.get("operation", "open"))
                finding = Finding("path_traversal", kind, operation, path, input_path, value, severity="high")
                self.verdict.report(ctx, finding)
                return

    def _path_forms(self, ctx: RequestContext) -> list[tuple[str, str, tuple[str, ...]]]:
        """Inputs that could name a path (a dot, slash, backslash, tilde, colon, percent, NUL or their
        full-width look-alikes), each with the forms it decodes to and their normal forms, computed once
        per request."""
        forms: list[tuple[str, str, tuple[str, ...]]] | None = ctx.state.get(PATH_FORMS_KEY)
        if forms is None:
            forms = [
                (path, value, tuple(path_needles(value)))
                for path, value in self.inputs(ctx).structural
                if not _PATH_CHARACTERS.isdisjoint(value)
            ]
            ctx.state[PATH_FORMS_KEY] = forms
        return forms

    def check_outbound(
        self, ctx: RequestContext | None, kind: str, target: str, details: Mapping[str, Any]
    ) -> None:
        """At the request phase ``target`` is the URL; at the connect phase it is the host being resolved,
        with the addresses the socket will use and the URL of the client call in progress."""
        if details.get("phase") == "connect":
            self._check_connect(ctx, kind, target, details)
        elif ctx is not None:
            self._check_request_url(ctx, kind, target, details.get("sink") or "http client request")

    def _check_request_url(self, ctx: RequestContext, kind: str, url: str, client: str) -> None:
        begin, end = authority_bounds(url)
        if not self._may_be_named(ctx, url, begin, end):
            return
        targets = url_targets(url)
        if self._allowed(targets):
            return
        for path, value in self._ssrf_candidates(ctx, url, targets):
            if detect_ssrf(url, value):
                self._report_ssrf(ctx, kind, client, url, path, value, "internal_host", {})
                return

    def _check_connect(
        self, ctx: RequestContext | None, kind: str, host: str, details: Mapping[str, Any]
    ) -> None:
        """The host is parsed only when an input may name it or the call's URL, or an allow-list applies;
        the metadata check runs on every connection."""
        addresses: list[str] = list(details.get("addresses") or ())
        call_url: str | None = details.get("call_url")
        named = ctx is not None and self._connection_may_be_named(ctx, host, call_url)
        if named or self.allow_hosts:
            port = details.get("port")
            connection = Target(canonical_host(host), port if isinstance(port, int) else None)
            if self._allowed((connection,)):
                return
            if named and ctx is not None and not self._through_proxy(host, call_url):
                self._check_connection(ctx, kind, host, connection, addresses, call_url)
        if any(is_metadata_address(address) for address in addresses):
            self._report_metadata(ctx, kind, host, addresses, call_url)

    def _check_connection(
        self,
        ctx: RequestContext,
        kind: str,
        host: str,
        connection: Target,
        addresses: list[str],
        call_url: str | None,
    ) -> None:
        """The call's URL is judged with the addresses its connection resolved to (an input choosing a
        host that resolves, or redirects, inside), and the connection as a URL of its own (an input naming
        this host and port, wherever the call started)."""
        connection_url = host_url(host, connection.port)
        # Without a client call (a raw socket), an input may also be part of the host name as text.
        connected = (
            self._ssrf_candidates(ctx, host, (connection,))
            if call_url is None
            else self._inputs_naming(ctx, (connection,))
        )
        judged = [(connection_url, connected)]
        redirected = False
        if call_url is not None:
            call_targets = url_targets(call_url)
            redirected = all(target.host != connection.host for target in call_targets)
            judged.insert(0, (call_url, self._ssrf_candidates(ctx, call_url, call_targets)))
        for url, candidates in judged:
            for path, value in candidates:
                if detect_ssrf(url, value, addresses):
                    reason = "redirect" if redirected else "resolved_address"
                    extra = {"server.address": host, "tracesec.ssrf.addresses": addresses[:8]}
                    self._report_ssrf(ctx, kind, "socket.getaddrinfo", url, path, value, reason, extra)
                    return

    def _connection_may_be_named(self, ctx: RequestContext, host: str, call_url: str | None) -> bool:
        """The pre-filter for both things a connection is judged by: its own host and the call's URL."""
        authority = host_authority(host)
        if self._may_be_named(ctx, authority, 0, len(authority)):
            return True
        if call_url is None:
            return False
        begin, end = authority_bounds(call_url)
        return self._may_be_named(ctx, call_url, begin, end)

    def _may_be_named(self, ctx: RequestContext, text: str, begin: int, end: int) -> bool:
        """The outbound pre-filter: False proves, without parsing, that no input of the request names
        the host held in ``text[begin:end]`` (a URL's authority, or a connection's host): no input is found
        as text within reach of it, and none names it once a client rewrote it (case, IDNA, IP spelling),
        which takes the host in plain ASCII holding an input's canonical name, or able to be an address."""
        naming: Naming = ctx.state.get(NAMING_KEY) or self._naming(ctx)
        if not naming.needles or begin == end:
            return False
        authority = text[begin:end]
        if not authority.isascii() or "%" in authority:
            return True
        window = text[max(begin - naming.longest + 1, 0) : end + naming.longest - 1].casefold()
        if holds_any(window, naming.needles):
            return True
        return naming.addresses and may_hold_address(authority.lower())

    def _naming(self, ctx: RequestContext) -> Naming:
        """What the request's inputs could name, computed once per request on its first outbound check."""
        naming: Naming | None = ctx.state.get(NAMING_KEY)
        if naming is None:
            values = [value for _, value in self.inputs(ctx).all]
            hosts = self._input_targets(ctx)
            names = [host for host in hosts if parse_host_address(host) is None]
            needles = tuple(dict.fromkeys([value.casefold() for value in values] + names))
            longest = max(map(len, values), default=0)
            naming = Naming(needles, longest, len(names) < len(hosts))
            ctx.state[NAMING_KEY] = naming
        return naming

    def _ssrf_candidates(
        self, ctx: RequestContext, text: str, targets: tuple[Target, ...]
    ) -> dict[tuple[str, str], None]:
        """Inputs that may have chosen the host of a URL: naming one of its ``targets``, or found as text in
        ``text`` (the URL, or the bare host of a connection), each once."""
        found = self._inputs_naming(ctx, targets)
        for pair in self.inputs(ctx).all:
            if pair[1] in text:
                found[pair] = None
        return found

    def _inputs_naming(self, ctx: RequestContext, targets: tuple[Target, ...]) -> dict[tuple[str, str], None]:
        """Inputs that name the host of one of ``targets`` (their ports are compared by the detector)."""
        by_host = self._input_targets(ctx)
        found: dict[tuple[str, str], None] = {}
        for target in targets:
            named = by_host.get(target.host)
            if named:
                found.update(dict.fromkeys(named))
        return found

    def _input_targets(self, ctx: RequestContext) -> dict[str, list[tuple[str, str]]]:
        """The request's inputs by the canonical host each names (as a URL or a bare host), built once per
        request on its first outbound check."""
        by_host: dict[str, list[tuple[str, str]]] | None = ctx.state.get(INPUT_TARGETS_KEY)
        if by_host is None:
            by_host = {}
            for path, value in self.inputs(ctx).all:
                for target in input_targets(value):
                    by_host.setdefault(target.host, []).append((path, value))
            ctx.state[INPUT_TARGETS_KEY] = by_host
        return by_host

    def _report_ssrf(
        self,
        ctx: RequestContext,
        kind: str,
        sink: str,
        url: str,
        input_path: str,
        value: str,
        reason: str,
        extra: dict[str, Any],
    ) -> None:
        """Once per input and client call: monitor mode lets the call go on to its connect phase, which
        would find the same thing again."""
        reported: set[tuple[str, str]] = ctx.state.setdefault(SSRF_REPORTED_KEY, set())
        if (input_path, url) in reported:
            return
        reported.add((input_path, url))
        attributes = {"tracesec.ssrf.reason": reason, **extra}
        finding = Finding("ssrf", kind, sink, url, input_path, value, severity="high", attributes=attributes)
        self.verdict.report(ctx, finding)

    def _report_metadata(
        self, ctx: RequestContext | None, kind: str, host: str, addresses: list[str], call_url: str | None
    ) -> None:
        """A cloud metadata endpoint, whatever the input. Reached by its address or its documented name, it
        is what cloud SDKs do: reported, not blocked. Reached through any other name, a DNS answer pointed
        there (stored or rebinding SSRF): blocked in block mode."""
        name = host.lower().rstrip(".")
        direct = parse_host_address(name) is not None or name in METADATA_NAMES
        finding = Finding(
            "ssrf",
            kind,
            "socket.getaddrinfo",
            call_url or host,
            severity="medium" if direct else "high",
            blockable=not direct,
            attributes={
                "tracesec.ssrf.reason": "metadata_endpoint" if direct else "metadata_via_dns",
                "server.address": host,
                "tracesec.ssrf.addresses": addresses[:8],
            },
        )
        self.verdict.report(ctx, finding)

    def _allowed(self, targets: tuple[Target, ...]) -> bool:
        """Every reading of the target is allow-listed, by host alone or by host and port."""
        return (
            bool(self.allow_hosts)
            and bool(targets)
            and all(t in self.allow_hosts or Target(t.host, None) in self.allow_hosts for t in targets)
        )

    def _through_proxy(self, host: str, call_url: str | None) -> bool:
        """The client connects to its proxy, not to the URL's host: the URL was judged at the request
        phase, and the proxy is no target of the user's."""
        return call_url is not None and host.lower() in self.proxy_hosts


def holds_any(text: str, values: tuple[str, ...]) -> bool:
    """The common-path test of every check: is any input in the argument at all (a bare loop: the
    cheapest form in CPython)."""
    for value in values:  # noqa: SIM110  (any() over a generator costs twice as much here)
        if value in text:
            return True
    return False


def may_hold_address(authority: str) -> bool:
    """Whether a reading of the host in ``authority`` (lower case, plain ASCII) could be an IP address:
    an IPv6 literal, or a piece between user info ('@', or a backslash for WHATWG parsers) and the port's
    ':' that a resolver might read as one."""
    if "[" in authority:
        return True
    if "@" not in authority and "\\" not in authority:
        return could_be_address(authority.partition(":")[0])
    for piece in authority.replace("\\", "@").split("@"):
        host = piece.partition(":")[0]
        if host and could_be_address(host):
            return True
    return False


def host_authority(host: str) -> str:
    """A connection's host as a URL authority (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


def host_url(host: str, port: int | None) -> str:
    """A connection's host and port as a URL, so the SSRF detector can read it."""
    authority = host_authority(host)
    return f"//{authority}:{port}/" if port is not None else f"//{authority}/"


def allowed_targets(entries: frozenset[str]) -> frozenset[Target]:
    """``protect_allow_hosts`` entries (``internal-api``, ``127.0.0.1:8080``, ``[::1]:8080``, ``::1``) as
    targets; an entry without a port allows every port of its host."""
    targets = set()
    for entry in entries:
        bare_ipv6 = entry.count(":") > 1 and not entry.startswith("[")
        targets.update(input_targets(f"[{entry}]" if bare_ipv6 else entry))
    return frozenset(targets)


def proxy_hosts() -> frozenset[str]:
    """Hosts of the proxies configured in the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY ...)."""
    hosts = set()
    for url in urllib.request.getproxies().values():
        try:
            hostname = urlsplit(url if "://" in url else f"//{url}").hostname
        except ValueError:
            continue
        if hostname:
            hosts.add(hostname.lower())
    return frozenset(hosts)
