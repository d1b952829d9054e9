"""The blocklist the collector pushes to every agent in its 202 replies.

Policy (settings in :class:`BlockPolicy`): an actor is blocked on every instance of every service for
``seconds`` when

- an agent reports a ``blocked_actor`` decision (it blocked the actor itself, or had it on a deny list),
  except a block that came from this very push (reason ``collector:...``), so a push never renews itself;
- or agents on at least ``min_instances`` distinct instances report a high or critical behavioural event
  (``rate_anomaly``, ``credential_stuffing``, ``token_sharing``, ``enumeration``, ``scanner``) against it
  within ``seconds`` of each other.

What is blocked are the event's block keys, as the agent would block them: those it names
(``tracesec.behavior.blocked_keys`` in block mode), else the client IP for stuffing and scanners, the
credential for token sharing, and the user, IP or credential of the actor for the rest. Time is the
collector's clock when the batch arrived. Entries have the shape ``BehaviorEngine.apply_blocklist`` takes:
``{"kind": "ip"|"user"|"credential", "value": str, "seconds": float, "reason": str}``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tracesec.behavior.engine import BLOCKLIST_KINDS

NS = 1_000_000_000
PUSH_REASON = "collector"
MAX_PUSHED = 1000
"""Blocks sent per reply at most (those lasting longest)."""


@dataclass(frozen=True)
class BlockPolicy:
    seconds: float = 600.0
    min_instances: int = 2
    event_types: frozenset[str] = frozenset(
        {"rate_anomaly", "credential_stuffing", "token_sharing", "enumeration", "scanner"}
    )
    severities: frozenset[str] = frozenset({"high", "critical"})


def fold_block_decisions(
    conn: sqlite3.Connection,
    policy: BlockPolicy,
    instance: str,
    events: Iterable[Mapping[str, Any]],
    received_ns: int,
) -> bool:
    """Apply the policy to a batch's events inside the caller's transaction; True when a block was added
    or extended."""
    until = received_ns + int(policy.seconds * NS)
    changed = False
    for event in events:
        attributes = event["attributes"]
        if event["type"] == "blocked_actor":
            key, reason = (
                attributes.get("tracesec.behavior.blocked_key"),
                attributes.get("tracesec.behavior.block_reason"),
            )
            if type(key) is str and not str(reason).startswith(PUSH_REASON):
                changed |= _block(conn, key, until, f"{PUSH_REASON}:{reason}")
        elif event["type"] in policy.event_types and event["severity"] in policy.severities:
            for key in block_keys(event["type"], attributes):
                conn.execute(
                    "INSERT OR REPLACE INTO actor_flags VALUES (?, ?, ?, ?)",
                    (key, instance, event["type"], received_ns),
                )
                (instances,) = conn.execute(
                    "SELECT count(*) FROM actor_flags WHERE block_key = ? AND time_unix_nano > ?",
                    (key, received_ns - int(policy.seconds * NS)),
                ).fetchone()
                if instances >= policy.min_instances:
                    changed |= _block(conn, key, until, f"{PUSH_REASON}:{event['type']}")
    return changed


def block_keys(event_type: str, attributes: Mapping[str, Any]) -> list[str]:
    named = attributes.get("tracesec.behavior.blocked_keys")
    if type(named) is list:
        return [key for key in named if type(key) is str]
    address = attributes.get("client.address")
    credential = attributes.get("tracesec.credential.hash")
    kind, actor_id = attributes.get("tracesec.actor.kind"), attributes.get("tracesec.actor.id")
    if event_type in ("credential_stuffing", "scanner"):
        candidates = [f"ip:{address}" if address else None]
    elif event_type == "token_sharing":
        candidates = [f"credential:{credential}" if credential else None]
    else:
        own = f"{kind}:{actor_id}" if kind in ("user", "ip") and actor_id else None
        candidates = [own, f"credential:{credential}" if credential else None]
    return [key for key in candidates if key is not None]


def _block(conn: sqlite3.Connection, key: str, until_ns: int, reason: str) -> bool:
    if key.partition(":")[0] not in BLOCKLIST_KINDS:
        return False
    conn.execute(
        "INSERT INTO blocks VALUES (?, ?, ?) ON CONFLICT (block_key) DO UPDATE SET"
        " until_unix_nano = max(until_unix_nano, excluded.until_unix_nano), reason = excluded.reason",
        (key, until_ns, reason),
    )
    return True


def active_blocks(conn: sqlite3.Connection, now_ns: int) -> list[tuple[str, int, str]]:
    """(key, until, reason) of the blocks in force, longest-lasting first, at most MAX_PUSHED."""
    rows = conn.execute(
        "SELECT block_key, until_unix_nano, reason FROM blocks WHERE until_unix_nano > ?"
        " ORDER BY until_unix_nano DESC LIMIT ?",
        (now_ns, MAX_PUSHED),
    ).fetchall()
    return [(key, until, reason) for key, until, reason in rows]


class PushedBlocklist:
    """The blocks in force, in memory for the ingest replies; replaced whole by the writer after a commit
    that changed them (one attribute assignment: readers see the old or the new list, never half)."""

    def __init__(self) -> None:
        self._blocks: tuple[tuple[str, int, str], ...] = ()

    def replace(self, blocks: Iterable[tuple[str, int, str]]) -> None:
        self._blocks = tuple(blocks)

    def entries(self, now_ns: int) -> list[dict[str, Any]]:
        """Entries for a reply, each with the seconds it has left."""
        entries = []
        for key, until, reason in self._blocks:
            if until > now_ns:
                kind, _, value = key.partition(":")
                entries.append(
                    {"kind": kind, "value": value, "seconds": (until - now_ns) / NS, "reason": reason}
                )
        return entries
