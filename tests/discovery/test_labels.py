from __future__ import annotations

import pytest

from tracesec.discovery.formats import string_format
from tracesec.discovery.labels import name_labels, value_labels


def labels_of(text: str) -> tuple[str, ...]:
    return value_labels(text, string_format(text))


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("ann.lee@example.com", "email"),
        ("+14155552671", "phone"),
        ("(415) 555-2671", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("4111111111111111", "credit_card"),
        ("4111 1111 1111 1111", "credit_card"),
        ("378282246310005", "credit_card"),
        ("5555-5555-5555-4444", "credit_card"),
        ("DE89370400440532013000", "iban"),
        ("GB82 WEST 1234 5698 7654 32", "iban"),
        ("123-45-6789", "ssn"),
        ("AB123456C", "national_id"),  # UK National Insurance number
        ("12345678Z", "national_id"),  # Spanish DNI with its check letter
        ("529.982.247-25", "national_id"),  # Brazilian CPF with its check digits
        ("203.0.113.7", "ip_address"),
        ("2001:db8::1", "ip_address"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLWJ5dGVz", "jwt"),
        ("AKIAIOSFODNN7EXAMPLE", "secret"),
        ("ghp_" + "a1B2" * 9, "secret"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "secret"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA", "secret"),
        ("1600 Pennsylvania Avenue NW, Washington", "address"),
    ],
)
def test_planted_sensitive_values_are_labelled(value: str, label: str) -> None:
    assert labels_of(value) == (label,)


@pytest.mark.parametrize(
    "value",
    [
        "4111111111111112",  # fails Luhn
        "1234567890123452",  # passes Luhn, but no card brand starts with 1
        "DE89370400440532013001",  # IBAN checksum wrong
        "000-12-3456",  # never-issued SSN area
        "12345678A",  # wrong DNI check letter
        "529.982.247-26",  # wrong CPF check digit
        "Widget Pro 3000",
        "Deluxe Coffee Grinder",
        "in_stock",
        "WID-3000-BLK",
        "2024-03-01T12:30:00Z",
        "2024-03-01",
        "19.99",
        "1712345678",
        "42",
        "true",
        "https://shop.example/products/42",
        "report.pdf",
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "",
    ],
)
def test_innocuous_values_get_no_label(value: str) -> None:
    assert labels_of(value) == ()


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("password", "password"),
        ("newPassword", "password"),
        ("first_name", "person_name"),
        ("lastName", "person_name"),
        ("cardholder_name", "person_name"),
        ("date_of_birth", "date_of_birth"),
        ("dob", "date_of_birth"),
        ("birthDate", "date_of_birth"),
        ("street_address", "address"),
        ("postal_code", "address"),
        ("email_address", "email"),
        ("mobile_phone", "phone"),
        ("api_key", "secret"),
        ("client_secret", "secret"),
        ("access_token", "secret"),
        ("ssn", "ssn"),
        ("passport_number", "national_id"),
        ("card_number", "credit_card"),
        ("cvv", "credit_card"),
        ("iban", "iban"),
        ("ip_address", "ip_address"),
    ],
)
def test_field_names_imply_labels(name: str, label: str) -> None:
    assert name_labels(name) == (label,)


@pytest.mark.parametrize(
    "name",
    [
        "name",
        "product_name",
        "count",
        "quantity",
        "price",
        "created_at",
        "id",
        "status",
        "in_stock",
        "sku",
        "tags",
    ],
)
def test_ordinary_field_names_imply_nothing(name: str) -> None:
    assert name_labels(name) == ()


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("ann@example.com", "email"),
        ("3fa85f64-5717-4562-b3fc-2c963f66afa6", "uuid"),
        ("2024-03-01", "date"),
        ("2024-03-01T12:30:00Z", "date-time"),
        ("2024-03-01T12:30:00.123+02:00", "date-time"),
        ("10.0.0.1", "ipv4"),
        ("fe80::1", "ipv6"),
        ("https://shop.example/a?b=c", "uri"),
        ("api.shop.example", "hostname"),
        ("+14155552671", "phone"),
        ("hello world", None),
        ("2024-13-01", None),
        ("report.pdf", None),
        ("1.2.3", None),
        ("Widget", None),
    ],
)
def test_string_formats(value: str, fmt: str | None) -> None:
    assert string_format(value) == fmt
