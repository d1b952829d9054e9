"""String formats (OpenAPI/JSON Schema ``format``) recognised in observed values.

Checks are ordered by their cheapest distinguishing character so that an ordinary word costs a few
comparisons, not a dozen regular expressions: this runs on every sampled string value.
"""

from __future__ import annotations

import ipaddress
import re

MAX_INSPECTED_LENGTH = 2048
"""Longer strings are free text or blobs; they get no format."""

_DATE = r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
DATE = re.compile(_DATE)
DATE_TIME = re.compile(
    _DATE + r"[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?"
)
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}")
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})")
_PHONE = re.compile(r"\+?(?:\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .-]?\d{3,4}[ .-]?\d{3,5}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_FILE_EXTENSIONS = frozenset(
    [
        "pdf",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "webp",
        "ico",
        "txt",
        "csv",
        "json",
        "xml",
        "yaml",
        "yml",
        "html",
        "htm",
        "js",
        "css",
        "map",
        "zip",
        "gz",
        "tgz",
        "tar",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "py",
        "md",
        "mp3",
        "mp4",
        "mov",
        "avi",
        "wav",
        "exe",
        "bin",
        "log",
        "ini",
        "cfg",
        "toml",
    ]
)


def string_format(text: str) -> str | None:
    """The format of one string value, or None: email, uuid, date, date-time, ipv4, ipv6, uri, hostname
    or phone."""
    size = len(text)
    if size < 3 or size > MAX_INSPECTED_LENGTH:
        return None
    if size == 36 and text[8] == "-" and UUID.fullmatch(text):
        return "uuid"
    first = text[0]
    if first.isdigit():
        return _numeric_format(text)
    if "@" in text:
        return "email" if EMAIL.fullmatch(text) else None
    if "://" in text:
        return "uri" if _URI.fullmatch(text) else None
    if first in "+(":
        return "phone" if is_phone(text) else None
    if ":" in text:
        return "ipv6" if _is_ipv6(text) else None
    if "." in text:
        match = _HOSTNAME.fullmatch(text)
        if match and match.group(1) not in _FILE_EXTENSIONS:
            return "hostname"
    return None


def _numeric_format(text: str) -> str | None:
    if text[4:5] == "-":
        if DATE.fullmatch(text):
            return "date"
        if DATE_TIME.fullmatch(text):
            return "date-time"
    if text.count(".") == 3 and _IPV4.fullmatch(text):
        return "ipv4"
    if ":" in text:
        return "ipv6" if _is_ipv6(text) else None
    return "phone" if is_phone(text) else None


def is_phone(text: str) -> bool:
    """An international (+...) number, or a national one written with separators as people do; a bare
    run of digits is too often an ID or an amount to call a phone number."""
    if _E164.fullmatch(text):
        return True
    if not _PHONE.fullmatch(text):
        return False
    digits = sum(c.isdigit() for c in text)
    separated = text[0] in "+(" or any(c in " .-" for c in text)
    return separated and 8 <= digits <= 15


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True
