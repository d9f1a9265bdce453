"""A retailer's own CRM export, written by hand in the vendor shapes the files source documents (README "Pointing it
at your own data"): HubSpot contacts and Shopify orders, nothing else. Not from the generator, so the files source is
tested on input nobody in this project produced."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

CONTACTS_HEADER = [
    "Record ID",
    "Email",
    "First Name",
    "Last Name",
    "Phone Number",
    "Country/Region",
    "Original Source",
    "Original Source Drill-Down 1",
    "Accepts Marketing",
    "Create Date",
    "Last Modified Date",
]
ORDERS_HEADER = ["Name", "Id", "Customer ID", "Created at", "Currency", "Total", "Financial Status", "Updated at"]
#: Shop-local UTC offsets per country (Shopify writes order times in them); None = no country on the record.
OFFSETS = {"US": -5, "GB": 0, "DE": 1, None: 0}


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    ordered_at: datetime  # UTC
    currency: str
    total: Decimal
    refunded: bool


@dataclass(frozen=True)
class CrmDelivery:
    customers: list[str]  # customer ids
    orders: list[Order]

    @property
    def completed(self) -> list[Order]:
        return [o for o in self.orders if not o.refunded]

    @property
    def newest_date(self) -> date:
        return max(o.ordered_at for o in self.orders).date()


def write_crm_only(
    landing: Path, start: date, end: date, customers: int = 400, zero_order: bool = True, seed: int = 11
) -> CrmDelivery:
    """`crm/contacts.csv` and `crm/orders.csv` under `landing` (the files source's folder): customers signing up
    over [start, end), repeat buyers, a refunded order, a $0 order (when `zero_order`), records without email or
    country. All money in USD. Returns what was written, for the test's own sums."""
    rng = random.Random(seed)
    days = (end - start).days
    contacts, orders = [], []
    for i in range(customers):
        cid = f"C{i:05d}"
        country = rng.choice(["US", "US", "GB", "DE", None])
        signed_up = datetime.combine(start, datetime.min.time(), UTC) + timedelta(
            days=rng.randrange(days - 1), seconds=rng.randrange(86_400)
        )
        contacts.append(
            [
                cid,
                "" if i % 7 == 0 else f"shopper{i}@mail.example.org",  # every 7th record has no email
                f"First{i}",
                f"Last{i}",
                "",
                country or "",
                rng.choice(["", "google", "newsletter"]),
                "",
                rng.choice(["yes", "no"]),
                signed_up.strftime("%Y-%m-%d %H:%M:%S"),
                signed_up,  # Last Modified Date: HubSpot moves it with the contact's last order (below)
            ]
        )
        when = signed_up
        rate_days = rng.uniform(40, 400)
        spend_rate = rng.gammavariate(4.0, 1 / 50)  # Gamma-Gamma: each customer's own mean order value
        while True:
            when = when + timedelta(days=rng.expovariate(1 / rate_days), seconds=rng.randrange(3_600))
            if when.date() >= end or (orders and rng.random() < 0.03):
                break
            total = Decimal(f"{max(rng.gammavariate(6.0, 1 / spend_rate), 1.0):.2f}")
            orders.append(Order(f"{1000 + len(orders)}", cid, when, "USD", total, rng.random() < 0.04))
    if zero_order:  # a $0 repeat purchase (a fully discounted order) by a customer who already bought
        first = orders[0]
        orders.append(
            Order("999999", first.customer_id, first.ordered_at + timedelta(days=30), "USD", Decimal(0), False)
        )
    if not any(o.refunded for o in orders):
        orders[1] = Order(**{**orders[1].__dict__, "refunded": True})
    last_order = {o.customer_id: o.ordered_at for o in orders}
    for c in contacts:
        c[10] = max(c[10], last_order.get(c[0], c[10])).strftime("%Y-%m-%d %H:%M:%S")
    country = {c[0]: c[5] or None for c in contacts}
    rows = []
    for o in orders:
        zone = timezone(timedelta(hours=OFFSETS[country[o.customer_id]]))
        local = o.ordered_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %z")
        updated = (o.ordered_at + timedelta(days=20 if o.refunded else 0)).astimezone(zone)
        status = "refunded" if o.refunded else "paid"
        rows.append([f"#{o.order_id}", o.order_id, o.customer_id, local, o.currency, f"{o.total:.2f}", status])
        rows[-1].append(updated.strftime("%Y-%m-%d %H:%M:%S %z"))
    write_csv(landing / "crm" / "contacts.csv", CONTACTS_HEADER, contacts)
    write_csv(landing / "crm" / "orders.csv", ORDERS_HEADER, rows)
    return CrmDelivery([c[0] for c in contacts], orders)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
