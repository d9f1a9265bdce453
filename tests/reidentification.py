"""The re-identification attack on published data: what someone holding the CRM, GA4 and ad-click data would try
against every published value, without the PII key. Shared by the DuckDB file test (tests/test_pseudonyms.py) and
the PostgreSQL serving copy (tests/test_cli_output.py)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping

import pyarrow as pa


def naive_forms(raw: str) -> Iterator[str]:
    """The raw value and what an attacker would try: raw/lower/trimmed, hashed with SHA-256, MD5 and SHA-1, as hex
    (lower and upper case) and base64."""
    for text in {raw, raw.lower(), raw.strip(), raw.strip().lower()}:
        yield text
        for algorithm in (hashlib.sha256, hashlib.md5, hashlib.sha1):
            digest = algorithm(text.encode()).digest()
            yield digest.hex()
            yield digest.hex().upper()
            yield base64.b64encode(digest).decode()


#: CRM record ids that lead back to a person through the CRM (order, line, ledger entry, ticket): table, id column.
RECORD_IDS = {
    "order id": ("crm_orders", "order_id"),
    "order line id": ("crm_order_lines", "order_line_id"),
    "loyalty event id": ("crm_loyalty_events", "loyalty_event_id"),
    "ticket id": ("crm_support_tickets", "ticket_id"),
}


def known_identifiers(tables: Mapping[str, pa.Table]) -> dict[str, set[str]]:
    """What the attacker holds, per kind of identifier (and the warehouse's old unkeyed key formats), from the
    delivered tables: crm_customers and ga4_events, and the CRM record ids of the RECORD_IDS tables given."""

    def column(table: pa.Table, name: str) -> set[str]:
        return {v for v in table[name].to_pylist() if v}

    crm_customers, ga4_events = tables["crm_customers"], tables["ga4_events"]
    records = {kind: column(tables[t], c) for kind, (t, c) in RECORD_IDS.items() if t in tables}

    events = ga4_events.select(["user_pseudo_id", "event_id"]).to_pylist()
    people = crm_customers.select(["first_name", "last_name"]).to_pylist()
    return {
        "customer id": column(crm_customers, "customer_id"),
        "email": column(crm_customers, "email"),
        "phone": column(crm_customers, "phone"),
        "full name": {  # a first or last name alone is an ordinary word ('Account' is also a ticket category)
            f"{p['first_name']} {p['last_name']}" for p in people if p["first_name"] and p["last_name"]
        },
        "device id": column(ga4_events, "user_pseudo_id"),
        "login id": column(ga4_events, "user_id"),
        "click id": column(ga4_events, "gclid") | column(ga4_events, "fbclid") | column(ga4_events, "ttclid"),
        # the old unkeyed keys: md5 of a graph node label, md5 of device|first event
        "node label": {f"4|user_pseudo_id|{e['user_pseudo_id']}" for e in events},
        "device|event": {f"{e['user_pseudo_id']}|{e['event_id']}" for e in events},
        **records,
    }


def re_identified(known: dict[str, set[str]], published: set[str]) -> dict[str, int]:
    """Per kind: how many known identifiers some published value gives away (0 everywhere is the goal). Raises when
    a kind is empty: an attack with nothing to try proves nothing."""
    empty = [kind for kind, identifiers in known.items() if not identifiers]
    assert not empty, f"no known identifiers of kind {empty}"
    return {
        kind: sum(1 for raw in identifiers if any(form in published for form in naive_forms(raw)))
        for kind, identifiers in known.items()
    }
