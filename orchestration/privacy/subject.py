"""Who an erasure is about: the whole resolved person behind a CRM id or an email, and every value that identifies
them anywhere in the warehouse.

Identity resolution merges duplicate CRM records (shared email), the GA4 logins that are those ids, the devices that
logged in only as that person and the ad click ids those devices carried into one customer (`int_identity_graph`).
Erasing "customer C42" therefore erases that whole component: every CRM id and email in it, its devices and click
ids, every order, order line, loyalty entry, ticket, NPS response, consent event and GA4 event of those ids or
devices, and the keyed pseudonyms the marts hold for them (customer key, email pseudonym, and the row keys of its
facts). A device shared with somebody else is not in the component: only its events logged in as the person go.
Without an identity graph yet (no run has built it) the person is resolved from raw alone: CRM records sharing an
email, and the devices whose every login is one of the person's ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from orchestration.extract.ad_platforms import AD_PLATFORMS
from orchestration.privacy.erasure_ledger import CUSTOMER_ID, DEVICE, EMAIL, ORDER_ID, normalised
from orchestration.pseudonyms import pseudonymise

IDENTITY_GRAPH = ("intermediate", "int_identity_graph")
#: Columns of the marts whose values each belong to one person's row (collected for the subject's customer keys).
PERSON_ROW_KEYS = ("order_key", "order_line_key", "session_key", "visitor_key", "loyalty_event_key", "ticket_key")
#: Raw tables and the id column of each record that belongs to a customer id.
CUSTOMER_RECORDS = {
    "crm_loyalty_events": "loyalty_event_id",
    "crm_support_tickets": "ticket_id",
    "crm_nps_responses": "response_id",
    "crm_consents": "consent_event_id",
}


@dataclass
class Subject:
    """One erased person (or several, when a run erases every customer the source deleted)."""

    customer_ids: set[str] = field(default_factory=set)
    crm_records: int = 0  # CRM customer records found in raw (0 and no identity-graph match: nobody to erase)
    matched_graph: bool = False
    emails: set[str] = field(default_factory=set)  # normalised
    devices: set[str] = field(default_factory=set)
    order_ids: set[str] = field(default_factory=set)
    #: every other value identifying them in a table: emails as delivered, click ids, record ids, pseudonyms
    other_values: set[str] = field(default_factory=set)
    #: phones and names: never matched on (not unique), only looked for after the erasure, to prove they are gone
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    @property
    def found(self) -> bool:
        """Whether the warehouse holds anyone behind the ids / emails asked for (not just the values given)."""
        return bool(self.crm_records or self.matched_graph)

    def ledger_identifiers(self) -> dict[str, set[str]]:
        """What the erasure ledger keeps (as keyed hashes) to recognise a re-delivery."""
        return {CUSTOMER_ID: self.customer_ids, EMAIL: self.emails, DEVICE: self.devices, ORDER_ID: self.order_ids}

    def values(self) -> set[str]:
        """Every value whose row is deleted wherever it appears (exact match, any VARCHAR column)."""
        return self.customer_ids | self.emails | self.devices | self.order_ids | self.other_values

    def values_table(self) -> pa.Table:
        return pa.table({"v": pa.array(sorted(self.values()), pa.string())})


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _column(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> set[str]:
    return {r[0] for r in con.execute(sql, list(params)).fetchall() if r[0] is not None}


def resolve_subject(
    con: duckdb.DuckDBPyConnection, key: bytes, customer_ids: set[str] = frozenset(), emails: set[str] = frozenset()
) -> Subject:
    """The person behind `customer_ids` / `emails` in the warehouse open on `con` (read-only is enough)."""
    subject = Subject(
        customer_ids={c.strip() for c in customer_ids},
        emails=set(normalised(EMAIL, pa.array(sorted(emails), pa.string())).to_pylist()),
    )
    has_customers = _exists(con, "raw", "crm_customers")
    has_events = _exists(con, "raw", "ga4_events")
    _close_over_shared_emails(con, subject, has_customers)
    customer_keys: set[str] = set()
    if _exists(con, *IDENTITY_GRAPH):
        customer_keys = _from_identity_graph(con, subject)
        subject.matched_graph = bool(customer_keys)
        _close_over_shared_emails(con, subject, has_customers)
    elif has_events:
        subject.devices |= _column(
            con,
            "select user_pseudo_id from raw.ga4_events group by user_pseudo_id "
            "having bool_and(user_id is null or list_contains(?, user_id)) and bool_or(list_contains(?, user_id))",
            sorted(subject.customer_ids),
            sorted(subject.customer_ids),
        )
    _records(con, subject, has_customers, has_events)
    if subject.found:
        _pseudonyms(con, subject, key, customer_keys)
    return subject


def _close_over_shared_emails(con: duckdb.DuckDBPyConnection, subject: Subject, has_customers: bool) -> None:
    """CRM records sharing a normalised email are one person (identity rule 1): add them until nothing changes."""
    if not has_customers:
        return
    while True:
        rows = con.execute(
            "select customer_id, lower(trim(email)) from raw.crm_customers "
            "where list_contains(?, customer_id) or list_contains(?, lower(trim(email)))",
            [sorted(subject.customer_ids), sorted(subject.emails)],
        ).fetchall()
        ids = subject.customer_ids | {r[0] for r in rows}
        emails = subject.emails | {r[1] for r in rows if r[1]}
        if (ids, emails) == (subject.customer_ids, subject.emails):
            return
        subject.customer_ids, subject.emails = ids, emails


def _from_identity_graph(con: duckdb.DuckDBPyConnection, subject: Subject) -> set[str]:
    """Every identifier of the components holding the subject's ids or emails, and its graph node id; returns their
    customer keys."""
    schema, table = IDENTITY_GRAPH
    keys = _column(
        con,
        f"select distinct customer_key from {schema}.{table} where (identifier_type = 'customer_id' and "
        "list_contains(?, identifier)) or (identifier_type = 'email' and list_contains(?, identifier))",
        sorted(subject.customer_ids),
        sorted(subject.emails),
    )
    rows = con.execute(
        f"select identifier_type, identifier, identity_node from {schema}.{table} where list_contains(?, customer_key)",
        [sorted(keys)],
    ).fetchall()
    for kind, identifier, node in rows:
        subject.other_values.add(node)  # the graph's node id of the identifier: its rows in int_identity_edges
        if kind in ("customer_id", "user_id"):
            subject.customer_ids.add(identifier)
        elif kind == "email":
            subject.emails.add(identifier)
        elif kind == "user_pseudo_id":
            subject.devices.add(identifier)
        else:  # an ad platform's click id
            subject.other_values.add(identifier)
    return keys


def _records(con: duckdb.DuckDBPyConnection, subject: Subject, has_customers: bool, has_events: bool) -> None:
    ids = sorted(subject.customer_ids)
    if has_customers:
        records = con.execute(
            "select email, phone, first_name, last_name from raw.crm_customers where list_contains(?, customer_id)",
            [ids],
        ).fetchall()
        subject.crm_records = len(records)
        for email, phone, first, last in records:
            subject.other_values |= {email} - {None}
            subject.phones |= {phone} - {None}
            subject.names |= {" ".join(n for n in (first, last) if n)} - {""}
    if _exists(con, "raw", "crm_orders"):
        subject.order_ids |= _column(
            con, "select order_id from raw.crm_orders where list_contains(?, customer_id)", ids
        )
    if _exists(con, "raw", "crm_order_lines"):
        subject.other_values |= _column(
            con,
            "select order_line_id from raw.crm_order_lines where list_contains(?, order_id)",
            sorted(subject.order_ids),
        )
    for table, id_column in CUSTOMER_RECORDS.items():
        if _exists(con, "raw", table):
            subject.other_values |= _column(
                con, f"select {id_column} from raw.{table} where list_contains(?, customer_id)", ids
            )
    if has_events:
        click_ids = ", ".join(p.click_id for p in AD_PLATFORMS)
        for row in con.execute(
            f"select event_id, {click_ids} from raw.ga4_events "
            "where list_contains(?, user_pseudo_id) or list_contains(?, user_id)",
            [sorted(subject.devices), ids],
        ).fetchall():
            subject.other_values |= set(row) - {None}


def _pseudonyms(con: duckdb.DuckDBPyConnection, subject: Subject, key: bytes, customer_keys: set[str]) -> None:
    """The keyed pseudonyms the marts hold for the person, and the row keys of their facts."""
    customer_keys |= set(pseudonymise(pa.array(sorted(subject.customer_ids)), key).to_pylist())
    subject.other_values |= customer_keys
    subject.other_values |= set(pseudonymise(pa.array(sorted(subject.emails)), key).to_pylist())
    tables = con.execute(  # tables only: a view may call the keyed function, which only dbt's connection has
        "select c.table_schema, c.table_name, list(c.column_name) from information_schema.columns c "
        "join information_schema.tables t using (table_catalog, table_schema, table_name) "
        "where c.table_catalog = current_database() and t.table_type = 'BASE TABLE' group by all "
        "having list_contains(list(c.column_name), 'customer_key')"
    ).fetchall()
    for schema, table, columns in tables:
        for column in (c for c in PERSON_ROW_KEYS if c in columns):
            subject.other_values |= _column(
                con,
                f'select distinct "{column}" from "{schema}"."{table}" where list_contains(?, customer_key)',
                sorted(customer_keys),
            )
