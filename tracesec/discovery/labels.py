"""Sensitive-data labels: what kind of personal or secret data a field carries.

Two sources: the field's name (``password``, ``date_of_birth``, ``first_name``: the only way to know a
person's name or a birth date from a plain word or date) and the value's shape, confirmed by a checksum
where one exists (Luhn for cards, mod 97 for IBANs, check letters and digits for national IDs) so that
ordinary numbers and codes stay unlabelled. Only the labels leave the process, never the values.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tracesec.redaction import luhn_valid

LABELS = (
    "email",
    "phone",
    "person_name",
    "address",
    "credit_card",
    "iban",
    "ssn",
    "national_id",
    "ip_address",
    "jwt",
    "secret",
    "password",
    "date_of_birth",
)

HIGHLY_SENSITIVE = frozenset({"credit_card", "iban", "ssn", "national_id", "jwt", "secret", "password"})
"""Labels whose exposure is an incident on its own; the others identify a person."""

_LABEL_OF_FORMAT = {"email": "email", "phone": "phone", "ipv4": "ip_address", "ipv6": "ip_address"}

# Field names, compared in compact form: lower case without separators ("firstName" == "first_name").
_NAMES_EXACT = {
    "password": ("pwd", "pass", "pin", "passcode"),
    "secret": (
        "token",
        "apikey",
        "apitoken",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "authtoken",
        "sessiontoken",
        "bearertoken",
        "privatekey",
        "accesskey",
        "secretkey",
        "signingkey",
        "xapikey",
        "xauthtoken",
    ),
    "email": ("mail",),
    "phone": ("tel", "telephone", "fax", "msisdn", "cell"),
    "person_name": (
        "firstname",
        "lastname",
        "givenname",
        "familyname",
        "middlename",
        "fullname",
        "surname",
        "maidenname",
        "displayname",
        "legalname",
        "contactname",
        "customername",
        "patientname",
        "cardholdername",
        "holdername",
        "nameoncard",
        "personname",
        "realname",
    ),
    "address": ("address", "zip", "zipcode", "postcode", "postalcode", "addr"),
    "ssn": ("ssn", "socialsecuritynumber", "socialsecurityno", "socialsecurity"),
    "national_id": (
        "nationalid",
        "nationalidnumber",
        "nin",
        "nino",
        "nationalinsurancenumber",
        "passport",
        "passportnumber",
        "passportno",
        "taxid",
        "tin",
        "sin",
        "bsn",
        "aadhaar",
        "dni",
        "nie",
        "cpf",
        "personalnumber",
        "personnummer",
        "idnumber",
        "idcardnumber",
    ),
    "ip_address": ("ip", "ipaddr", "clientip", "remoteip", "remoteaddr", "sourceip"),
    "credit_card": (
        "cardnumber",
        "creditcard",
        "creditcardnumber",
        "ccnumber",
        "cardno",
        "pan",
        "cvv",
        "cvc",
        "cvv2",
        "cardsecuritycode",
    ),
    "iban": ("iban",),
    "date_of_birth": ("dob", "dateofbirth", "birthdate", "birthday", "bornon", "birthdt"),
}
_NAMES_CONTAINING = {
    "password": ("password", "passwd", "passphrase"),
    "secret": ("secret", "apikey", "accesstoken", "refreshtoken", "privatekey"),
    "email": ("email",),
    "phone": ("phone", "mobilenumber"),
    "address": ("street", "addressline", "postaladdress", "homeaddress", "billingaddress", "shippingaddress"),
    "ip_address": ("ipaddress",),
}
_LABELS_BY_EXACT_NAME = {name: label for label, names in _NAMES_EXACT.items() for name in names}
_SEPARATORS = str.maketrans("", "", "_-. ")

_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}")
_UK_NINO = re.compile(r"[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]")
_SPANISH_DNI = re.compile(r"\d{8}[A-Z]")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_BRAZIL_CPF = re.compile(r"\d{3}\.\d{3}\.\d{3}-\d{2}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SECRET_PREFIXES = (
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghs_",
    "ghu_",
    "github_pat_",
    "xox",
    "AIza",
    "sk_",
    "rk_",
)
_SECRET = re.compile(
    r"(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|gh[opsu]_[A-Za-z0-9]{36}|github_pat_\w{60,}"
    r"|xox[abeprs]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"
)
_STREET = re.compile(
    r"\d{1,6}[A-Za-z]? [\w .'-]{2,60}\b(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr"
    r"|way|court|ct|place|pl|square|sq|terrace|highway|hwy)\b(?:[ ,.].*)?",
    re.IGNORECASE,
)
# Issuer prefixes and lengths of the card brands; a Luhn check alone passes one random number in ten.
_CARD_BRANDS = (
    (("4",), (13, 16, 19)),
    (("51", "52", "53", "54", "55", *(str(p) for p in range(2221, 2721))), (16,)),
    (("34", "37"), (15,)),
    (("6011", "65", "644", "645", "646", "647", "648", "649"), (16, 19)),
    (tuple(str(p) for p in range(3528, 3590)), (16, 19)),
    (("36", "38", "300", "301", "302", "303", "304", "305"), (14, 16)),
    (("62",), (16, 19)),
)


@lru_cache(maxsize=4096)
def name_labels(name: str) -> tuple[str, ...]:
    """Labels a field's name alone implies."""
    compact = name.lower().translate(_SEPARATORS)
    if not compact:
        return ()
    found = []
    exact = _LABELS_BY_EXACT_NAME.get(compact)
    if exact:
        found.append(exact)
    for label, fragments in _NAMES_CONTAINING.items():
        if label not in found and any(fragment in compact for fragment in fragments):
            found.append(label)
    if "email" in found and "address" in found:
        found.remove("address")
    return tuple(found)


def value_labels(text: str, string_format: str | None) -> tuple[str, ...]:
    """Labels a string value's content implies; ``string_format`` is what formats.string_format found."""
    if string_format is not None:
        label = _LABEL_OF_FORMAT.get(string_format)
        return (label,) if label else ()
    size = len(text)
    if size < 9:
        return ()
    first = text[0]
    if first.isdigit():
        return _numeric_labels(text)
    if first == "e" and looks_like_jwt(text):
        return ("jwt",)
    if text.startswith(_SECRET_PREFIXES) and _SECRET.fullmatch(text):
        return ("secret",)
    if text.startswith("-----BEGIN") and "PRIVATE KEY" in text[:40]:
        return ("secret",)
    if first.isupper() and size >= 15 and _is_iban(text):
        return ("iban",)
    if size == 9 and _UK_NINO.fullmatch(text):
        return ("national_id",)
    return ()


def _numeric_labels(text: str) -> tuple[str, ...]:
    compact = text.replace(" ", "").replace("-", "")
    if compact.isdigit():
        if 13 <= len(compact) <= 19 and is_card_number(compact):
            return ("credit_card",)
        if len(text) == 11 and _SSN.fullmatch(text):
            return ("ssn",)
        return ()
    if len(text) == 9 and _SPANISH_DNI.fullmatch(text):
        return ("national_id",) if _DNI_LETTERS[int(text[:8]) % 23] == text[8] else ()
    if len(text) == 14 and _BRAZIL_CPF.fullmatch(text):
        return ("national_id",) if _is_cpf(text) else ()
    if _STREET.fullmatch(text):
        return ("address",)
    return ()


def looks_like_jwt(token: str) -> bool:
    """A compact JWS: base64url JSON header and payload (both start ``eyJ``, i.e. ``{"``) and a signature."""
    return token.startswith("eyJ") and token.count(".") == 2 and _JWT.fullmatch(token) is not None


def is_card_number(digits: str) -> bool:
    """A payment card number: a known brand's prefix and length, and a valid Luhn check digit."""
    for prefixes, lengths in _CARD_BRANDS:
        if len(digits) in lengths and digits.startswith(prefixes):
            return luhn_valid(digits)
    return False


def _is_iban(text: str) -> bool:
    compact = text.replace(" ", "")
    if not _IBAN.fullmatch(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _is_cpf(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if len(set(digits)) == 1:
        return False
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits[:length], range(length + 1, 1, -1), strict=True))
        if (total * 10) % 11 % 10 != digits[length]:
            return False
    return True
