"""IP addresses in every spelling a resolver accepts, and which of them point inside the network.

``inet_aton`` (which ``getaddrinfo`` uses for numeric hosts) reads '2130706433', '0177.0.0.1', '0x7f.1' and
'127.1' as 127.0.0.1, so an allow- or deny-list that only knows dotted quads is easy to walk around.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import TypeAlias

IPAddress: TypeAlias = "ipaddress.IPv4Address | ipaddress.IPv6Address"

_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")
_INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # 'this host': 0.0.0.0 reaches local services on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, home of most cloud metadata services
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments (192.0.0.192 is Oracle Cloud metadata)
        "192.168.0.0/16",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",  # deprecated site-local, still routed inside some networks
    )
)
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CACHED_LENGTH = 64


def parse_host_address(host: str) -> IPAddress | None:
    """The address a URL host or socket host stands for, in any numeric spelling: dotted, shortened
    (127.1), decimal (2130706433), octal (0177.0.0.1), hex (0x7f.0.0.1, 0x7f000001), IPv6 with or without
    brackets and zone, and with a trailing dot. None for a host name."""
    text = host.strip().rstrip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    return _parse_ipv4(text)


def _parse_ipv4(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        return None
    numbers = [_ipv4_number(part) for part in parts]
    *leading, last = numbers
    if any(number > 0xFF for number in leading) or last >= 1 << (8 * (5 - len(numbers))):
        return None
    value = last
    for position, number in enumerate(leading):
        value |= number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part, 8)
    return int(part)


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) or NAT64
    (64:ff9b::a.b.c.d) IPv6 address, which the kernel or a gateway will really connect to."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    packed = int(address)
    if packed >> 32 == 0 and packed > 1:
        return ipaddress.IPv4Address(packed)
    if address in _NAT64:
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return address


def _as_address(ip: str | IPAddress) -> IPAddress | None:
    address = parse_host_address(ip) if isinstance(ip, str) else ip
    return None if address is None else _embedded_ipv4(address)


def is_internal_address(ip: str | IPAddress) -> bool:
    """Loopback, private (RFC 1918, fc00::/7), link-local, carrier-grade NAT, unspecified, or a cloud
    metadata address; any spelling, including IPv4 wrapped in IPv6. False for anything not an address."""
    address = _as_address(ip)
    return address is not None and any(address in network for network in _INTERNAL_NETWORKS)


def is_metadata_address(ip: str | IPAddress) -> bool:
    """A cloud instance-metadata endpoint (AWS, GCP, Azure, DigitalOcean, Oracle, Alibaba, ECS), any
    spelling: worth flagging even when no user input is involved. Checked on every connection, so the
    answer for the last few hundred short spellings is remembered (DNS answers repeat)."""
    short = not isinstance(ip, str) or len(ip) <= _CACHED_LENGTH
    return _is_metadata(ip) if short else _is_metadata.__wrapped__(ip)


@functools.lru_cache(maxsize=512)
def _is_metadata(ip: str | IPAddress) -> bool:
    return _as_address(ip) in _METADATA_ADDRESSES
