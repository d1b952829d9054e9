"""A traffic simulator with labelled ground truth: normal users plus each attack behaviour.

``generate(...)`` yields ``SimRequest`` descriptions in time order (plain data: method, path, headers,
status, sizes, who sent it and which attack, if any), so the same scenarios can be replayed through the
behaviour engine directly (``replay``) or, later, through a real app server. ``evaluate`` scores the events
against the labels: precision per check and recall per attack scenario.
"""

from __future__ import annotations

import base64
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tracesec.behavior import BehaviorEngine
from tracesec.config import Config
from tracesec.context import EnvironHeaders, RequestContext
from tracesec.events import Blocked, SecurityEvent

START = 1_700_000_000.0
MINUTE = 60.0


@dataclass
class SimRequest:
    time: float
    method: str
    path: str
    route: str | None
    status: int
    response_bytes: int
    client_ip: str
    path_params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    """What the app passes to ``tracesec.set_user`` during the request, if anything."""
    body: bytes = b""
    attack: str | None = None
    """The scenario this request belongs to; None for normal traffic."""
    attacker: str | None = None
    """One attack instance (ground-truth unit for recall)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    expected: frozenset[str]
    """Event types that count as detecting this attack."""
    tolerated: frozenset[str]
    """Other event types that are still right about this traffic (a scraper is also a fast caller)."""
    build: Callable[[random.Random, str, float], list[SimRequest]]


def _jwt(subject: str, salt: str) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': subject, 'jti': salt})}.c2lnbmF0dXJl"


def _ip(rng: random.Random, prefix: int) -> str:
    return f"{prefix}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
ROUTES = (
    # (weight, method, route, path pattern, typical response bytes)
    (30, "GET", "/api/orders", "/api/orders", 12_000),
    (35, "GET", "/api/orders/{order_id}", "/api/orders/{}", 2_000),
    (8, "POST", "/api/charges", "/api/charges", 400),
    (15, "GET", "/api/profile", "/api/profile", 900),
    (2, "GET", "/api/reports/export", "/api/reports/export", 400_000),
    (10, "GET", "/api/products/{product_id}", "/api/products/{}", 3_000),
)


def _normal_user(rng: random.Random, index: int, duration: float) -> list[SimRequest]:
    """Sessions of a person: login, then browsing their own orders at a personal pace."""
    style = rng.choices(("jwt", "session", "api_key"), (6, 3, 1))[0]
    user = f"user-{index}"
    home = _ip(rng, 10 + index % 50)
    mobile = _ip(rng, 100 + index % 50) if rng.random() < 0.3 else None
    orders = [str(rng.randrange(1, 10**6)) for _ in range(rng.randint(3, 40))]
    pace = rng.lognormvariate(0, 0.5) * 12.0  # mean seconds between requests within a session
    requests: list[SimRequest] = []
    now = START + rng.uniform(0, 20 * MINUTE)
    while now < START + duration:
        ip = mobile if mobile and rng.random() < 0.4 else home
        headers = {"user-agent": BROWSER}
        token = f"{user}-{now:.0f}"
        if style == "jwt":
            headers["authorization"] = f"Bearer {_jwt(user, token)}"
        elif style == "session":
            headers["cookie"] = f"theme=dark; sessionid={token}"
        else:
            headers["x-api-key"] = f"key-{user}"
        failed = rng.random() < 0.05
        login_body = json.dumps({"username": user, "password": "x"}).encode()
        requests.append(
            SimRequest(
                now,
                "POST",
                "/login",
                "/login",
                401 if failed else 200,
                200,
                ip,
                body=login_body,
                headers={"user-agent": BROWSER, "content-type": "application/json"},
            )
        )
        if failed:
            now += rng.uniform(3, 15)
            requests.append(
                SimRequest(
                    now,
                    "POST",
                    "/login",
                    "/login",
                    200,
                    200,
                    ip,
                    body=login_body,
                    headers={"user-agent": BROWSER, "content-type": "application/json"},
                )
            )
        end = now + rng.uniform(3, 20) * MINUTE
        while now < end:
            now += rng.expovariate(1 / pace)
            route: str | None
            weight, method, route, pattern, size = rng.choices(ROUTES, [r[0] for r in ROUTES])[0]
            params = None
            path = pattern
            if "{}" in pattern:
                value = rng.choice(orders) if "order" in route else str(rng.randrange(1, 500))
                params = {route.split("{")[1].rstrip("}"): value}
                path = pattern.format(value)
            status = 200
            roll = rng.random()
            if roll < 0.01:
                status = 401  # an expired token now and then
            elif roll < 0.02:
                status, path, route, params = 404, "/api/ordres", None, None
            requests.append(
                SimRequest(
                    now,
                    method,
                    path,
                    route,
                    status,
                    max(60, int(rng.gauss(size, size / 4))),
                    ip,
                    params,
                    dict(headers),
                    user if style == "session" else None,
                )
            )
        now = end + rng.expovariate(1 / (25 * MINUTE))
    return requests


def _attack_requests(
    rng: random.Random,
    attacker: str,
    scenario: str,
    start: float,
    count: int,
    per_minute: float,
    make: Callable[[int], tuple[str, str, str | None, dict[str, str] | None, int, int]],
    ips: list[str],
    headers: Callable[[int], dict[str, str]],
    body: Callable[[int], bytes] = lambda i: b"",
) -> list[SimRequest]:
    """``count`` requests at about ``per_minute``, each shaped by ``make(i)``."""
    requests = []
    now = start
    for i in range(count):
        now += rng.expovariate(per_minute / MINUTE)
        method, path, route, params, status, size = make(i)
        requests.append(
            SimRequest(
                now,
                method,
                path,
                route,
                status,
                size,
                ips[i % len(ips)],
                params,
                headers(i),
                body=body(i),
                attack=scenario,
                attacker=attacker,
            )
        )
    return requests


def _bearer(attacker: str) -> Callable[[int], dict[str, str]]:
    token = _jwt(attacker, "attack")
    return lambda i: {"authorization": f"Bearer {token}", "user-agent": BROWSER}


def _card_testing(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    return _attack_requests(
        rng,
        attacker,
        "rate_anomaly",
        start,
        rng.randint(200, 400),
        rng.uniform(60, 150),
        lambda i: ("POST", "/api/charges", "/api/charges", None, 402 if rng.random() < 0.9 else 200, 300),
        [_ip(rng, 180)],
        _bearer(attacker),
    )


def _bola(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    first = rng.randrange(1, 10**6)
    return _attack_requests(
        rng,
        attacker,
        "enumeration",
        start,
        rng.randint(200, 400),
        rng.uniform(100, 200),
        lambda i: (
            "GET",
            f"/api/orders/{first + i}",
            "/api/orders/{order_id}",
            {"order_id": str(first + i)},
            200,
            rng.randint(1500, 2500),
        ),
        [_ip(rng, 181)],
        _bearer(attacker),
    )


def _bulk_export(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    return _attack_requests(
        rng,
        attacker,
        "exfiltration",
        start,
        rng.randint(2, 5),
        2.0,
        lambda i: ("GET", "/api/orders", "/api/orders", None, 200, rng.randint(5_000_000, 40_000_000)),
        [_ip(rng, 182)],
        _bearer(attacker),
    )


def _report_drain(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    return _attack_requests(
        rng,
        attacker,
        "exfiltration_total",
        start,
        rng.randint(60, 120),
        rng.uniform(40, 60),
        lambda i: (
            "GET",
            "/api/reports/export",
            "/api/reports/export",
            None,
            200,
            rng.randint(300_000, 500_000),
        ),
        [_ip(rng, 183)],
        _bearer(attacker),
    )


def _shared_token(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    ips = [_ip(rng, 184) for _ in range(rng.randint(8, 15))]
    key = f"shared-{attacker}"
    return _attack_requests(
        rng,
        attacker,
        "token_sharing",
        start,
        len(ips) * 4,
        rng.uniform(3, 8),
        lambda i: ("GET", "/api/profile", "/api/profile", None, 200, 900),
        ips,
        lambda i: {"x-api-key": key, "user-agent": BROWSER},
    )


def _login_body(i: int) -> bytes:
    return json.dumps({"username": f"victim{i}@example.com", "password": "hunter2"}).encode()


def _stuffing_one_ip(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    return _attack_requests(
        rng,
        attacker,
        "credential_stuffing",
        start,
        rng.randint(60, 150),
        rng.uniform(30, 90),
        lambda i: ("POST", "/login", "/login", None, 401 if rng.random() < 0.98 else 200, 120),
        [_ip(rng, 185)],
        lambda i: {"user-agent": BROWSER, "content-type": "application/json"},
        _login_body,
    )


def _stuffing_few_ips(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    ips = [_ip(rng, 186) for _ in range(3)]
    offset = rng.randrange(10**6)
    return _attack_requests(
        rng,
        attacker,
        "credential_stuffing_slow",
        start,
        rng.randint(40, 60),
        rng.uniform(8, 15),
        lambda i: ("POST", "/login", "/login", None, 401, 120),
        ips,
        lambda i: {"user-agent": BROWSER, "content-type": "application/json"},
        lambda i: _login_body(offset + i),
    )


_PROBES = (
    "/.env",
    "/.git/config",
    "/wp-login.php",
    "/phpmyadmin/",
    "/server-status",
    "/.aws/credentials",
    "/actuator/env",
    "/backup.sql",
    "/admin.php",
    "/cgi-bin/test.cgi",
    "/vendor/phpunit/x",
    "/etc/passwd",
)


def _probe_scanner(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    return _attack_requests(
        rng,
        attacker,
        "scanner",
        start,
        rng.randint(20, 60),
        rng.uniform(30, 120),
        lambda i: ("GET", rng.choice(_PROBES), None, None, 404, 150),
        [_ip(rng, 187)],
        lambda i: {"user-agent": BROWSER},
    )


def _tool_scanner(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    agent = rng.choice(
        (
            "sqlmap/1.7.2#stable (https://sqlmap.org)",
            "Mozilla/5.00 (Nikto/2.1.6)",
            "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
        )
    )
    return _attack_requests(
        rng,
        attacker,
        "scanner_tool",
        start,
        rng.randint(3, 20),
        rng.uniform(10, 60),
        lambda i: ("GET", "/api/products/1", "/api/products/{product_id}", {"product_id": "1"}, 200, 3000),
        [_ip(rng, 188)],
        lambda i: {"user-agent": agent},
    )


def _dir_bruteforce(rng: random.Random, attacker: str, start: float) -> list[SimRequest]:
    return _attack_requests(
        rng,
        attacker,
        "scanner_404",
        start,
        rng.randint(80, 200),
        rng.uniform(100, 300),
        lambda i: (
            "GET",
            f"/{rng.choice(('api', 'v1', 'v2', 'internal'))}/{rng.getrandbits(32):x}",
            None,
            None,
            404,
            150,
        ),
        [_ip(rng, 189)],
        lambda i: {"user-agent": BROWSER},
    )


def _scenario(name: str, build: Callable[..., list[SimRequest]], expected: str, *tolerated: str) -> Scenario:
    return Scenario(name, frozenset({expected}), frozenset(tolerated), build)


SCENARIOS = {
    s.name: s
    for s in (
        _scenario("rate_anomaly", _card_testing, "rate_anomaly"),
        _scenario("enumeration", _bola, "enumeration", "rate_anomaly", "exfiltration"),
        _scenario("exfiltration", _bulk_export, "exfiltration"),
        _scenario("exfiltration_total", _report_drain, "exfiltration", "rate_anomaly"),
        _scenario("token_sharing", _shared_token, "token_sharing"),
        _scenario("credential_stuffing", _stuffing_one_ip, "credential_stuffing", "rate_anomaly"),
        _scenario("credential_stuffing_slow", _stuffing_few_ips, "credential_stuffing", "rate_anomaly"),
        _scenario("scanner", _probe_scanner, "scanner"),
        _scenario("scanner_tool", _tool_scanner, "scanner"),
        _scenario("scanner_404", _dir_bruteforce, "scanner"),
    )
}


def generate(
    *,
    users: int = 300,
    duration: float = 120 * MINUTE,
    attacks: Iterable[str] = (),
    instances: int = 20,
    attacks_after: float = 40 * MINUTE,
    seed: int = 1,
) -> Iterator[SimRequest]:
    """Normal traffic of ``users`` people for ``duration`` seconds, plus ``instances`` runs of each named
    attack scenario starting at random times after ``attacks_after`` (once baselines are warm)."""
    rng = random.Random(seed)
    requests: list[SimRequest] = []
    for index in range(users):
        requests.extend(_normal_user(rng, index, duration))
    for name in attacks:
        scenario = SCENARIOS[name]
        for instance in range(instances):
            start = START + rng.uniform(attacks_after, duration - 10 * MINUTE)
            requests.extend(scenario.build(rng, f"{name}-{instance}", start))
    requests.sort(key=lambda r: r.time)
    return iter(requests)


def to_context(request: SimRequest, config: Config) -> RequestContext:
    """A RequestContext as the core would fill it for this request (before and after the app)."""
    environ = {_environ_key(name): value for name, value in request.headers.items()}
    ctx = RequestContext(
        config,
        "simulator",
        request.method,
        "http",
        "api.example",
        request.path,
        "",
        EnvironHeaders(environ),
        request.client_ip,
        40000,
    )
    if request.body:
        ctx.request_body = bytearray(request.body)
        ctx.request_body_size = len(request.body)
    return ctx


def _environ_key(header: str) -> str:
    key = header.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key


@dataclass
class Outcome:
    """Every event, with the request that raised it."""

    events: list[tuple[SecurityEvent, SimRequest]] = field(default_factory=list)
    attackers: dict[str, str] = field(default_factory=dict)
    """Attack instance -> scenario, for every instance that sent traffic."""
    requests: int = 0
    blocked: int = 0


FLUSH_INTERVAL = 5.0
"""How often the export worker runs (the agent's default flush interval)."""


def replay(engine: BehaviorEngine, requests: Iterable[SimRequest], clock: list[float]) -> Outcome:
    """Run each request through the engine's start and end hooks, advancing the injected clock; every
    FLUSH_INTERVAL seconds do what the export worker does: a snapshot (baselines are learnt from closed
    windows), then each request finished since through the record processor."""
    config = Config.load({})
    outcome = Outcome()
    finished: list[tuple[RequestContext, SimRequest]] = []
    next_flush = None
    for request in requests:
        if next_flush is None:
            next_flush = request.time + FLUSH_INTERVAL
        while request.time >= next_flush:
            clock[0] = next_flush
            _export(engine, finished, outcome)
            next_flush += FLUSH_INTERVAL
        clock[0] = request.time
        ctx = to_context(request, config)
        outcome.requests += 1
        if request.attacker is not None and request.attack is not None:
            outcome.attackers[request.attacker] = request.attack
        try:
            engine.on_request_start(ctx)
        except Blocked as decision:
            ctx.blocked = decision.event
            outcome.blocked += 1
        else:
            if request.user is not None:
                ctx.user = (request.user, {})
            ctx.route, ctx.path_params = request.route, request.path_params
            ctx.status_code, ctx.response_body_size = request.status, request.response_bytes
            engine.on_request_end(ctx)
        finished.append((ctx, request))
    if next_flush is not None:
        clock[0] = next_flush
        _export(engine, finished, outcome)
    return outcome


def _export(
    engine: BehaviorEngine, finished: list[tuple[RequestContext, SimRequest]], outcome: Outcome
) -> None:
    engine.snapshot()
    for ctx, request in finished:
        engine.on_record(ctx)
        outcome.events.extend((event, request) for event in ctx.events or ())
    finished.clear()


@dataclass
class Score:
    precision: dict[str, float]
    """Per event type: share of its events raised on attack traffic that the type is right about."""
    recall: dict[str, float]
    """Per scenario: share of attack instances detected by an expected event type."""
    false_positives: dict[str, int]


def evaluate(outcome: Outcome, scenarios: Iterable[str]) -> Score:
    correct: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    detected: set[str] = set()
    for event, request in outcome.events:
        if event.type == "blocked_actor":
            continue
        total[event.type] += 1
        scenario = SCENARIOS.get(request.attack or "")
        if scenario is not None and event.type in scenario.expected | scenario.tolerated:
            correct[event.type] += 1
            if event.type in scenario.expected and request.attacker is not None:
                detected.add(request.attacker)
    recall = {}
    for name in scenarios:
        instances = {attacker for attacker, scenario in outcome.attackers.items() if scenario == name}
        recall[name] = len(instances & detected) / len(instances) if instances else 0.0
    return Score(
        precision={kind: correct[kind] / total[kind] for kind in total},
        recall=recall,
        false_positives={kind: total[kind] - correct[kind] for kind in total},
    )
