"""Risk score of an endpoint, 0..100, with the reasons that make it up.

Additive and explained rather than learnt: an operator must be able to read why an endpoint ranks where
it does. Weights: what the endpoint exposes counts most, then who can reach it and how it is attacked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tracesec.discovery.auth import NO_AUTH
from tracesec.discovery.labels import HIGHLY_SENSITIVE

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_HIGHLY_SENSITIVE_RESPONSE = 35
_PERSONAL_RESPONSE = 20
_SENSITIVE_REQUEST = 10
_NO_AUTH = 25
_SOMETIMES_NO_AUTH = 15
_INTERNET_FACING = 10
_WRITE_METHOD = 10
_ATTACKS_BASE = 10
_ATTACKS_MAX = 25


def risk(record: Mapping[str, Any], recent_attack_count: int = 0) -> tuple[int, list[str]]:
    """(score 0..100, reasons) for one endpoint record; ``recent_attack_count`` is the number of attack
    or anomaly events the analysis service saw on it recently."""
    score = 0
    reasons: list[str] = []

    def add(points: int, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(f"{reason} (+{points})")

    returned = set(record["labels"]["response"])
    critical = sorted(returned & HIGHLY_SENSITIVE)
    personal = sorted(returned - HIGHLY_SENSITIVE)
    if critical:
        add(_HIGHLY_SENSITIVE_RESPONSE, f"returns highly sensitive data: {', '.join(critical)}")
    if personal:
        add(_PERSONAL_RESPONSE, f"returns personal data: {', '.join(personal)}")
    received = sorted(set(record["labels"]["request"]) & HIGHLY_SENSITIVE)
    if received:
        add(_SENSITIVE_REQUEST, f"receives sensitive data: {', '.join(received)}")

    auth = record["auth"]
    if auth.get(NO_AUTH):
        if len(auth) == 1:
            add(_NO_AUTH, "no authentication seen")
        else:
            add(_SOMETIMES_NO_AUTH, "some requests succeed without authentication")
    if record["clients"].get("public"):
        add(_INTERNET_FACING, "internet-facing: called from public addresses")
    if record["method"].upper() in WRITE_METHODS:
        add(_WRITE_METHOD, f"write method {record['method'].upper()}")
    if recent_attack_count > 0:
        points = min(_ATTACKS_MAX, _ATTACKS_BASE + round(5 * math.log10(recent_attack_count)))
        add(points, f"{recent_attack_count} recent attack or anomaly event(s)")
    return min(score, 100), reasons
