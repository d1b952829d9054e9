"""Fail open: an exception inside any tracesec hook never changes what the client gets, and is counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

import tracesec.asgi
import tracesec.capture
import tracesec.context
import tracesec.integrations.django
import tracesec.wsgi
from tests.core.conftest import Framework, Traced
from tracesec.failsafe import internal_errors
from tracesec.hooks import HOOKS

Exchange = list[tuple[int, list[tuple[str, str]], bytes]]
VARYING_HEADERS = {"date", "server"}


def exchange(client: httpx.Client) -> Exchange:
    """What a client sees for a mix of requests: status, headers and body of each."""
    responses = [
        client.get("/users/5?q=shoes&token=t0k3n"),
        client.post("/users/6", json={"password": "pw", "items": [1, 2, 3]}),
        client.post("/echo", content=b"name=ann&city=paris", headers={"Content-Type": "text/plain"}),
        client.post("/echo", content=bytes(range(256)), headers={"Content-Type": "application/octet-stream"}),
        client.get("/headers"),
        client.get("/missing"),
    ]
    return [
        (
            r.status_code,
            sorted((k, v) for k, v in r.headers.multi_items() if k.lower() not in VARYING_HEADERS),
            r.content,
        )
        for r in responses
    ]


def broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected fault")


def hook_fault(attribute: str) -> Callable[[pytest.MonkeyPatch], None]:
    def inject(monkeypatch: pytest.MonkeyPatch) -> None:
        getattr(HOOKS, attribute).append(broken)

    return inject


def attribute_fault(*targets: tuple[object, str]) -> Callable[[pytest.MonkeyPatch], None]:
    def inject(monkeypatch: pytest.MonkeyPatch) -> None:
        for owner, name in targets:
            monkeypatch.setattr(owner, name, broken)

    return inject


def transport_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracesec.agent import active

    agent = active()
    assert agent is not None
    monkeypatch.setattr(agent.exporter.transport, "send", broken)


FAULTS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "server_attributes": attribute_fault((tracesec.context, "server_attributes")),
    "keep_response_chunk": attribute_fault(
        (tracesec.wsgi, "keep_response_chunk"),
        (tracesec.asgi, "keep_response_chunk"),
        (tracesec.integrations.django, "keep_response_chunk"),
    ),
    "BodyTee._keep": attribute_fault((tracesec.capture.BodyTee, "_keep")),
    "resolve_client_ip": attribute_fault((tracesec.context, "resolve_client_ip")),
    "start_context": attribute_fault((tracesec.wsgi, "start_context"), (tracesec.asgi, "start_context")),
    "request_start": hook_fault("request_start"),
    "request_end": hook_fault("request_end"),
    "record_processor": hook_fault("record_processors"),
    "transport_send": transport_fault,
}


@pytest.fixture(scope="module")
def baselines() -> dict[str, Exchange]:
    """What each app answers without tracesec, computed once."""
    return {}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_inside_tracesec_changes_nothing_for_the_client(
    framework: Framework,
    traced: Callable[..., Traced],
    monkeypatch: pytest.MonkeyPatch,
    baselines: dict[str, Exchange],
    fault: str,
) -> None:
    if fault == "BodyTee._keep" and framework.kind != "wsgi":
        pytest.skip("BodyTee reads WSGI bodies; ASGI bodies are kept by the receive wrapper")
    if framework.name not in baselines:
        baselines[framework.name] = exchange(framework.client())
    recorder = traced()
    FAULTS[fault](monkeypatch)
    assert exchange(framework.client()) == baselines[framework.name]
    recorder.agent.exporter.flush(10.0)
    assert sum(internal_errors().values()) >= 1, "the fault was not counted"


def test_after_a_fault_tracing_goes_on(
    traced: Callable[..., Traced], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.core.conftest import FRAMEWORKS

    flask = FRAMEWORKS[0]
    recorder = traced()
    with monkeypatch.context() as patch:
        patch.setattr(tracesec.context, "server_attributes", broken)
        flask.client().get("/users/1")
        assert recorder.spans() == []  # that span could not be shaped: dropped and counted
    assert internal_errors().get("export.serialise") == 1
    flask.client().get("/users/2")
    assert [s["attributes"]["url.path"] for s in recorder.spans()] == ["/users/2"]
