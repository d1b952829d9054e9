"""The shop's data: a SQLite file of products, customers (emails, phones, card numbers) and orders, plus
one invoice file per order. Deterministic, so every demo run tells the same story."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from pathlib import Path

CUSTOMERS = 1000
PRODUCTS = ("desk lamp", "standing desk", "office chair", "monitor arm", "usb hub", "keyboard", "webcam",
            "mouse pad", "headset", "notebook", "fountain pen", "desk mat", "cable tray", "footrest",
            "laptop stand", "whiteboard", "label printer", "shredder", "bookshelf", "plant pot")  # fmt: skip
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim", "Margaret",
          "Linus", "Sophie", "John", "Shafi", "Leslie")  # fmt: skip
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman",
         "Berners-Lee", "Hamilton", "Torvalds", "Wilson", "McCarthy", "Goldwasser", "Lamport")  # fmt: skip
_STREETS = ("Market Street", "High Street", "Elm Avenue", "Harbour Road", "Mill Lane", "Station Road")


def password_hash(password: str) -> str:
    return hashlib.sha256(("tracesec-demo:" + password).encode()).hexdigest()


def customer_password(customer_id: int) -> str:
    """The demo's normal users know their passwords; attackers do not."""
    return f"correct-horse-{customer_id}"


def customer_email(customer_id: int) -> str:
    first, last = _FIRST[customer_id % len(_FIRST)], _LAST[customer_id * 7 % len(_LAST)]
    return f"{first}.{last}{customer_id}@example.com".lower()


def _card_number(rng: random.Random) -> str:
    """A Visa-shaped number with a valid Luhn digit (test data: no real card has it)."""
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def create_shop_data(folder: Path) -> Path:
    """Write ``shop.sqlite`` and ``invoices/`` into ``folder``; the database path."""
    rng = random.Random(8)
    folder.mkdir(parents=True, exist_ok=True)
    invoices = folder / "invoices"
    invoices.mkdir(exist_ok=True)
    db_path = folder / "shop.sqlite"
    db_path.unlink(missing_ok=True)
    with sqlite3.connect(db_path) as conn:
        conn.executescript(
            """
            CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL, stock INTEGER);
            CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT UNIQUE, password_hash TEXT,
                first_name TEXT, last_name TEXT, phone TEXT, address TEXT, card_number TEXT);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, product_id INTEGER,
                quantity INTEGER, total REAL, status TEXT);
            """
        )
        conn.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?)",
            [
                (i, name, round(rng.uniform(5, 400), 2), rng.randrange(200))
                for i, name in enumerate(PRODUCTS, 1)
            ],
        )
        for cid in range(1, CUSTOMERS + 1):
            conn.execute(
                "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cid,
                    customer_email(cid),
                    password_hash(customer_password(cid)),
                    _FIRST[cid % len(_FIRST)],
                    _LAST[cid * 7 % len(_LAST)],
                    f"+44 20 7946 {cid % 10000:04d}",
                    f"{rng.randrange(1, 300)} {rng.choice(_STREETS)}",
                    _card_number(rng),
                ),
            )
        order_id = 1000
        for cid in range(1, CUSTOMERS + 1):
            for _ in range(3):
                order_id += 1
                product = rng.randrange(1, len(PRODUCTS) + 1)
                quantity = rng.randrange(1, 4)
                conn.execute(
                    "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
                    (order_id, cid, product, quantity, round(quantity * rng.uniform(5, 400), 2), "shipped"),
                )
                (invoices / f"invoice-{order_id}.txt").write_text(
                    f"Invoice {order_id}\ncustomer {cid}\nproduct {product} x {quantity}\n"
                )
    return db_path


def orders_of(customer_id: int) -> list[int]:
    """The order ids ``create_shop_data`` gives a customer."""
    first = 1000 + (customer_id - 1) * 3 + 1
    return [first, first + 1, first + 2]
