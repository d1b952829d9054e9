"""Where a URL or a user input points: each reading of its authority, and the host and port it names in one
canonical spelling, so an input and the URL an HTTP client sends can be compared as targets rather than as
text (clients rewrite URLs: httpx drops a default port, lower-cases the host, IDNA-encodes it).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple
from urllib.parse import unquote

from tracesec.protect.addresses import parse_host_address

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
"""The special schemes of the WHATWG URL standard (file aside): any run of slashes starts their authority."""
# Group 1: a special scheme; group 2: the authority. RFC 3986 ends it at / ? #; browsers and WHATWG-style
# parsers also at a backslash. Both readings are kept, because the client's parser may disagree with the
# app's (127.1.1.1\@evil).
_AUTHORITY = re.compile(
    r"(?:[\x00-\x20]*((?i:https?|wss?|ftp)):[/\\]*|(?:[\x00-\x20]*[A-Za-z][A-Za-z0-9+.-]*:)?//)([^/?#]*)"
)
_CACHED_LENGTH = 2048


class Authority(NamedTuple):
    """One reading of a URL's host: its text, its offsets in the URL, and the port it connects to (explicit,
    else the scheme's default; None when unknown: no scheme, or a port that is not a number)."""

    host: str
    begin: int
    end: int
    port: int | None


class Target(NamedTuple):
    """A host in canonical form (see ``canonical_host``) and its port (None: any port)."""

    host: str
    port: int | None

    def reaches(self, other: Target) -> bool:
        """Same host, and the same port unless either side leaves it open."""
        return self.host == other.host and (
            self.port is None or other.port is None or self.port == other.port
        )


def authorities(url: str) -> list[Authority]:
    """Each distinct reading of the host of ``url`` (scheme-relative ``//host`` included); none for a URL
    without an authority (``file:///x``, ``mailto:a@b``)."""
    match = _AUTHORITY.match(url)
    if match is None:
        return []
    name = (match.group(1) or "").lower()
    position, end = match.span(2)
    backslash = url.find("\\", position, end)
    found: dict[tuple[int, int], Authority] = {}
    for reading_end in (end,) if backslash < 0 else (end, backslash):
        begin = url.rfind("@", position, reading_end) + 1 or position
        host_end = _end_of_host(url, begin, reading_end)
        if host_end > begin:
            explicit = url.startswith(":", host_end)
            port = _port(url[host_end + 1 : reading_end]) if explicit else DEFAULT_PORTS.get(name)
            found[(begin, host_end)] = Authority(url[begin:host_end], begin, host_end, port)
    return list(found.values())


def authority_bounds(url: str) -> tuple[int, int]:
    """Where the text holding every reading of ``url``'s host starts and ends (user info and port
    included; equal offsets: no authority), found by one regex match, for cheap tests."""
    found = _AUTHORITY.match(url)
    return found.span(2) if found else (0, 0)


def _end_of_host(url: str, begin: int, end: int) -> int:
    """Where the host ends inside the authority: after ']' for an IPv6 literal, else at the port's ':'."""
    if url.startswith("[", begin):
        close = url.find("]", begin, end)
        return close + 1 if close >= 0 else end
    colon = url.find(":", begin, end)
    return colon if colon >= 0 else end


def _port(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) < 1 << 16 else None


def url_targets(url: str) -> tuple[Target, ...]:
    """The targets of every reading of ``url``'s authority (remembered for the last few hundred short
    URLs: a client call is checked at its request and its connect phase, and apps call the same hosts)."""
    return _url_targets(url) if len(url) <= _CACHED_LENGTH else _url_targets.__wrapped__(url)


@functools.lru_cache(maxsize=512)
def _url_targets(url: str) -> tuple[Target, ...]:
    return tuple(dict.fromkeys(Target(canonical_host(a.host), a.port) for a in authorities(url)))


def input_targets(user_input: str) -> list[Target]:
    """Where ``user_input`` points if an app uses it as a URL (``http://127.1:80/``) or as a bare host with
    an optional port (``localhost:6379``, ``[::1]``): the input may be rewritten before it reaches the
    client, so it is compared by target, not by text."""
    targets = url_targets(user_input) or url_targets("//" + user_input.strip())
    return [target for target in targets if target.host]


def canonical_host(host: str) -> str:
    """A host as a resolver sees it: percent-escapes decoded, NFKC-folded (full-width digits), lower case,
    no brackets or trailing dot, an IP address in its standard spelling (0x7f.1 -> 127.0.0.1), a non-ASCII
    name IDNA-encoded (bücher.de -> xn--bcher-kva.de). Remembered for the last few hundred short hosts:
    apps call the same ones."""
    return _canonical_host(host) if len(host) <= _CACHED_LENGTH else _canonical_host.__wrapped__(host)


@functools.lru_cache(maxsize=512)
def _canonical_host(host: str) -> str:
    name = unquote(host) if "%" in host else host
    if not name.isascii():
        name = unicodedata.normalize("NFKC", name)
    name = name.lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    address = parse_host_address(name)
    if address is not None:
        return address.compressed
    if not name.isascii():
        try:
            return name.encode("idna").decode("ascii")
        except UnicodeError:
            return name
    return name
