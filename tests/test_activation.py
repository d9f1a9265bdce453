"""Activation (issue 16): every run exports its consented audiences in the ad platforms' customer-list shapes and an
e-mail contact shape, normalised and hashed as each spec says, private to the owner, with exactly the members of
`mart_audience_members`, and only customers whose consent (per the generator's truth) allows it."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.activation.exports import MANIFEST, scrub_exports
from orchestration.activation.formats import SHAPES, Contact, e164, normalized_email, sha256_hex
from orchestration.publish.retention import prune_activation_exports
from tests.conftest import Baseline

HEADERS = {
    "google_ads_customer_match": ["Email", "Phone"],
    "meta_custom_audience": ["email", "phone"],
    "tiktok_customer_file": ["Email_SHA256", "Phone_SHA256"],
    "email_contacts": ["email", "customer_key"],
}
SHAPE = {shape.destination: shape for shape in SHAPES}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_normalisation_and_hashing_follow_the_specs() -> None:
    # TikTok's own example: "janedoe@gmail.com" hashes to d611...6c69 (its customer-file spec).
    assert sha256_hex(normalized_email("  JaneDoe@Gmail.com ")) == (
        "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"
    )
    assert normalized_email("Jane.Doe@gmail.com") == "jane.doe@gmail.com"  # Customer Match keeps gmail dots
    assert normalized_email("   ") is None and normalized_email(None) is None
    assert e164("(657) 777-0000", "US") == "+16577770000"
    assert e164("030 1234567", "de") == "+49301234567"
    assert e164("+44 20 7183 8750", "US") == "+442071838750"  # an explicit country code wins
    assert e164("12", "US") is None and e164("call me", "US") is None and e164(None, "US") is None
    contact = Contact("k1", " Ann@Example.org", "(657) 777-0000", "US")
    assert SHAPE["google_ads_customer_match"].cells(contact) == (_sha("ann@example.org"), _sha("+16577770000"))
    assert SHAPE["tiktok_customer_file"].cells(contact) == (_sha("ann@example.org"), _sha("+16577770000"))
    assert SHAPE["meta_custom_audience"].cells(contact) == (_sha("ann@example.org"), _sha("16577770000"))
    assert SHAPE["email_contacts"].cells(contact) == ("ann@example.org", "k1")
    phone_only = Contact("k2", None, "+16577770000", "US")
    assert SHAPE["google_ads_customer_match"].cells(phone_only) == ("", _sha("+16577770000"))
    assert SHAPE["email_contacts"].cells(phone_only) is None  # no address, no e-mail row
    assert SHAPE["meta_custom_audience"].cells(Contact("k3", None, "123", "US")) is None
    assert {shape.destination: list(shape.header) for shape in SHAPES} == HEADERS


def test_retention_keeps_the_exports_of_the_kept_versions_only(tmp_path: Path) -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    ages = {"run-a": 40, "run-b": 5, "run-c": 3, "run-d": 2, "run-e": 1}
    for name, days in ages.items():
        (tmp_path / name).mkdir()
        stamp = (now - timedelta(days=days)).timestamp()
        os.utime(tmp_path / name, (stamp, stamp))
    (tmp_path / ".run-f.partial").mkdir()  # an export being written is not a run folder
    assert sorted(prune_activation_exports(tmp_path, keep=3, days=30, now=now)) == ["run-a"]
    assert sorted(prune_activation_exports(tmp_path, keep=2, days=30, now=now)) == ["run-b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run-f.partial", "run-c", "run-d", "run-e"]
    assert prune_activation_exports(tmp_path / "missing", keep=3, days=30, now=now) == []


def test_an_erasure_removes_the_persons_rows_from_every_kept_export(tmp_path: Path) -> None:
    """Erasure (orchestration/privacy/erasure.py) hands the person's cells (hashes in each shape, address, key) to
    scrub_exports: their rows leave every run's files, the others stay byte for byte, manifests follow, modes stay."""
    gone = Contact("key-gone", "Gone@Example.com ", "+44 20 7946 0018", "GB")
    kept = Contact("key-kept", "kept@example.com", None, "US")
    cells = {c for shape in SHAPES for c in shape.cells(gone) or ()} - {""}
    for run in ("run-1", "run-2"):
        folder = tmp_path / run / "champions"
        folder.mkdir(parents=True)
        rows = {}
        for shape in SHAPES:
            lines = [shape.cells(c) for c in (kept, gone)]
            path = folder / f"{shape.destination}.csv"
            path.write_text("\n".join(",".join(line) for line in [shape.header, *lines]) + "\n", encoding="utf-8")
            path.chmod(0o600)
            rows[shape.destination] = 2
        (tmp_path / run / MANIFEST).write_text(json.dumps({"run_id": run, "rows": {"champions": rows}}))
    kept_rows = {shape.destination: list(shape.cells(kept)) for shape in SHAPES}

    removed = scrub_exports(tmp_path, cells)

    assert removed == {f"{run}/champions/{s.destination}.csv": 1 for run in ("run-1", "run-2") for s in SHAPES}
    for run in ("run-1", "run-2"):
        for shape in SHAPES:
            path = tmp_path / run / "champions" / f"{shape.destination}.csv"
            assert _read(path) == (list(shape.header), [kept_rows[shape.destination]])
            assert path.stat().st_mode & 0o777 == 0o600
            assert not any(cell.encode() in path.read_bytes() for cell in cells)
        manifest = json.loads((tmp_path / run / MANIFEST).read_text())
        assert manifest["rows"]["champions"] == {shape.destination: 1 for shape in SHAPES}
    assert scrub_exports(tmp_path, cells) == {}  # nothing left to remove


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _export(baseline: Baseline) -> Path:
    return baseline.settings.activation_dir / baseline.outcome.run_id


@pytest.mark.slow
def test_every_audience_is_exported_in_every_shape_with_the_mart_counts(xs_baseline: Baseline) -> None:
    folder = _export(xs_baseline)
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        sizes = {
            (a, c): n for a, c, n in con.execute("select * exclude (as_of_date) from mart_audience_sizes").fetchall()
        }
        counted = con.execute(
            "select audience, audience_channel, count(*) from mart_audience_members group by all"
        ).fetchall()
        members = {(a, c): n for a, c, n in counted}
    assert {a for a, _ in sizes} == {"champions", "high_value_at_risk", "lapsed_loyalty_members"}
    assert {k: v for k, v in sizes.items() if v} == members
    assert all(sizes[(a, "ad_platforms")] > 0 for a, _ in sizes), sizes  # XS has members in every audience

    assert os.stat(folder.parent).st_mode & 0o777 == 0o700
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o600"}
    assert {oct(p.stat().st_mode & 0o777) for p in folder.rglob("*") if p.is_dir()} | {
        oct(folder.stat().st_mode & 0o777)
    } == {"0o700"}
    assert len(files) == 1 + len({a for a, _ in sizes}) * len(SHAPES)

    for (audience, channel), count in sizes.items():
        for shape in SHAPES:
            if shape.audience_channel != channel:
                continue
            header, rows = _read(folder / audience / f"{shape.destination}.csv")
            assert header == HEADERS[shape.destination]
            assert len(rows) == count, (audience, shape.destination)
            if channel == "ad_platforms":
                assert all(len(cell) in (0, 64) and cell == cell.lower() for row in rows for cell in row)
                assert all(any(row) for row in rows)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["members"] == {a: {c: n for (a2, c), n in sizes.items() if a2 == a} for a in {a for a, _ in sizes}}
    assert all(n == 0 for files in manifest["unreachable"].values() for n in files.values())

    event = xs_baseline.instance.get_latest_materialization_event(dg.AssetKey(["published", "activation"]))
    assert event.asset_materialization.metadata["members"].value == manifest["members"]


@pytest.mark.slow
def test_only_consented_customers_leave_and_their_hashes_are_their_real_contacts(
    xs_baseline: Baseline, xs_tables: dict, xs_truth: dict
) -> None:
    customers = xs_tables["crm_customers"].to_pandas()
    ids = xs_truth["identities"].to_pandas()
    person_of = ids[ids["identifier_type"] == "customer_id"].set_index("identifier")["person_id"]
    customers["person_id"] = customers["customer_id"].map(person_of)
    email_person = {
        e.strip().lower(): p
        for e, p in zip(customers["email"], customers["person_id"], strict=True)
        if isinstance(e, str) and "@" in e
    }
    hashed_email_person = {_sha(e): p for e, p in email_person.items()}
    phones = [(ph, p) for ph, p in zip(customers["phone"], customers["person_id"], strict=True) if isinstance(ph, str)]
    phone_person = {_sha(ph): p for ph, p in phones}
    meta_phone_person = {_sha(ph.lstrip("+")): p for ph, p in phones}
    consents = xs_truth["consents"].to_pandas()
    granted = {
        channel: set(group["person_id"])
        for channel, group in consents[consents["status"] == "granted"].groupby("channel")
    }

    folder = _export(xs_baseline)
    checked = 0
    for audience_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        _, google = _read(audience_dir / "google_ads_customer_match.csv")
        for email_hash, phone_hash in google:
            person = hashed_email_person.get(email_hash) or phone_person.get(phone_hash)
            assert person is not None, "a hash that is no customer's normalised email or E.164 phone"
            if email_hash and phone_hash:
                assert phone_person[phone_hash] == hashed_email_person[email_hash]  # one person's row
            assert person in granted["ad_personalisation"] and person in granted["profiling"]
            checked += 1
        _, emails = _read(audience_dir / "email_contacts.csv")
        for email, _key in emails:
            assert email == email.strip().lower()
            assert email_person[email] in granted["email"] and email_person[email] in granted["profiling"]
            checked += 1
        _, meta = _read(audience_dir / "meta_custom_audience.csv")
        _, tiktok = _read(audience_dir / "tiktok_customer_file.csv")
        assert [row[0] for row in meta] == [row[0] for row in google] == [row[0] for row in tiktok]
        assert [row[1] for row in tiktok] == [row[1] for row in google]  # E.164 with '+'
        for meta_row, google_row in zip(meta, google, strict=True):  # Meta: the E.164 digits without '+'
            if meta_row[1]:
                assert meta_phone_person[meta_row[1]] == phone_person[google_row[1]]
    assert checked > 50, checked
