"""Reading a request body within a size cap, before and after gzip.

The cap applies to the decompressed size too, and decompression is incremental with a bound on each
step's output, so a small gzip bomb is refused after at most ``limit`` bytes of output, never
expanded whole in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

_GZIP_WBITS = 16 + zlib.MAX_WBITS


class BodyError(Exception):
    """A body the collector will not read; ``status`` is the HTTP answer."""

    status = 400


class BodyTooLarge(BodyError):
    status = 413


class UnsupportedEncoding(BodyError):
    status = 415


async def read_body(chunks: AsyncIterator[bytes], content_encoding: str, limit: int) -> bytes:
    """The body, decompressed when ``content_encoding`` is gzip; BodyError when over ``limit`` bytes
    (sent or decompressed), not valid gzip, or in an encoding the collector does not speak."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return await _read_plain(chunks, limit)
    if encoding == "gzip":
        return await _read_gzip(chunks, limit)
    raise UnsupportedEncoding(f"Content-Encoding {content_encoding!r} is not supported; use gzip or none")


async def _read_plain(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


async def _read_gzip(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    inflater = zlib.decompressobj(_GZIP_WBITS)
    body = bytearray()
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise _too_large(limit)
            pending = chunk
            while pending:
                if inflater.eof or inflater.unused_data:
                    raise BodyError("unexpected data after the end of the gzip stream")
                body += inflater.decompress(pending, limit - len(body) + 1)
                if len(body) > limit:
                    raise _too_large(limit)
                pending = inflater.unconsumed_tail or inflater.unused_data
        while not inflater.eof:  # output zlib may still hold back once all input is in
            piece = inflater.decompress(b"", limit - len(body) + 1)
            if not piece:
                raise BodyError("truncated gzip body")
            body += piece
            if len(body) > limit:
                raise _too_large(limit)
    except zlib.error as exc:
        raise BodyError(f"invalid gzip body: {exc}") from None
    return bytes(body)


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"body larger than {limit} bytes (the limit applies after decompression too)")
