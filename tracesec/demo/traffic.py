"""The demo's traffic plan: normal users until the shop's behaviour checks have a baseline (one closed
window), then every attack with normal rounds in between. Bounded: a fixed number of requests and waits
of at most one window each."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tracesec.demo.attacks import BEHAVIOURS, INJECTIONS, Attack, Outcome, Target, play
from tracesec.demo.normal import NormalTraffic
from tracesec.demo.shop_server import WINDOW_SECONDS

ATTACK_ROOM_SECONDS = 4.0
"""A behavioural attack starts only with this much of the current window left, so that its burst is
judged within one window."""
_PAUSE_BETWEEN_ROUNDS = 0.6
_MAX_WARMUP_ROUNDS = 40

Say = Callable[[str], None]


def _seconds_left_in_window(now: float) -> float:
    return WINDOW_SECONDS - now % WINDOW_SECONDS


def run_traffic(
    shop_url: str, internal_url: str, say: Say, clock: Callable[[], float] = time.time
) -> list[Outcome]:
    """Play the whole plan against the shop at ``shop_url``; the outcome of every attack, in order."""
    with httpx.Client(base_url=shop_url, timeout=10.0) as http:
        normal = NormalTraffic(http)
        normal.log_in()
        # Behaviour folds a window into its baselines once the next one has closed: warm up over two.
        warmed_after = clock() + _seconds_left_in_window(clock()) + WINDOW_SECONDS + 0.5
        say(f"normal traffic: {len(normal.customers)} customers and {len(normal.partners)} partners")
        sent = 0
        while normal.rounds < _MAX_WARMUP_ROUNDS and (normal.rounds < 3 or clock() < warmed_after):
            sent += normal.round()
            time.sleep(_PAUSE_BETWEEN_ROUNDS)
        say(f"normal traffic: {sent} requests in {normal.rounds} rounds; the shop now knows what is usual")
        target = Target(http, internal_url)
        outcomes = []
        for event_type, (description, attack) in INJECTIONS.items():
            outcomes.append(_played(event_type, description, attack, target, say))
        for event_type, (description, attack) in BEHAVIOURS.items():
            left = _seconds_left_in_window(clock())
            if left < ATTACK_ROOM_SECONDS:
                time.sleep(left + 0.05)
            normal.round()
            outcomes.append(_played(event_type, description, attack, target, say))
        return outcomes


def _played(event_type: str, description: str, attack: Attack, target: Target, say: Say) -> Outcome:
    outcome = play(event_type, description, attack, target)
    refused = ", ".join(f"{count} x {reason}" for reason, count in sorted(outcome.refused.items()))
    say(f"attack {event_type}: {description}: {outcome.requests} requests, refused: {refused or 'none'}")
    return outcome
