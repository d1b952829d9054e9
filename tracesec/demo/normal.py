"""Normal users of the demo shop: customers browsing, searching, reading their own orders, printing
receipts and invoices, placing an order now and then; partners syncing a page of customers."""

from __future__ import annotations

import httpx

from tracesec.demo.seed import customer_email, customer_password, orders_of
from tracesec.demo.shop import PARTNER_KEYS
from tracesec.demo.visitors import BROWSER, MOBILE_APP, PARTNER_AGENT, Visitor, address

CUSTOMERS = range(1, 13)
PARTNERS = PARTNER_KEYS[:4]
"""The last partner key is the one that leaks in the exfiltration attack."""
_SEARCHES = ("lamp", "desk", "chair", "usb hub", "pen", "mat")


class NormalTraffic:
    def __init__(self, http: httpx.Client) -> None:
        self.customers = [
            Visitor(http, address(cid, cid), user_agent=MOBILE_APP if cid % 3 == 0 else BROWSER)
            for cid in CUSTOMERS
        ]
        self.partners = [
            Visitor(http, address(4, 200 + n), user_agent=PARTNER_AGENT, api_key=key)
            for n, key in enumerate(PARTNERS)
        ]
        self.rounds = 0

    def log_in(self) -> None:
        """Each customer logs in (the first mistypes the password once, as people do)."""
        for cid, visitor in zip(CUSTOMERS, self.customers, strict=True):
            if cid == 1:
                visitor.log_in(customer_email(cid), "correct-horse")
            visitor.log_in(customer_email(cid), customer_password(cid))

    def round(self) -> int:
        """One visit per customer (and a sync per partner every other round); the requests sent."""
        before = self._sent()
        for cid, visitor in zip(CUSTOMERS, self.customers, strict=True):
            order = orders_of(cid)[(self.rounds + cid) % 3]
            visitor.get("/api/products", limit=10)
            visitor.get("/api/search", q=_SEARCHES[(self.rounds + cid) % len(_SEARCHES)])
            visitor.get("/api/me")
            visitor.get("/api/orders")
            visitor.get(f"/api/orders/{order}")
            if (self.rounds + cid) % 4 == 0:
                visitor.get("/api/receipt", order=str(order))
                visitor.get("/api/invoices/download", file=f"invoice-{order}.txt")
            if (self.rounds + cid) % 6 == 0:
                visitor.post(
                    "/api/orders",
                    {"product_id": cid % 20 + 1, "quantity": 1, "card_number": "4111111111111111",
                     "cardholder_name": "Demo Customer"},
                )  # fmt: skip
        if self.rounds % 2 == 0:
            for partner in self.partners:
                partner.get("/api/partner/customers", limit=20)
        self.rounds += 1
        return self._sent() - before

    def _sent(self) -> int:
        return sum(len(visitor.replies) for visitor in (*self.customers, *self.partners))
