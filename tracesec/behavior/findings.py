"""What the per-route checks share: a finding about an actor on a route, reported once per window when one
of its window totals reaches the route's threshold."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from tracesec.behavior.windowing import OncePerWindow

if TYPE_CHECKING:
    from tracesec.behavior.actors import Actor
    from tracesec.behavior.report import Alerter
    from tracesec.behavior.routes import RouteState, Totals
    from tracesec.behavior.settings import BehaviorSettings
    from tracesec.context import RequestContext


class RouteFinding(ABC):
    event_type: ClassVar[str]

    def __init__(self, settings: BehaviorSettings, alerter: Alerter) -> None:
        self.settings = settings
        self.alerter = alerter
        self._reported = OncePerWindow()

    def roll(self) -> None:
        self._reported.clear()

    def exceeded(
        self, ctx: RequestContext, actor: Actor, state: RouteState, totals: Totals, size: int, now: float
    ) -> None:
        """The actor's ``totals`` (after this request, whose response had ``size`` bytes) reached a limit.
        Its window, and the one before (where the burst may have begun), teach the route no baseline."""
        totals.tripped = True
        before = state.previous.get(actor.key)
        if before is not None:
            before.tripped = True
        if self._reported.first((actor.key, state.name)):
            figures = self.figures(state, totals, size)
            self.alerter.alert(ctx, actor, self.event_type, figures, actor.block_keys, now)

    @abstractmethod
    def figures(self, state: RouteState, totals: Totals, size: int) -> dict[str, Any]:
        """What was observed, against which threshold, and what is usual on the route."""
