"""What the demo found, read back from the collector's HTTP API (as the dashboard reads it), and the text
``tracesec demo`` prints. A part whose endpoint the collector does not serve is reported as unavailable."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from tracesec.demo.attacks import Outcome

_MAX_EVENT_PAGES = 100
_ENDPOINT_ROWS = 12


class Unavailable(Exception):
    """The collector answers 404 for an endpoint of its API (an older collector)."""


def read_json(http: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    reply = http.get(path, params=params)
    if reply.status_code == 404:
        raise Unavailable(path)
    reply.raise_for_status()
    result: dict[str, Any] = reply.json()
    return result


def read_events(http: httpx.Client) -> list[dict[str, Any]]:
    """Every security event stored, following the cursor (bounded)."""
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(_MAX_EVENT_PAGES):
        page = read_json(http, "/v1/events", limit=1000, **({"cursor": cursor} if cursor else {}))
        events.extend(page["events"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return events


def endpoint_labels(endpoint: dict[str, Any]) -> list[str]:
    """Sensitive-data labels of an inventory endpoint, request and response side together."""
    return sorted({label for side in endpoint["labels"].values() for label in side})


def risk_score(endpoint: dict[str, Any]) -> int:
    """``GET /v1/apis`` gives ``risk`` as ``{"score": 0..100, "reasons": [...]}``."""
    return int(endpoint["risk"]["score"])


@dataclass(frozen=True)
class Findings:
    endpoints: list[dict[str, Any]] | None
    events: list[dict[str, Any]]
    incidents: list[dict[str, Any]] | None

    @property
    def detected(self) -> Counter[str]:
        return Counter(event["type"] for event in self.events)


def read_findings(collector_url: str, api_key: str | None = None) -> Findings:
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(base_url=collector_url, headers=headers, timeout=30.0) as http:
        events = read_events(http)
        try:
            endpoints: list[dict[str, Any]] | None = read_json(http, "/v1/apis")["apis"]
        except Unavailable:
            endpoints = None
        try:
            incidents: list[dict[str, Any]] | None = read_json(http, "/v1/incidents")["incidents"]
        except Unavailable:
            incidents = None
    return Findings(endpoints, events, incidents)


def format_summary(findings: Findings, outcomes: list[Outcome], dashboard_url: str) -> str:
    lines = ["", "tracesec demo: what the collector learnt", ""]
    lines += _endpoint_lines(findings.endpoints)
    lines += ["", "Attacks (events the agent reported; the attacker's requests it refused):"]
    detected = findings.detected
    for outcome in outcomes:
        refused = sum(outcome.refused.values())
        verdict = "MISSED" if not detected[outcome.event_type] else f"{refused}/{outcome.requests} refused"
        lines.append(
            f"  {outcome.event_type:<20} {detected[outcome.event_type]:>3} events  {verdict:<16} "
            f"{outcome.description}"
        )
    lines += ["", *_incident_lines(findings.incidents), "", f"Dashboard: {dashboard_url}"]
    return "\n".join(lines)


def _endpoint_lines(endpoints: list[dict[str, Any]] | None) -> list[str]:
    if endpoints is None:
        return ["API inventory: not available from this collector (GET /v1/apis answered 404)"]
    sensitive = [endpoint for endpoint in endpoints if endpoint_labels(endpoint)]
    lines = [f"APIs found: {len(endpoints)} endpoints, {len(sensitive)} handling sensitive data"]
    for endpoint in sorted(endpoints, key=risk_score, reverse=True)[:_ENDPOINT_ROWS]:
        name = f"{endpoint['method']} {endpoint['route']}"
        labels = ", ".join(endpoint_labels(endpoint)) or "-"
        lines.append(f"  risk {risk_score(endpoint):>3}  {name:<34} {labels}")
    return lines


def _incident_lines(incidents: list[dict[str, Any]] | None) -> list[str]:
    if incidents is None:
        return ["Incidents: not available from this collector (GET /v1/incidents answered 404)"]
    lines = [f"Incidents: {len(incidents)}"]
    for incident in incidents[:_ENDPOINT_ROWS]:
        blocked = "blocked" if incident["blocked"] else "not blocked"
        types = ", ".join(incident["types"])
        lines.append(f"  {incident['severity']:<8} {types} by {incident['subject']} ({blocked})")
    if len(incidents) > _ENDPOINT_ROWS:
        lines.append(f"  ... and {len(incidents) - _ENDPOINT_ROWS} more on the dashboard")
    return lines
