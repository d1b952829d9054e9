"""Actors and the inline behavioural checks (rate_anomaly, token_sharing, enumeration, exfiltration,
credential_stuffing, scanner), with blocking of offending actors in block mode."""

from tracesec.behavior.actors import Actor, ActorResolver, jwt_subject
from tracesec.behavior.blocklist import Blocklist
from tracesec.behavior.engine import BehaviorEngine
from tracesec.behavior.report import report_event
from tracesec.behavior.settings import BehaviorSettings

__all__ = [
    "Actor",
    "ActorResolver",
    "BehaviorEngine",
    "BehaviorSettings",
    "Blocklist",
    "jwt_subject",
    "report_event",
]
