"""The forms a user input may take after an app (or a server in front of it) decoded it: percent-decoding,
repeated; IIS-style %uXXXX; overlong UTF-8 (%c0%ae is '.'), which strict decoders reject but old ones
accepted; and full-width look-alikes that NFKC folds to ASCII (U+FF0E is '.')."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

_MAX_ROUNDS = 3
_ESCAPES = re.compile(r"%u([0-9a-fA-F]{4})|((?:%[0-9a-fA-F]{2})+)")


def decoded_forms(text: str) -> list[str]:
    """``text`` and every distinct form it decodes to, up to three rounds of percent-decoding, each round
    both the lenient way and the strict way of ``urllib.parse.unquote``."""
    forms = [text]
    current = text
    for _ in range(_MAX_ROUNDS):
        if "%" not in current:
            break
        # What urllib.parse.unquote (and so most Python apps) produces, with U+FFFD for invalid UTF-8.
        forms.append(unquote(current))
        decoded = _ESCAPES.sub(_decode_escape, current)
        if decoded == current:
            break
        forms.append(decoded)
        current = decoded
    folded = [unicodedata.normalize("NFKC", form) for form in forms]
    return list(dict.fromkeys(forms + folded))


def _decode_escape(match: re.Match[str]) -> str:
    if match.group(1):
        return chr(int(match.group(1), 16))
    data = bytes.fromhex(match.group(2).replace("%", ""))
    return _lenient_utf8(data)


def _lenient_utf8(data: bytes) -> str:
    """UTF-8 that also accepts overlong sequences; a byte that starts no valid sequence stays as it was
    written (%xx), so only what a decoder could really have produced is returned."""
    chars: list[str] = []
    index = 0
    while index < len(data):
        lead = data[index]
        length = _sequence_length(lead)
        tail = data[index + 1 : index + length]
        if length == 1:
            chars.append(chr(lead))
        elif len(tail) == length - 1 and all(byte & 0xC0 == 0x80 for byte in tail):
            code = lead & (0x7F >> length)
            for byte in tail:
                code = (code << 6) | (byte & 0x3F)
            chars.append(
                chr(code) if code <= 0x10FFFF else "".join(f"%{b:02x}" for b in data[index : index + length])
            )
        else:
            chars.append(f"%{lead:02x}")
            length = 1
        index += length
    return "".join(chars)


def _sequence_length(lead: int) -> int:
    """How many bytes a sequence starting with ``lead`` spans (1 for ASCII and stray bytes, up to 6 for the
    obsolete five- and six-byte forms that overlong payloads use)."""
    if lead < 0xC0:
        return 1
    ones = 0
    while lead & (0x80 >> ones):
        ones += 1
    return min(ones, 6)
