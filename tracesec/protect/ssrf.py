"""SSRF: does a user input choose the host of an outgoing request, and is that host inside the network?"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import unquote

from tracesec.protect.addresses import is_internal_address, parse_host_address
from tracesec.protect.occurrences import find_occurrences

_SCHEME = re.compile(r"[\x00-\x20]*([A-Za-z][A-Za-z0-9+.-]*):")
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
# RFC 3986 ends the authority at / ? #; browsers and WHATWG-style parsers also at a backslash. Both
# readings are checked, because the client's parser may disagree with the app's (127.1.1.1\@evil).
_AUTHORITY_ENDS = (re.compile(r"[/?#]"), re.compile(r"[/\\?#]"))
_INTERNAL_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "rancher-metadata",
    }
)


def detect_ssrf(url: str, user_input: str, resolved_ips: Sequence[str] | None = None) -> bool:
    """True when ``user_input`` supplies (part of) the host of ``url`` and that host is internal: an
    internal address in any spelling, an internal name (localhost, metadata.google.internal ...), or a name
    whose ``resolved_ips`` (the addresses the socket will connect to; no DNS is done here) include an
    internal one."""
    if not user_input:
        return False
    starts = find_occurrences(url, user_input)
    if not starts:
        return False
    controlled = [
        host
        for host, (begin, end) in host_spans(url)
        if any(start < end and begin < start + len(user_input) for start in starts)
    ]
    if not controlled:
        return False
    if resolved_ips and any(is_internal_address(ip) for ip in resolved_ips):
        return True
    return any(is_internal_host(host) for host in controlled)


def host_spans(url: str) -> list[tuple[str, tuple[int, int]]]:
    """Each distinct reading of the URL's host, with its (start, end) offsets in ``url``."""
    scheme = _SCHEME.match(url)
    position = scheme.end() if scheme else 0
    if scheme and scheme.group(1).lower() in _SPECIAL_SCHEMES:
        while position < len(url) and url[position] in "/\\":
            position += 1
    elif url.startswith("//", position):
        position += 2
    else:
        return []
    spans: dict[tuple[int, int], str] = {}
    for authority_end in _AUTHORITY_ENDS:
        found = authority_end.search(url, position)
        end = found.start() if found else len(url)
        begin = url.rfind("@", position, end) + 1 or position
        end = _end_of_host(url, begin, end)
        if end > begin:
            spans[(begin, end)] = url[begin:end]
    return [(host, span) for span, host in spans.items()]


def _end_of_host(url: str, begin: int, end: int) -> int:
    """Where the host ends inside the authority: after ']' for an IPv6 literal, else at the port's ':'."""
    if url.startswith("[", begin):
        close = url.find("]", begin, end)
        return close + 1 if close >= 0 else end
    colon = url.find(":", begin, end)
    return colon if colon >= 0 else end


def is_internal_host(host: str) -> bool:
    """A URL host that names an internal place: an internal address in any spelling (also
    percent-encoded or in full-width digits, which URL parsers decode) or a well-known internal name."""
    name = unicodedata.normalize("NFKC", unquote(host)).lower().rstrip(".")
    address = parse_host_address(name)
    if address is not None:
        return is_internal_address(address)
    return name in _INTERNAL_NAMES or name.endswith(".localhost")
