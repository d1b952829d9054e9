"""The server span of one request, in every framework: OpenTelemetry names, the route template, redacted
secrets, captured bodies within the cap, the caller's trace continued, app exceptions recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.core.conftest import Framework, Traced
from tests.support.clients import PEER, wsgi_client
from tracesec.capture import keep_response_chunk
from tracesec.config import Config
from tracesec.context import EnvironHeaders, RequestContext

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


def test_server_span_has_otel_attributes_and_redacts_secrets(
    framework: Framework, traced: Callable[..., Traced]
) -> None:
    recorder = traced()
    response = framework.client().get(
        "/users/7?q=shoes&api_key=SECRETKEY&page=2",
        headers={
            "User-Agent": "shop-tests/1.0",
            "Authorization": "Bearer abcdefgh12345678",
            "Cookie": "session=s3cr3t-session",
            "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
            "X-Request-Id": "req-1",
        },
    )
    assert response.status_code == 200
    assert response.json()["query"] == {"q": "shoes", "api_key": "SECRETKEY", "page": "2"}
    span = recorder.span()
    attributes = span["attributes"]
    assert span["kind"] == "server"
    assert span["name"] == f"GET {framework.user_route}"
    assert span["trace_id"] == TRACE_ID
    assert span["parent_span_id"] == PARENT_ID
    assert span["span_id"] != PARENT_ID
    assert 0 < span["start_time_unix_nano"] <= span["end_time_unix_nano"]
    assert attributes["http.request.method"] == "GET"
    assert attributes["url.scheme"] == "http"
    assert attributes["server.address"] == "testserver"
    assert attributes["url.path"] == "/users/7"
    assert attributes["url.query"] == "q=shoes&api_key=%5BREDACTED%5D&page=2"
    assert attributes["http.route"] == framework.user_route
    assert attributes["http.response.status_code"] == 200
    assert attributes["client.address"] == PEER
    assert attributes["user_agent.original"] == "shop-tests/1.0"
    assert attributes["tracesec.framework"] == framework.span_framework
    assert attributes["enduser.id"] == "7"
    assert attributes["http.request.header.authorization"] == ["[REDACTED]"]
    assert attributes["http.request.header.cookie"] == ["[REDACTED]"]
    assert attributes["http.request.header.x-request-id"] == ["req-1"]
    assert "SECRETKEY" not in json.dumps(span)
    assert "abcdefgh12345678" not in json.dumps(span)
    assert "s3cr3t-session" not in json.dumps(span)
    body = response.content
    assert attributes["http.response.body.size"] == len(body)
    assert json.loads(attributes["tracesec.response.body"])["uid"] == 7


def test_response_set_cookie_is_redacted(framework: Framework, traced: Callable[..., Traced]) -> None:
    recorder = traced()
    response = framework.client().get("/headers")
    assert "s3cr3t-session" in response.headers["set-cookie"]  # the client still gets its cookie
    attributes = recorder.span()["attributes"]
    assert attributes["http.response.header.set-cookie"] == ["[REDACTED]"]
    assert "s3cr3t-session" not in json.dumps(attributes)


def test_a_new_trace_starts_without_a_valid_traceparent(
    framework: Framework, traced: Callable[..., Traced]
) -> None:
    recorder = traced()
    client = framework.client()
    client.get("/users/1")
    client.get("/users/2", headers={"traceparent": "00-zz-not-valid-01"})
    first, second = recorder.spans()
    assert first["parent_span_id"] is None and second["parent_span_id"] is None
    assert len({first["trace_id"], second["trace_id"]}) == 2


TEXTUAL = [
    ("application/json; charset=utf-8", b'{"name": "ann", "password": "hunter22"}', '"[REDACTED]"'),
    ("application/vnd.api+json", b'{"data": {"token": "t-123456", "id": 4}}', '"[REDACTED]"'),
    ("application/x-www-form-urlencoded", b"name=ann&password=hunter22", "password=%5BREDACTED%5D"),
    ("text/plain", b"hello password hunter22? no, just text", "hello password hunter22"),
    ("application/xml", b"<order><id>4</id></order>", "<order><id>4</id></order>"),
    ("application/problem+xml", b"<problem>x</problem>", "<problem>x</problem>"),
]


@pytest.mark.parametrize(("content_type", "payload", "expected"), TEXTUAL, ids=[t[0] for t in TEXTUAL])
def test_textual_bodies_are_captured_and_redacted(
    framework: Framework, traced: Callable[..., Traced], content_type: str, payload: bytes, expected: str
) -> None:
    recorder = traced()
    response = framework.client().post("/echo", content=payload, headers={"Content-Type": content_type})
    assert response.status_code == 200
    assert response.content == payload  # the app read the very bytes that were sent
    attributes = recorder.span()["attributes"]
    assert attributes["http.request.body.size"] == len(payload)
    assert attributes["http.response.body.size"] == len(payload)
    assert expected in attributes["tracesec.request.body"]
    assert expected in attributes["tracesec.response.body"]
    assert attributes["tracesec.request.body.truncated"] is False
    assert "hunter22" not in attributes["tracesec.request.body"] or content_type == "text/plain"
    assert "t-123456" not in json.dumps(attributes)


def test_binary_bodies_are_counted_not_captured(framework: Framework, traced: Callable[..., Traced]) -> None:
    recorder = traced()
    payload = bytes(range(256)) * 8
    response = framework.client().post(
        "/echo", content=payload, headers={"Content-Type": "application/octet-stream"}
    )
    assert response.content == payload
    attributes = recorder.span()["attributes"]
    assert attributes["http.request.body.size"] == len(payload)
    assert attributes["http.response.body.size"] == len(payload)
    assert "tracesec.request.body" not in attributes
    assert "tracesec.response.body" not in attributes


def test_body_over_the_cap_is_truncated_and_flagged(
    framework: Framework, traced: Callable[..., Traced]
) -> None:
    recorder = traced(max_body_bytes=100)
    payload = ("abcdefghij" * 100).encode()
    response = framework.client().post("/echo", content=payload, headers={"Content-Type": "text/plain"})
    assert response.content == payload  # the app got all of it
    attributes = recorder.span()["attributes"]
    assert attributes["tracesec.request.body"] == payload[:100].decode()
    assert attributes["tracesec.request.body.truncated"] is True
    assert attributes["http.request.body.size"] == len(payload)
    assert attributes["tracesec.response.body"] == payload[:100].decode()
    assert attributes["tracesec.response.body.truncated"] is True


def test_response_chunks_are_kept_up_to_the_cap_as_they_were_sent() -> None:
    """A body spread over chunks is kept in order up to the cap; a chunk the app reuses as a buffer
    (a bytearray, mutated after it was sent) is copied, so what was sent is what the span shows."""
    ctx = RequestContext(
        Config.load(environ={}), "test", "GET", "http", "h", "/", "", EnvironHeaders({}), PEER, None
    )
    buffer = bytearray(b"ab")
    for chunk in (buffer, b"cd", b"efgh"):
        keep_response_chunk(ctx, chunk, 5)
        if chunk is buffer:
            buffer[:] = b"XX"
    assert ctx.response_body == b"abcde"
    assert ctx.response_body_size == 8
    assert ctx.response_body_truncated is True


def test_a_listed_body_is_counted_whole_and_kept_up_to_the_cap(traced: Callable[..., Traced]) -> None:
    """A plain WSGI app answering with a list of many chunks: the client gets them all, the span counts
    them all and keeps the first ``max_body_bytes``, without joining the body into one copy."""
    from tracesec.wsgi import TracesecMiddleware

    chunks = [f'{{"n": {n}}}\n'.encode() for n in range(2000)]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/x-ndjson")])
        return chunks

    recorder = traced(max_body_bytes=64)
    response = wsgi_client(TracesecMiddleware(app)).get("/feed")
    assert response.content == b"".join(chunks)
    attributes = recorder.span()["attributes"]
    assert attributes["http.response.body.size"] == len(response.content)
    assert attributes["tracesec.response.body"] == response.content[:64].decode()
    assert attributes["tracesec.response.body.truncated"] is True


def test_bodies_not_captured_when_disabled(framework: Framework, traced: Callable[..., Traced]) -> None:
    recorder = traced(capture_bodies=False)
    framework.client().post("/users/3", json={"a": 1})
    attributes = recorder.span()["attributes"]
    assert "tracesec.request.body" not in attributes
    assert "tracesec.response.body" not in attributes
    assert attributes["http.response.status_code"] == 200


def test_forwarded_for_is_ignored_from_untrusted_peers(
    framework: Framework, traced: Callable[..., Traced]
) -> None:
    recorder = traced()
    framework.client().get("/users/1", headers={"X-Forwarded-For": "198.51.100.1"})
    assert recorder.span()["attributes"]["client.address"] == PEER


def test_forwarded_for_is_honoured_from_trusted_proxies(
    framework: Framework, traced: Callable[..., Traced]
) -> None:
    recorder = traced(trusted_proxies=f"{PEER},10.0.0.0/8")
    framework.client().get("/users/1", headers={"X-Forwarded-For": "198.51.100.1, 10.1.2.3"})
    attributes = recorder.span()["attributes"]
    assert attributes["client.address"] == "198.51.100.1"
    assert attributes["network.peer.address"] == PEER


def test_unhandled_exception_is_recorded_and_reraised_unchanged(
    framework: Framework, traced: Callable[..., Traced]
) -> None:
    recorder = traced()
    if framework.name.startswith("django"):
        # Django turns a view's exception into its own 500 before any WSGI/ASGI layer sees it.
        assert framework.client().get("/boom").status_code == 500
    else:
        with pytest.raises(RuntimeError, match="^boom$"):
            framework.client().get("/boom")
    span = recorder.span()
    assert span["status"] == "error"
    assert span["attributes"]["http.response.status_code"] == 500
    if not framework.name.startswith("django"):
        assert span["attributes"]["exception.type"] == "builtins.RuntimeError"
        assert span["attributes"]["exception.message"] == "boom"
