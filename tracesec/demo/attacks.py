"""The attacks the demo plays, one per event type tracesec reports. Each comes from its own client
address, so blocking one attacker never touches another or the normal users. Every payload is harmless
even where nothing stopped it (it reads the attacker's own answer; the SSRF target is loopback only)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tracesec.demo.seed import customer_email, customer_password
from tracesec.demo.shop import PARTNER_KEYS
from tracesec.demo.visitors import BROWSER, PARTNER_AGENT, Reply, Visitor, address

_PERSIST_TRIES = 25
_PERSIST_PAUSE = 0.2


@dataclass(frozen=True)
class Target:
    http: httpx.Client
    internal_url: str
    """An address inside the shop's network for the SSRF attempt (the demo's collector on loopback)."""


@dataclass(frozen=True)
class Outcome:
    event_type: str
    description: str
    requests: int
    refused: Counter[str]
    """403 answers by the contract's ``reason`` (the event type, or ``blocked_actor`` once an attacker
    was blocked)."""


Attack = Callable[[Target], Visitor]


def _attacker(target: Target, host: int, user_agent: str = BROWSER) -> Visitor:
    return Visitor(target.http, address(5, host), user_agent=user_agent)


def _keep_going(attempt: Callable[[], Reply]) -> None:
    """An attacker does not stop by itself: repeat its request (for at most about 5 s) until tracesec
    refuses it. Checks that run on the agent's export worker (not the request thread) block a little
    after the request that gave the attacker away."""
    for _ in range(_PERSIST_TRIES):
        if attempt().blocked_reason is not None:
            return
        time.sleep(_PERSIST_PAUSE)


def _customer(target: Target, customer_id: int, host: int) -> Visitor:
    visitor = _attacker(target, host)
    visitor.log_in(customer_email(customer_id), customer_password(customer_id))
    return visitor


def sql_injection(target: Target) -> Visitor:
    visitor = _attacker(target, 10)
    visitor.get("/api/search", q="' UNION SELECT email, card_number, 0 FROM customers --")
    visitor.get("/api/search", q="x' OR '1'='1")
    return visitor


def shell_injection(target: Target) -> Visitor:
    visitor = _customer(target, 20, 20)
    visitor.get("/api/receipt", order="1001; cat /etc/hostname")
    visitor.get("/api/receipt", order="$(id)")
    return visitor


def path_traversal(target: Target) -> Visitor:
    visitor = _customer(target, 30, 30)
    visitor.get("/api/invoices/download", file="../../../../../../etc/passwd")
    return visitor


def ssrf(target: Target) -> Visitor:
    visitor = _customer(target, 40, 40)
    visitor.get("/api/preview", url=target.internal_url)
    return visitor


def rate_anomaly(target: Target) -> Visitor:
    """A logged-in bot hammering the catalogue: 150 calls in a burst."""
    visitor = _customer(target, 50, 50)
    for page in range(150):
        visitor.get("/api/products", limit=10 + page % 5)
    _keep_going(lambda: visitor.get("/api/products", limit=10))
    return visitor


def token_sharing(target: Target) -> Visitor:
    """One customer's token replayed from twelve addresses."""
    owner = _customer(target, 60, 60)
    thieves = [
        Visitor(target.http, address(host, host), token=owner.token, replies=owner.replies)
        for host in range(61, 73)
    ]
    for thief in thieves:
        thief.get("/api/me")
    _keep_going(lambda: thieves[-1].get("/api/me"))
    return owner


def enumeration(target: Target) -> Visitor:
    """A customer walking other people's orders by id (broken object-level authorisation)."""
    visitor = _customer(target, 70, 70)
    for order in range(1001, 1061):
        visitor.get(f"/api/orders/{order}")
    _keep_going(lambda: visitor.get("/api/orders/1061"))
    return visitor


def exfiltration(target: Target) -> Visitor:
    """A leaked partner key pulling the whole customer list, again and again."""
    visitor = Visitor(target.http, address(5, 80), user_agent=PARTNER_AGENT, api_key=PARTNER_KEYS[-1])
    for _ in range(5):
        visitor.get("/api/partner/customers", limit=1000)
    _keep_going(lambda: visitor.get("/api/partner/customers", limit=1000))
    return visitor


def credential_stuffing(target: Target) -> Visitor:
    """Leaked e-mail/password pairs tried one after the other from one address."""
    visitor = _attacker(target, 90)
    for customer in range(100, 130):
        visitor.log_in(customer_email(customer), f"Summer2024!{customer}")
    _keep_going(lambda: visitor.log_in(customer_email(130), "Summer2024!"))
    return visitor


def scanner(target: Target) -> Visitor:
    visitor = _attacker(target, 100, user_agent="sqlmap/1.8.4#stable (https://sqlmap.org)")
    for path in ("/.env", "/.git/config", "/wp-login.php", "/phpmyadmin/"):
        visitor.get(path)
    _keep_going(lambda: visitor.get("/api/search", q="1' AND SLEEP(5)--"))
    return visitor


INJECTIONS: dict[str, tuple[str, Attack]] = {
    "sql_injection": ("SQL injection in the product search", sql_injection),
    "shell_injection": ("shell command injection in the receipt printer", shell_injection),
    "path_traversal": ("path traversal in the invoice download", path_traversal),
    "ssrf": ("SSRF to an internal address through the link preview", ssrf),
}
BEHAVIOURS: dict[str, tuple[str, Attack]] = {
    "rate_anomaly": ("rate spike: 150 catalogue calls in a burst", rate_anomaly),
    "token_sharing": ("one token used from 12 addresses", token_sharing),
    "enumeration": ("walking 60 other customers' orders by id", enumeration),
    "exfiltration": ("a leaked partner key pulling every customer", exfiltration),
    "credential_stuffing": ("30 leaked passwords tried from one address", credential_stuffing),
    "scanner": ("sqlmap probing for secrets", scanner),
}
"""Behavioural attacks: each needs the shop's behaviour window to itself (see traffic.py)."""


def play(event_type: str, description: str, attack: Attack, target: Target) -> Outcome:
    visitor = attack(target)
    refused = Counter(reason for reply in visitor.replies if (reason := reply.blocked_reason) is not None)
    return Outcome(event_type, description, len(visitor.replies), refused)
