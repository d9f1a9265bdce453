"""The upload shapes of the audience exports: each destination's file header and how it normalises and hashes.

Each shape follows the destination's published spec for a customer-list file (checked 2026-11):

- Google Ads Customer Match, hashed upload (support.google.com/google-ads/answer/7476159 and the Google Ads API's
  UserIdentifier): headers `Email`, `Phone`; email trimmed and lower-cased, phone in E.164 (`+` and country code),
  each SHA-256, lowercase hex. The gmail/googlemail dot-removal rule is in Google's *enhanced conversions* spec,
  not Customer Match's, so dots are kept.
- Meta custom audience customer list (Marketing API multi-key schema `EMAIL`, `PHONE`; file headers `email`,
  `phone`): email trimmed and lower-cased; phone digits only with the country code, no `+`, no leading zeros (the
  E.164 digits); SHA-256 hex.
- TikTok customer file (Ads Manager, "How to create a Custom Audience with a customer file", Sept 2025): headers
  `Email_SHA256`, `Phone_SHA256`; email without spaces, lower case; phone E.164 with `+`; SHA-256 hex. (An older
  TikTok page also asked to strip `+tags` and dots from emails; the current one does not, so neither do we.)
- The e-mail tool (CRM / ESP contact import): `email`, `customer_key`, the address in clear, because sending needs
  it; only customers with e-mail-marketing consent are in it.

A contact without any usable identifier for a shape (no email and a phone that is not a possible number) is
left out of that file and counted (`ExportResult.unreachable`), never silently dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class Contact:
    customer_key: str
    email: str | None  # as int_customer_contacts holds it (valid emails only)
    phone: str | None  # as the CRM holds it
    country_code: str | None  # ISO 3166-1 alpha-2: the region a national phone number is read in


def normalized_email(email: str | None) -> str | None:
    """Trimmed, lower case; None when empty or not an address (every spec above agrees on this much)."""
    text = (email or "").strip().lower()
    return text if "@" in text else None


def e164(phone: str | None, country_code: str | None) -> str | None:
    """The phone in E.164 (`+<country code><number>`), read in the customer's country when it has no `+`; None when
    it cannot be a phone number (libphonenumber's length rules for that country)."""
    if not phone or not phone.strip():
        return None
    try:
        number = phonenumbers.parse(phone, (country_code or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class Reachable:
    """A contact as the destinations match on it: its normalised email and E.164 phone, None where unusable."""

    customer_key: str
    email: str | None
    phone: str | None


def reachable(contact: Contact) -> Reachable:
    """Normalise once per contact: parsing the phone (libphonenumber) is most of an export's time, and every shape
    reads the same two values."""
    return Reachable(contact.customer_key, normalized_email(contact.email), e164(contact.phone, contact.country_code))


def sha256_hex(text: str | None) -> str:
    """SHA-256 of the UTF-8 text as lowercase hex; the empty cell for a missing value."""
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


def _meta_phone(phone: str | None) -> str | None:
    return phone.lstrip("+") if phone else None


@dataclass(frozen=True)
class UploadShape:
    """One destination's file: its name, the audience channel (consent) it needs, header and row builder."""

    destination: str
    audience_channel: str
    header: tuple[str, ...]
    row: Callable[[str | None, str | None, str], tuple[str, ...]]  # (normalised email, E.164 phone, key) -> row

    def cells(self, contact: Contact) -> tuple[str, ...] | None:
        """The contact's row, or None when it has no identifier this destination can match on."""
        return self.reachable_cells(reachable(contact))

    def reachable_cells(self, contact: Reachable) -> tuple[str, ...] | None:
        """`cells` of a contact already normalised (`reachable`)."""
        if contact.email is None and (contact.phone is None or self.audience_channel == "email"):
            return None
        return self.row(contact.email, contact.phone, contact.customer_key)


SHAPES: tuple[UploadShape, ...] = (
    UploadShape(
        "google_ads_customer_match",
        "ad_platforms",
        ("Email", "Phone"),
        lambda email, phone, _: (sha256_hex(email), sha256_hex(phone)),
    ),
    UploadShape(
        "meta_custom_audience",
        "ad_platforms",
        ("email", "phone"),
        lambda email, phone, _: (sha256_hex(email), sha256_hex(_meta_phone(phone))),
    ),
    UploadShape(
        "tiktok_customer_file",
        "ad_platforms",
        ("Email_SHA256", "Phone_SHA256"),
        lambda email, phone, _: (sha256_hex(email), sha256_hex(phone)),
    ),
    UploadShape("email_contacts", "email", ("email", "customer_key"), lambda email, _, key: (email or "", key)),
)
