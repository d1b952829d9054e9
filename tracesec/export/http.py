"""The HTTP transport: one gzip-compressed batch per POST to ``<endpoint>/v1/batches`` (docs/protocol.md).

Retries follow the OTLP exporters: 429, 502, 503, 504 and connection errors are retried with jittered
exponential backoff, never sooner than the service's Retry-After, until ``retry_max_time`` has passed;
any other refusal is final. The batch_id makes a retry of a batch that did arrive harmless.

The httpx client is created lazily by the process that uses it: a client inherited across a fork shares
its sockets (and TLS state) with the parent, so the child abandons it and makes its own.
"""

from __future__ import annotations

import email.utils
import gzip
import logging
import os
import random
import threading
import time
from typing import Any

import httpx

from tracesec import __version__
from tracesec.export.transport import ExportError
from tracesec.export.wire import encode

log = logging.getLogger("tracesec")

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
_FIRST_BACKOFF = 0.5
_MAX_BACKOFF = 30.0
# Level 1 compresses span JSON about 6x at a fraction of the default level's cost: the export thread
# shares the app's CPU, the network rarely is the bottleneck.
_GZIP_LEVEL = 1


def encode_body(batch: dict[str, Any]) -> bytes:
    """The request body for one batch: compact JSON, gzip-compressed."""
    return gzip.compress(encode(batch), compresslevel=_GZIP_LEVEL)


class HttpTransport:
    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        retry_max_time: float = 60.0,
    ) -> None:
        self.url = endpoint.rstrip("/") + "/v1/batches"
        self._headers = {
            "content-type": "application/json",
            "content-encoding": "gzip",
            "user-agent": f"tracesec/{__version__}",
        }
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._timeout = timeout
        self._retry_max_time = retry_max_time
        self._pid = 0
        self._client: httpx.Client | None = None
        self._closed = threading.Event()

    def send(self, batch: dict[str, Any]) -> dict[str, Any] | None:
        """Deliver one batch; the service's JSON reply, or ExportError ``rejected`` (refused for good)
        or ``network`` (unreachable or still overloaded when retry_max_time ran out)."""
        body = encode_body(batch)
        deadline = time.monotonic() + self._retry_max_time
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._post(body)
            except httpx.TransportError as exc:
                problem, retry_after = f"cannot reach {self.url}: {exc!r}", None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return _json_object(response)
                problem = f"{status} {_server_message(response)}"
                if status not in RETRYABLE_STATUSES:
                    raise ExportError("rejected", problem)
                retry_after = _retry_after_seconds(response)
            delay = max(retry_after or 0.0, _backoff(attempt))
            if time.monotonic() + delay > deadline:
                raise ExportError("network", f"gave up after {attempt} attempt(s): {problem}")
            log.debug("tracesec: export attempt %d failed (%s); retrying in %.2f s", attempt, problem, delay)
            if self._closed.wait(delay):
                raise ExportError("network", f"transport closed while retrying: {problem}")

    def _post(self, body: bytes) -> httpx.Response:
        """The exporter's only network call: what must stay uninstrumented is all here."""
        return self._client_for_this_process().post(self.url, content=body, headers=self._headers)

    def _client_for_this_process(self) -> httpx.Client:
        if self._pid != os.getpid():
            # made before a fork: abandoned, not closed, which would shut the parent's connections
            self._pid = os.getpid()
            self._client = None
            self._closed = threading.Event()
        if self._closed.is_set():
            raise ExportError("network", "transport closed")
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout)
        return self._client

    def close(self) -> None:
        """Stop retrying and release connections; called once, at shutdown."""
        self._closed.set()
        client, self._client = self._client, None
        if client is not None and self._pid == os.getpid():
            client.close()


def _backoff(attempt: int) -> float:
    """Exponential with jitter (between half and all of the step), so agents do not retry in step."""
    step: float = min(_MAX_BACKOFF, _FIRST_BACKOFF * 2.0 ** min(attempt - 1, 16))
    return step * random.uniform(0.5, 1.0)


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        reply = response.json()
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None


def _server_message(response: httpx.Response) -> str:
    """What the service said was wrong: its JSON ``error`` field, else the start of the body."""
    reply = _json_object(response)
    if reply is not None and isinstance(reply.get("error"), str):
        return str(reply["error"])
    return response.text[:200] or response.reason_phrase
