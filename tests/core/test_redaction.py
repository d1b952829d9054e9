"""Secrets never leave the process: what redaction replaces, and what it must leave alone."""

from __future__ import annotations

import json

import pytest

from tracesec.redaction import (
    REDACTED,
    is_sensitive_name,
    redact_header,
    redact_json_body,
    redact_query,
    redact_text,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEiLCJpYXQiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    "secret",
    [
        JWT,
        "Bearer abcdefghijklmnop0123",
        "AKIAIOSFODNN7EXAMPLE",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "4111 1111 1111 1111",
        "5500-0000-0000-0004",
    ],
)
def test_secret_shaped_values_are_replaced_wherever_they_appear(secret: str) -> None:
    text = f"note: {secret} (sent twice: {secret})"
    redacted = redact_text(text)
    assert secret not in redacted
    assert redacted.count(REDACTED) == 2
    assert redact_text(text) == redacted  # the bounded cache gives the same answer


@pytest.mark.parametrize(
    "harmless",
    ["order 4111 1111 1111 1112 (not Luhn-valid)", "id 1234567890123", "version 1.2.3", "Mozilla/5.0 (X11)"],
)
def test_ordinary_values_are_left_alone(harmless: str) -> None:
    assert redact_text(harmless) == harmless


def test_sensitive_names_and_extra_names() -> None:
    sensitive = ["password", "new_password", "api_key", "X-Api-Key", "access_token", "cvv", "ssn"]
    for name in [*sensitive, "sessionid"]:
        assert is_sensitive_name(name), name
    for name in ("name", "email", "author", "description", "limit"):
        assert not is_sensitive_name(name), name
    assert is_sensitive_name("nickname", frozenset({"nickname"}))


def test_headers_queries_and_json_bodies() -> None:
    assert redact_header("authorization", "Basic YWRhOmxvdmVsYWNl") == REDACTED
    assert redact_header("cookie", "sessionid=abc") == REDACTED
    assert redact_header("accept", "application/json") == "application/json"
    query = redact_query("q=shoes&password=hunter2&token=t0k3n")
    assert query == "q=shoes&password=%5BREDACTED%5D&token=%5BREDACTED%5D"
    body = {"user": {"name": "Ada", "password": "hunter2", "cards": [{"number": "4111111111111111"}]}}
    shaped = json.loads(redact_json_body(json.dumps(body)))
    assert shaped == {"user": {"name": "Ada", "password": REDACTED, "cards": [{"number": REDACTED}]}}


def test_bodies_that_cannot_be_parsed_are_still_redacted() -> None:
    truncated = '{"user": "ada", "password": "hunter2", "note": "cut here'
    assert "hunter2" not in redact_json_body(truncated)
    deep = "[" * 10_000 + '"' + JWT + '"' + "]" * 10_000
    assert JWT not in redact_json_body(deep)
