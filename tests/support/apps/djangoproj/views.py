"""Views for the example project: sync and async variants of the routes the other apps have."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

import tracesec
from tests.support.apps.switches import GATE_TIMEOUT, sql_for
from tracesec.hooks import check_sink

STATE: dict[str, Any] = {"after_sink": 0, "gate": threading.Event()}


def _user_payload(request: HttpRequest, uid: int) -> dict[str, Any]:
    tracesec.set_user(request.headers.get("X-User-Id", str(uid)))
    body = json.loads(request.body) if request.body and "json" in request.content_type else None
    return {"uid": uid, "query": request.GET.dict(), "body": body}


def user(request: HttpRequest, uid: int) -> HttpResponse:
    return JsonResponse(_user_payload(request, uid))


async def async_user(request: HttpRequest, uid: int) -> HttpResponse:
    return JsonResponse(_user_payload(request, uid))


def item(request: HttpRequest, rid: str) -> HttpResponse:
    tracesec.set_user(rid)
    return JsonResponse({"rid": rid, "query": request.GET.get("id"), "body": json.loads(request.body)})


async def async_item(request: HttpRequest, rid: str) -> HttpResponse:
    tracesec.set_user(rid)
    return JsonResponse({"rid": rid, "query": request.GET.get("id"), "body": json.loads(request.body)})


def echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.body, content_type=request.content_type or "application/octet-stream")


def headers(request: HttpRequest) -> HttpResponse:
    response = JsonResponse({"ok": True})
    response.set_cookie("session", "s3cr3t-session")
    return response


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


def _guarded_sink(request: HttpRequest) -> HttpResponse:
    try:  # noqa: SIM105  (an app that swallows every Exception)
        check_sink("sql", sql_for(request.GET.get("name", "")))
    except Exception:
        pass
    STATE["after_sink"] += 1
    return HttpResponse("ran", content_type="text/plain")


def sql(request: HttpRequest) -> HttpResponse:
    return _guarded_sink(request)


async def async_sql(request: HttpRequest) -> HttpResponse:
    return _guarded_sink(request)


def ran(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"after_sink": STATE["after_sink"]})


def stream(request: HttpRequest) -> HttpResponse:
    def chunks() -> Iterator[bytes]:
        yield b"first\n"
        STATE["gate"].wait(GATE_TIMEOUT)
        yield b"second\n"

    return StreamingHttpResponse(chunks(), content_type="text/plain")


def release(request: HttpRequest) -> HttpResponse:
    STATE["gate"].set()
    return HttpResponse("released")


class CatchAllMiddleware:
    """An app's own 'never show a traceback' middleware: any exception becomes a JSON 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except Exception as exc:
            return JsonResponse({"error": "handled", "type": type(exc).__name__}, status=500)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        return JsonResponse({"error": "handled", "type": type(exc).__name__}, status=500)
