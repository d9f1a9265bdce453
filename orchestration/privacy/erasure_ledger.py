"""The erasure ledger: every identifier of an erased person, held only as a keyed hash, so that a later re-delivery
of that person by a source is recognised and kept out of raw (`ErasedSubjects.suppress`, called by `admit`).

Why a keyed hash and not the value: the ledger must outlive the person's data without being personal data in clear;
without the key a hash cannot be tested against a list of known emails or ids. The hash is HMAC-SHA256 under the PII
key of "erasure|<kind>|<value>": domain-separated from the published pseudonyms (HMAC of the bare value), so the
ledger cannot be joined to marts or to exports made before the erasure.

Why its own file (`$C360_DATA_DIR/erasure_ledger.duckdb`) and not a table of the warehouse: rebuilding the warehouse
from scratch (deleting warehouse.duckdb and reloading the landing folder) must still suppress the erased. Each row
also carries a fingerprint of the key that wrote it. A hash cannot be re-keyed (the values are gone), so after a key
rotation the rows written under a retired key are still recognised with that key (`C360_PII_KEY_RETIRED`), and new
rows are written under the current one; a row whose key is in neither makes the extract refuse to run (one line)
instead of silently letting erased people back in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from orchestration.extract.delivery import Reject
from orchestration.pseudonyms import pseudonymise
from orchestration.warehouse import connect_file

LEDGER_FILE = "erasure_ledger.duckdb"
ERASURES = "erasures"
#: Why a person was erased: a request (`c360 erase`) or a hard delete in the source CRM (crm_postgres_source).
REQUEST = "request"
SOURCE_DELETION = "source_deletion"

#: The kinds of identifier the ledger holds, and how a value is normalised before hashing.
CUSTOMER_ID, EMAIL, DEVICE, ORDER_ID = "customer_id", "email", "device", "order_id"
KINDS = (CUSTOMER_ID, EMAIL, DEVICE, ORDER_ID)

#: Raw table -> column -> kind: the columns by which a delivered row belongs to an erased person.
SUBJECT_COLUMNS: dict[str, dict[str, str]] = {
    "crm_customers": {"customer_id": CUSTOMER_ID, "email": EMAIL},
    "crm_orders": {"customer_id": CUSTOMER_ID, "order_id": ORDER_ID},
    "crm_order_lines": {"order_id": ORDER_ID},
    "crm_loyalty_events": {"customer_id": CUSTOMER_ID, "order_id": ORDER_ID},
    "crm_support_tickets": {"customer_id": CUSTOMER_ID},
    "crm_nps_responses": {"customer_id": CUSTOMER_ID},
    "crm_consents": {"customer_id": CUSTOMER_ID},
    "ga4_events": {"user_id": CUSTOMER_ID, "user_pseudo_id": DEVICE, "transaction_id": ORDER_ID},
}
#: Identifiers a suppressed row reveals that the ledger did not hold yet, learnt for the rest of the extract and kept:
#: a new CRM record under an erased email, a new order of an erased customer (its lines arrive in another table).
LEARNT_FROM_SUPPRESSED: dict[str, dict[str, str]] = {
    "crm_customers": {"customer_id": CUSTOMER_ID, "email": EMAIL},
    "crm_orders": {"order_id": ORDER_ID},
}

DDL = f"""
create table if not exists {ERASURES} (
    request_id varchar not null,
    requested_at timestamptz not null,
    reason varchar not null,
    identifier_kind varchar not null,
    identifier_hash varchar not null,
    key_fingerprint varchar not null,
    primary key (identifier_kind, identifier_hash)
)
"""


class LedgerKeyError(RuntimeError):
    """The ledger was written under another PII key: nobody erased could be recognised."""


def normalised(kind: str, values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Emails compare trimmed and lower-cased (as identity resolution compares them); ids as delivered, trimmed."""
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    return pc.utf8_lower(values) if kind == EMAIL else values


def identifier_hashes(kind: str, values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """The ledger hash of every value (nulls stay null), as fast as the published pseudonyms."""
    return pseudonymise(normalised(kind, values), key, prefix=f"erasure|{kind}|".encode())


def key_fingerprint(key: bytes) -> str:
    """Which key wrote a ledger row, without revealing it: HMAC of a fixed label, first 16 hex characters."""
    return hmac.new(key, b"c360 erasure ledger key check", hashlib.sha256).hexdigest()[:16]


def ledger_path(data_dir: Path) -> Path:
    return data_dir / LEDGER_FILE


def record_erasure(
    data_dir: Path, key: bytes, request_id: str, requested_at: datetime, reason: str, identifiers: dict[str, set[str]]
) -> int:
    """Add the hashes of `identifiers` (kind -> values) to the ledger; returns how many were new."""
    rows = [
        (kind, digest)
        for kind in KINDS
        for digest in identifier_hashes(kind, pa.array(sorted(identifiers.get(kind, ())), pa.string()), key).to_pylist()
    ]
    return _insert(ledger_path(data_dir), key, request_id, requested_at, reason, rows)


def _insert(path: Path, key: bytes, request_id: str, at: datetime, reason: str, rows: Iterable[tuple[str, str]]) -> int:
    rows = list(rows)
    if not rows:
        return 0
    with connect_file(path) as con:
        con.execute(DDL)
        before = con.execute(f"select count(*) from {ERASURES}").fetchall()[0][0]
        con.executemany(
            f"insert into {ERASURES} values (?, ?, ?, ?, ?, ?) on conflict do nothing",
            [[request_id, at, reason, kind, digest, key_fingerprint(key)] for kind, digest in rows],
        )
        return con.execute(f"select count(*) from {ERASURES}").fetchall()[0][0] - before


@dataclass
class ErasedSubjects:
    """The ledger's hashes in memory for one extract: `suppress` drops delivered rows of erased people."""

    key: bytes
    hashes: dict[str, set[str]] = field(default_factory=dict)  # kind -> identifier hashes under `key`
    learnt: dict[str, set[str]] = field(default_factory=dict)  # hashes found on suppressed rows, not in the ledger yet
    #: Rows written under retired keys: (retired key, kind -> hashes), recognised until the ledger holds none.
    retired: list[tuple[bytes, dict[str, set[str]]]] = field(default_factory=list)

    @classmethod
    def load(cls, data_dir: Path, key: bytes, retired_keys: Iterable[bytes] = ()) -> ErasedSubjects:
        path = ledger_path(data_dir)
        if not path.exists():
            return cls(key)
        with connect_file(path, read_only=True) as con:
            rows = con.execute(f"select identifier_kind, identifier_hash, key_fingerprint from {ERASURES}").fetchall()
        ring = {key_fingerprint(k): k for k in (*retired_keys, key)}
        unknown = sorted({fingerprint for _, _, fingerprint in rows} - set(ring))
        if unknown:
            raise LedgerKeyError(
                f"{path} holds rows written under another PII key (fingerprint {', '.join(unknown)}): erased people "
                "could not be recognised and would be loaded again; set C360_PII_KEY_RETIRED to the key that wrote "
                "them, or run with it as C360_PII_KEY (see README, Privacy: key rotation)"
            )
        by_key: dict[str, dict[str, set[str]]] = {}
        for kind, digest, fingerprint in rows:
            by_key.setdefault(fingerprint, {}).setdefault(kind, set()).add(digest)
        current = by_key.pop(key_fingerprint(key), {})
        return cls(key, current, retired=[(ring[f], hashes) for f, hashes in sorted(by_key.items())])

    def _rings(self) -> list[tuple[bytes, dict[str, set[str]]]]:
        return [(self.key, self.hashes), *self.retired]

    def _matches(self, kind: str, values: pa.Array | pa.ChunkedArray) -> pa.Array | None:
        """Which values the ledger holds under any of its keys (None: no hash of that kind under any key)."""
        hit = None
        for key, hashes in self._rings():
            known = hashes.get(kind)
            if not known:
                continue
            found = pc.fill_null(pc.is_in(identifier_hashes(kind, values, key), pa.array(sorted(known))), False)
            hit = found if hit is None else pc.or_(hit, found)
        return hit

    def suppress(self, table: str, rows: pa.Table) -> tuple[pa.Table, int]:
        """`rows` without those of erased people, and how many were dropped. Costs one HMAC per value of the
        table's subject columns and key, and only for a kind the ledger holds a hash of under that key."""
        hit = None
        for column, kind in SUBJECT_COLUMNS.get(table, {}).items():
            if column not in rows.column_names:
                continue
            found = self._matches(kind, rows[column])
            if found is not None:
                hit = found if hit is None else pc.or_(hit, found)
        if hit is None or not pc.any(hit).as_py():
            return rows, 0
        suppressed = rows.filter(hit)
        for column, kind in LEARNT_FROM_SUPPRESSED.get(table, {}).items():
            if column in suppressed.column_names:
                new = {h for h in identifier_hashes(kind, suppressed[column], self.key).to_pylist() if h}
                new -= self.hashes.setdefault(kind, set())
                self.hashes[kind] |= new
                self.learnt.setdefault(kind, set()).update(new)
        return rows.filter(pc.invert(hit)), suppressed.num_rows

    def suppress_rejects(self, table: str, rejects: list[Reject]) -> tuple[list[Reject], int]:
        """Rows a reader could not parse, without those of erased people (matched on the contract column names
        of the delivered record): they would otherwise be kept in the quarantine with the person's data."""
        columns = {c: k for c, k in SUBJECT_COLUMNS.get(table, {}).items() if any(h.get(k) for _, h in self._rings())}
        if not columns or not rejects:
            return rejects, 0
        kept = []
        for reject in rejects:
            try:
                record = json.loads(reject.record_json)
            except ValueError:
                record = None
            if isinstance(record, dict) and any(
                isinstance(record.get(c), str) and pc.any(self._matches(k, pa.array([record[c]]))).as_py()
                for c, k in columns.items()
            ):
                continue
            kept.append(reject)
        return kept, len(rejects) - len(kept)

    def keep_learnt(self, data_dir: Path, load_id: str, at: datetime) -> int:
        """Write what suppression learnt to the ledger (reason: the load that revealed it)."""
        rows = [(kind, digest) for kind, digests in self.learnt.items() for digest in sorted(digests)]
        self.learnt = {}
        return _insert(ledger_path(data_dir), self.key, f"load {load_id}", at, REQUEST, rows)
