"""People and their CRM customer records, with the record-level dirt a real CRM has.

A *person* is the ground-truth individual. Signed-up persons get one CRM record; a few get a second one later (a
duplicate whose email differs only in casing or surrounding whitespace). Test / internal accounts are records of no
real customer. Some records have no email or a malformed one. Record ids are assigned in signup order over the whole
simulated world, so a later day's new customers get the next ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simulator.generator.channels import FIRST_VISIT_WEIGHTS, MEDIUMS, SOURCES
from simulator.generator.common import rng
from simulator.generator.generator_config import GeneratorConfig

COUNTRIES = np.array(["US", "GB", "DE", "FR", "NL"])
COUNTRY_WEIGHTS = np.array([0.60, 0.15, 0.10, 0.10, 0.05])
COUNTRY_CURRENCY = np.array(["USD", "GBP", "EUR", "EUR", "EUR"])  # by COUNTRIES index
FIRST_NAMES = "Ada Ben Chloe David Emma Farid Grace Hugo Ines Jon Kemi Liam Maya Noah Olga Pavel Quinn Rosa Sven Tara"
FIRST_NAMES = FIRST_NAMES.split()
LAST_NAMES = (
    "Smith Jones Garcia Müller Dubois Rossi Novak Okafor Tanaka Silva Brown Jansen Kowalski Nguyen Larsen Haddad"
)
LAST_NAMES = LAST_NAMES.split()

#: Record-level dirt rates (share of signed-up persons).
DUPLICATE_RATE = 0.02
NULL_EMAIL_RATE = 0.01
MALFORMED_EMAIL_RATE = 0.005
#: Internal accounts: one per this many signups (at least 3); their emails use these patterns.
CUSTOMERS_PER_TEST_ACCOUNT = 500
TEST_EMAIL_DOMAIN = "qa.c360-internal.test"
TEST_EMAIL_PREFIX = "test+"


@dataclass(frozen=True)
class People:
    """Persons 0..n_signed-1 signed up (CRM); then n_test internal test accounts; then anonymous visitors who never
    sign up."""

    n_signed: int
    n_test: int
    n_anonymous: int
    signup_day: np.ndarray  # per signed person
    country: np.ndarray  # COUNTRIES index per signed person
    acquisition: np.ndarray  # CHANNELS index of the first web visit, per signed person
    email_optin: np.ndarray  # email marketing consent given at signup, per signed person
    records: Records


@dataclass(frozen=True)
class Records:
    """CRM customer records over the whole world, in id order (id i+1 = row i)."""

    person: np.ndarray  # person index; test accounts get persons after every real one
    signup_day: np.ndarray
    kind: np.ndarray  # 0 primary, 1 duplicate, 2 test account
    table: pa.Table  # crm_customers columns except the arrival bookkeeping
    record_of_person: np.ndarray  # primary record row per signed person
    duplicate_of_person: np.ndarray  # duplicate record row per signed person, -1 if none
    duplicate_since: np.ndarray  # signup day of the duplicate (inf if none)

    @property
    def customer_id(self) -> pa.Array:
        return self.table["customer_id"].combine_chunks()


def _email_local(person: np.ndarray, first: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add(np.char.lower(np.asarray(FIRST_NAMES)[first]), "."), person.astype(str))


def make_people(config: GeneratorConfig) -> People:
    g = rng(config.world_seed, 1)
    days, world = config.size.days, config.universe_days
    n_hist = config.size.customers
    n_future = round(n_hist * (world - days) / days)
    signup = np.concatenate([np.sort(g.uniform(0, days, n_hist)), np.sort(g.uniform(days, world, n_future))])
    n = len(signup)
    country = g.choice(len(COUNTRIES), n, p=COUNTRY_WEIGHTS)
    first = g.integers(0, len(FIRST_NAMES), n)
    last = g.integers(0, len(LAST_NAMES), n)
    phone = np.char.add("+1555", np.char.zfill(g.integers(0, 10_000_000, n).astype(str), 7))
    email = np.char.add(_email_local(np.arange(n), first), "@example.com").astype(object)
    email_optin = g.random(n) < 0.55
    acquisition = g.choice(len(SOURCES), n, p=FIRST_VISIT_WEIGHTS)  # channel of the person's first web visit

    # Dirt on primary records: null and malformed emails (never on persons who get a duplicate record).
    has_dup = g.random(n) < DUPLICATE_RATE
    dup_day = signup + g.uniform(10, 200, n)
    has_dup &= dup_day < world
    u = g.random(n)
    null_email = ~has_dup & (u < NULL_EMAIL_RATE)
    malformed = ~has_dup & (u >= NULL_EMAIL_RATE) & (u < NULL_EMAIL_RATE + MALFORMED_EMAIL_RATE)
    # A few rows (0.5%): a short comprehension is fine here.
    broken = [e.replace("@", "", 1) if i % 2 else e.replace(".com", "") for i, e in enumerate(email[malformed])]
    email_primary = email.copy()
    email_primary[malformed] = broken
    email_primary[null_email] = None

    # Duplicates: same person, email in other casing or with surrounding whitespace.
    dup_person = np.flatnonzero(has_dup)
    styles = g.integers(0, 3, len(dup_person))
    variants = (str.upper, str.title, lambda e: f" {e} ")
    dup_email = np.array([variants[s](e) for e, s in zip(email[dup_person], styles, strict=True)], dtype=object)

    # Test / internal accounts.
    n_test = max(3, n_hist // CUSTOMERS_PER_TEST_ACCOUNT)
    test_day = np.sort(g.uniform(0, world, n_test))
    test_email = np.array(
        [f"{TEST_EMAIL_PREFIX}{i}@example.com" if i % 2 else f"qa{i}@{TEST_EMAIL_DOMAIN}" for i in range(n_test)],
        dtype=object,
    )

    person = np.concatenate([np.arange(n), dup_person, n + np.arange(n_test)])
    kind = np.concatenate([np.zeros(n, np.int8), np.ones(len(dup_person), np.int8), np.full(n_test, 2, np.int8)])
    day = np.concatenate([signup, dup_day[dup_person], test_day])
    emails = np.concatenate([email_primary, dup_email, test_email])
    order = np.lexsort((kind, day))
    person, kind, day, emails = person[order], kind[order], day[order], emails[order]
    rows = np.empty(len(order), np.int64)
    rows[order] = np.arange(len(order))
    record_of_person = rows[:n]
    duplicate_of_person = np.full(n, -1, np.int64)
    duplicate_of_person[dup_person] = rows[n : n + len(dup_person)]
    duplicate_since = np.full(n, np.inf)
    duplicate_since[dup_person] = dup_day[dup_person]

    real = kind < 2
    p = np.where(real, person, 0)
    channel = acquisition[p]
    table = pa.table(
        {
            "email": pa.array(emails, pa.string()),
            "first_name": pa.array(np.where(real, np.asarray(FIRST_NAMES)[first[p]], "Test"), pa.string()),
            "last_name": pa.array(np.where(real, np.asarray(LAST_NAMES)[last[p]], "Account"), pa.string()),
            "phone": pa.array(np.where(real, phone[p], None), pa.string()),
            "country_code": pa.array(np.where(real, COUNTRIES[country[p]], "US")),
            "acquisition_source": pa.array(np.where(real, np.array(SOURCES)[channel], None), pa.string()),
            "acquisition_medium": pa.array(np.where(real, np.array(MEDIUMS)[channel], None), pa.string()),
            "accepts_marketing": pa.array(np.where(real, email_optin[p], False)),
        }
    )
    records = Records(
        person=person,
        signup_day=day,
        kind=kind,
        table=table,
        record_of_person=record_of_person,
        duplicate_of_person=duplicate_of_person,
        duplicate_since=duplicate_since,
    )
    n_anon = round(config.size.anonymous_visitors * world / days)
    return People(
        n_signed=n,
        n_test=n_test,
        n_anonymous=n_anon,
        signup_day=signup,
        country=country,
        acquisition=acquisition,
        email_optin=email_optin,
        records=records,
    )


def test_account_person(records: Records, n_signed: int) -> np.ndarray:
    return records.person[records.kind == 2] - n_signed


def currency_of_person(people: People) -> np.ndarray:
    return COUNTRY_CURRENCY[people.country]


def email_is_test(emails: pa.Array) -> np.ndarray:
    """How the warehouse can recognise an internal account: its email pattern."""
    values = emails.to_numpy(zero_copy_only=False)
    return np.array(
        [isinstance(e, str) and (e.startswith(TEST_EMAIL_PREFIX) or e.endswith(TEST_EMAIL_DOMAIN)) for e in values],
        dtype=bool,
    )
