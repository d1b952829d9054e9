"""Who a request is attributed to, and that credentials only ever appear hashed."""

from __future__ import annotations

import base64
import json

from helpers import request

from tracesec.behavior import ActorResolver, BehaviorEngine, jwt_subject


def jwt(claims: dict[str, object]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"


def actor_of(**kwargs: object):  # type: ignore[no-untyped-def]
    ctx = request(**kwargs)  # type: ignore[arg-type]
    engine = BehaviorEngine()
    engine.on_request_start(ctx)
    engine.on_request_end(ctx)
    engine.on_record(ctx)  # as the export worker does before serialising the span
    return ctx.state["actor"], ctx.attributes


def test_set_user_wins_over_the_credential_and_the_span_says_so() -> None:
    actor, attributes = actor_of(user="alice", headers={"x-api-key": "sk_live_123"})
    assert (actor.kind, actor.id) == ("user", "alice")
    assert attributes["enduser.id"] == "alice"
    assert attributes["tracesec.credential.kind"] == "api_key"


def test_api_key_is_the_actor_and_only_its_hash_is_kept() -> None:
    actor, attributes = actor_of(headers={"x-api-key": "sk_live_123"})
    assert actor.kind == "api_key"
    assert "sk_live_123" not in repr(actor) + repr(attributes)
    assert attributes["tracesec.credential.hash"] == actor.credential_hash


def test_configured_api_key_header_names_are_used() -> None:
    resolver = ActorResolver(api_key_headers=("x-service-token",))
    assert resolver.resolve(request(headers={"x-service-token": "abc"})).kind == "api_key"
    assert resolver.resolve(request(headers={"x-api-key": "abc"})).kind == "ip"


def test_bearer_jwt_subject_names_the_actor_without_verification() -> None:
    token = jwt({"sub": "user-42", "exp": 1})
    actor, attributes = actor_of(headers={"authorization": f"Bearer {token}"})
    assert (actor.kind, actor.id) == ("jwt", "user-42")
    assert token not in repr(attributes)


def test_a_malformed_token_is_just_an_opaque_token() -> None:
    for token in ("not-a-jwt", "a.b.c", jwt({"no": "sub"}), "x." + "!!!" + ".y"):
        actor, _ = actor_of(headers={"authorization": f"Bearer {token}"})
        assert actor.kind == "token"
        assert actor.id == actor.credential_hash
    assert jwt_subject("a.b.c") is None


def test_basic_auth_user_and_session_cookie() -> None:
    basic = base64.b64encode(b"bob:secret").decode()
    actor, _ = actor_of(headers={"authorization": f"Basic {basic}"})
    assert (actor.kind, actor.id) == ("basic", "bob")
    actor, _ = actor_of(headers={"cookie": "theme=dark; sessionid=abc123"})
    assert actor.kind == "session"
    actor, _ = actor_of(headers={"cookie": "theme=dark"})
    assert (actor.kind, actor.id) == ("ip", "203.0.113.7")


def test_credential_hashes_agree_across_processes_sharing_the_key_only() -> None:
    first, second, other = ActorResolver(), ActorResolver(), ActorResolver(hash_key=b"another fleet")
    assert first.credential_hash("tok") == second.credential_hash("tok") != other.credential_hash("tok")
