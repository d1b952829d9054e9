"""SSRF: does a user input choose the host of an outgoing request, and is that host inside the network?"""

from __future__ import annotations

import string
from collections.abc import Sequence

from tracesec.protect.addresses import is_internal_address, parse_host_address
from tracesec.protect.hosts import authorities, canonical_host, input_targets, url_targets
from tracesec.protect.occurrences import find_occurrences

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
    internal one. The input supplies the host when it sits in the URL's host, or when it names the same
    host and port as the URL once both are in canonical form (the client may have rewritten the URL)."""
    if not user_input:
        return False
    controlled = controlled_hosts(url, user_input)
    if not controlled:
        return False
    if resolved_ips and any(is_internal_address(ip) for ip in resolved_ips):
        return True
    return any(is_internal_host(host) for host in controlled)


def controlled_hosts(url: str, user_input: str) -> list[str]:
    """The readings of ``url``'s host that ``user_input`` supplies, by text or by target."""
    if user_input not in url and _cannot_name_host(url, user_input):
        return []
    readings = authorities(url)
    starts = find_occurrences(url, user_input)
    by_text = [
        reading.host
        for reading in readings
        if any(start < reading.end and reading.begin < start + len(user_input) for start in starts)
    ]
    if by_text:
        return by_text
    chosen = input_targets(user_input)
    return [target.host for target in url_targets(url) if any(wanted.reaches(target) for wanted in chosen)]


_ADDRESS_CHARACTERS = "0123456789abcdefx.:[]%" + string.whitespace


def _cannot_name_host(url: str, user_input: str) -> bool:
    """A cheap proof that the input names no host of the URL: its host-like part is plain ASCII without
    percent-escapes, could not be an IP address in another spelling, and does not appear in the URL even
    case-insensitively. Clients rewrite URLs (case, default ports, IDNA, IP spellings, escapes), so
    anything else takes the full path."""
    token = user_input.rpartition("://")[2].rpartition("@")[2]
    for end in "/?#":
        token = token.partition(end)[0]
    token = token.rpartition(":")[0] or token
    token = token.rstrip(".").lower()
    if not token or "%" in token or could_be_address(token):
        return False
    return token not in url.lower()


def could_be_address(host: str) -> bool:
    """Whether a resolver might read ``host`` (in lower case) as an IP address in some spelling: it is
    not plain ASCII (full-width digits), or is made only of digits, hex letters, x, dots, colons,
    brackets, percent signs and surrounding blanks. Shared by every cheap proof that no input is involved."""
    return not host.isascii() or not host.strip(_ADDRESS_CHARACTERS)


def is_internal_host(host: str) -> bool:
    """A URL host that names an internal place: an internal address in any spelling (also
    percent-encoded or in full-width digits, which URL parsers decode) or a well-known internal name."""
    name = canonical_host(host)
    address = parse_host_address(name)
    if address is not None:
        return is_internal_address(address)
    return name in _INTERNAL_NAMES or name.endswith(".localhost")
