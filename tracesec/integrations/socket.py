"""Name resolution, the one point every client passes before it connects (Aikido's approach): the
outbound sink is checked after ``getaddrinfo`` resolves and before the addresses are handed back, so it
judges the very addresses the socket will use (DNS rebinding, redirects to internal hosts).

asyncio resolves in an executor thread that does not carry the caller's context, so the event loop's
``getaddrinfo`` is checked too, in the caller's context; the thread's own call then sees no request."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec.context import instrumentation_suppressed
from tracesec.hooks import HOOKS, check_sink
from tracesec.integrations._http import outbound_call_url
from tracesec.patching import Args, Kwargs, Patcher, Wrapped


def patch_socket(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module, "getaddrinfo", _getaddrinfo)


def patch_event_loop(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.BaseEventLoop, "getaddrinfo", _loop_getaddrinfo)


def _getaddrinfo(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    infos = wrapped(*args, **kwargs)
    _check_resolved(args, kwargs, infos)
    return infos


async def _loop_getaddrinfo(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    infos = await wrapped(*args, **kwargs)
    _check_resolved(args, kwargs, infos)
    return infos


def _check_resolved(args: Args, kwargs: Kwargs, infos: list[Any]) -> None:
    if not HOOKS.sink_checks.get("outbound") or instrumentation_suppressed():
        return
    host = args[0] if args else kwargs.get("host")
    if host is None:
        return
    port = args[1] if len(args) > 1 else kwargs.get("port")
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    check_sink(
        "outbound",
        host.decode("idna") if isinstance(host, bytes) else str(host),
        {
            "phase": "connect",
            "port": int(port) if isinstance(port, (int, str)) and str(port).isdigit() else port,
            "addresses": addresses,
            "call_url": outbound_call_url(),
        },
    )
