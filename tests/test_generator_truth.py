"""Ground truth beside the generated data: identities, dirt counts, increments, the loyalty programme."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orchestration.extract.ad_platforms import AD_PLATFORMS
from orchestration.extract.raw_contract import RAW_TABLES
from simulator.generator import loyalty
from simulator.generator.orders import FX_TO_USD, Orders
from simulator.generator.people import email_is_test
from simulator.retailer import generate, generate_with_truth
from tests.conftest import XS

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TEST_EMAIL = r"^test\+|@qa\.c360-internal\.test$"


def _measured_dirt(tables: dict[str, pa.Table]) -> dict[str, int]:
    """The dirt counts, measured from the delivered tables alone (as a data engineer would find them)."""
    customers, orders = tables["crm_customers"], tables["crm_orders"]
    emails = customers["email"]
    normalised = pc.utf8_lower(pc.utf8_trim_whitespace(emails)).drop_null()
    is_test = pc.fill_null(pc.match_substring_regex(emails, TEST_EMAIL), False)
    test_ids = customers.filter(is_test)["customer_id"]
    well_formed = pc.match_substring_regex(pc.utf8_trim_whitespace(emails), EMAIL)
    ordered_day = pc.cast(orders["ordered_at"], pa.date32())
    updated_day = pc.cast(orders["updated_at"], pa.date32())
    return {
        "duplicate_customer_records": len(normalised) - len(pc.unique(normalised)),
        "test_accounts": pc.sum(is_test).as_py(),
        "test_account_orders": pc.sum(pc.is_in(orders["customer_id"], test_ids)).as_py(),
        "null_emails": emails.null_count,
        "malformed_emails": pc.sum(pc.invert(well_formed)).as_py(),
        "lowercase_currency_orders": pc.sum(
            pc.not_equal(orders["currency"], pc.utf8_upper(orders["currency"]))
        ).as_py(),
        "refunded_orders": pc.sum(pc.equal(orders["status"], "refunded")).as_py(),
        "redelivered_orders": pc.sum(pc.greater(updated_day, ordered_day)).as_py(),
    }


def test_dirt_counts_equal_what_the_tables_show(xs_generated) -> None:
    tables, truth = xs_generated
    measured = _measured_dirt(tables)
    assert {k: truth["dirt"][k] for k in measured} == measured
    assert all(v > 0 for v in measured.values()), measured  # every kind of dirt is really there at XS


def _identifiers(tables: dict[str, pa.Table]) -> dict[str, set[str]]:
    customers, events = tables["crm_customers"], tables["ga4_events"]
    found = {"customer_id": customers["customer_id"], "email": customers["email"]}
    for column in ("user_pseudo_id", "user_id", *(p.click_id for p in AD_PLATFORMS)):
        found[column] = events[column]
    return {kind: set(values.drop_null().to_pylist()) for kind, values in found.items()}


def test_identities_cover_every_identifier_exactly_once(xs_generated) -> None:
    tables, truth = xs_generated
    ids = truth["identities"]
    assert ids.group_by(["identifier_type", "identifier"]).aggregate([]).num_rows == ids.num_rows
    for kind, values in _identifiers(tables).items():
        listed = set(ids.filter(pc.equal(ids["identifier_type"], kind))["identifier"].to_pylist())
        assert listed == values, kind
    # Every order of every customer record is attributed to the record's person.
    person = dict(zip(ids["identifier"].to_pylist(), ids["person_id"].to_pylist(), strict=True))
    attribution = truth["order_attribution"]
    assert attribution["order_id"].to_pylist() == tables["crm_orders"]["order_id"].to_pylist()
    owners = [person[c] for c in tables["crm_orders"]["customer_id"].to_pylist()]
    assert attribution["person_id"].to_pylist() == owners


def test_duplicate_records_and_devices_resolve_to_one_person(xs_generated) -> None:
    _, truth = xs_generated
    ids = truth["identities"].to_pandas()
    per_person = ids.groupby(["person_id", "identifier_type"]).size().unstack(fill_value=0)
    assert (per_person["customer_id"] == 2).sum() == truth["dirt"]["duplicate_customer_records"]
    assert (per_person["user_pseudo_id"] == 2).sum() > 0  # people on two devices


def test_anonymous_sessions_precede_the_first_login_on_a_device(xs_tables: dict[str, pa.Table]) -> None:
    events = xs_tables["ga4_events"].select(["user_pseudo_id", "user_id", "event_timestamp"]).to_pandas()
    events = events.sort_values(["user_pseudo_id", "event_timestamp"])
    logged = events["user_id"].notna()
    first_login = events[logged].groupby("user_pseudo_id")["event_timestamp"].min()
    anon = events[~logged].join(first_login.rename("first_login"), on="user_pseudo_id")
    before = anon["event_timestamp"] < anon["first_login"]
    assert before.sum() > 100  # browsing before signing up, later stitched by the login on that device


def test_ad_clicks_and_paid_sessions_are_consistent(xs_tables: dict[str, pa.Table]) -> None:
    events = xs_tables["ga4_events"]
    for platform in AD_PLATFORMS:
        sessions = len(pc.unique(events[platform.click_id].drop_null()))
        report = xs_tables[platform.raw_table]
        reported = pc.sum(report[platform.clicks_column]).as_py()
        # Every session had a click; some clicks none: ~10% bounces plus ~0.5 stray clicks per campaign-day (which
        # weigh more on a small platform such as TikTok at XS than on Google Ads).
        assert sessions < reported < 1.5 * sessions + report.num_rows, platform.name
    names = {n for p in AD_PLATFORMS for n in xs_tables[p.raw_table]["campaign_name"].to_pylist()}
    paid = events.filter(pc.is_valid(pc.coalesce(*(events[p.click_id] for p in AD_PLATFORMS))))
    assert set(paid["traffic_campaign"].to_pylist()) == names


def _purchase_sessions_per_day(events: pd.DataFrame, click_id: str, timezone: str) -> pd.DataFrame:
    """Per campaign (utm name), the sessions brought by a click of `click_id` that bought, counted on the date their
    first event falls on in `timezone` (column `account_day`) and in UTC (`utc_day`), from the GA4 export alone."""
    session = ["user_pseudo_id", "ga_session_id"]
    clicked = events.loc[events[click_id].notna(), session].drop_duplicates()
    sessions = (
        events.merge(clicked, on=session)
        .groupby(session)
        .agg(
            start=("event_timestamp", "min"),
            bought=("transaction_id", lambda ids: ids.notna().any()),
            campaign=("traffic_campaign", "first"),
        )
    )
    bought = sessions[sessions["bought"]]
    start = pd.to_datetime(bought["start"], unit="us", utc=True)
    return bought.assign(account_day=start.dt.tz_convert(timezone).dt.date, utc_day=start.dt.date)


def test_ad_reports_count_conversions_on_the_account_local_day(xs_tables: dict[str, pa.Table]) -> None:
    """Each platform reports days in its account's time zone: the final conversions of a campaign-day are exactly the
    sessions from its clicks that bought, dated in that zone (Python's zoneinfo on the GA4 UTC timestamps), and not
    the same sessions dated in UTC (which the reports used before). Days the report may still restate, and the
    first day, are left out."""
    events = xs_tables["ga4_events"].to_pandas()
    first, last = XS.start.date(), XS.end_date - timedelta(days=3)
    mismatched_utc_days = 0
    for p in AD_PLATFORMS:
        report = xs_tables[p.raw_table].to_pandas()
        (timezone,) = report[p.timezone_column].unique()
        report_day = pd.to_datetime(report[p.date_column]).dt.date
        final = report[(report_day > first) & (report_day <= last)]
        reported = final.set_index([final[p.campaign_name_column], report_day[final.index].rename("day")])
        sessions = _purchase_sessions_per_day(events, p.click_id, timezone)
        for column in ("account_day", "utc_day"):
            counted = sessions[(sessions[column] > first) & (sessions[column] <= last)]
            counted = counted.groupby(["campaign", counted[column].rename("day")]).size()
            both = pd.concat([reported[p.conversions_column], counted.rename("sessions")], axis=1).fillna(0)
            differing = int((both[p.conversions_column] != both["sessions"]).sum())
            if column == "account_day":
                assert differing == 0 and both["sessions"].sum() > 0, (p.name, timezone)
            else:
                mismatched_utc_days += differing
    assert mismatched_utc_days > 0  # the zones really move purchases across days (55 campaign-days on XS)


def _merge(batches: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    """What raw holds after loading the batches in order: later delivery wins per primary key."""
    merged = {}
    for spec in RAW_TABLES:
        frames = [b[spec.name].to_pandas().assign(_delivery=i) for i, b in enumerate(batches)]
        both = __import__("pandas").concat(frames).sort_values("_delivery", kind="stable")
        latest = both.drop_duplicates(list(spec.primary_key), keep="last").drop(columns="_delivery")
        merged[spec.name] = latest.sort_values(list(spec.primary_key)).reset_index(drop=True)
    return merged


def test_default_plus_increments_equals_the_later_default() -> None:
    days = 3
    increments = [generate(XS, increment=n) for n in range(1, days + 1)]
    merged = _merge([generate(XS), *increments])
    later = _merge([generate(replace(XS, end_date=XS.end_date + timedelta(days=days), anchor_date=XS.end_date))])
    for name in merged:
        assert merged[name].equals(later[name]), name
    first = increments[0]
    assert all(first[t.name].num_rows > 0 for t in RAW_TABLES if t.source != "crm" or t.name == "crm_orders")


def test_an_increment_holds_one_day_of_new_rows_late_events_and_restatements() -> None:
    tables, truth = generate_with_truth(XS, increment=1)
    day = XS.end_date + timedelta(days=1)
    event_day = pc.cast(pc.cast(tables["ga4_events"]["event_timestamp"], pa.timestamp("us", "UTC")), pa.date32())
    late = pc.sum(pc.less(event_day, pa.scalar(day))).as_py()
    assert late == truth["dirt"]["late_events"] > 0
    assert pc.max(event_day).as_py() == day
    updated = pc.cast(tables["crm_orders"]["updated_at"], pa.date32()).unique().to_pylist()
    assert updated == [day]
    ads_days = sorted(tables["google_ads_campaign_stats"]["segments_date"].unique().to_pylist())
    assert ads_days == [day - timedelta(days=3), day - timedelta(days=2), day - timedelta(days=1)]
    assert truth["parameters"]["increment"] == 1


def _orders(days: list[float], usd: list[float], member: list[int], refund_days: list[float] | None = None) -> Orders:
    n = len(days)
    return Orders(
        person=np.zeros(n, int),
        record=np.array(member),
        day=np.array(days, float),
        refund_day=np.array(refund_days if refund_days is not None else [np.inf] * n, float),
        usd=np.array(usd, float),
        total=np.array(usd, float),
        currency=np.full(n, "USD"),
        lines=pa.table({"x": [0]}),
        line_order=np.zeros(0, int),
        dropout_day=np.full(n, np.inf),
    )


def test_loyalty_redeems_in_blocks_and_expires_the_whole_balance() -> None:
    # Member 0: 600 + 600.9 (-> 600 points) reaches 1,200: one block of 500 redeemed (700 left); silent for over a
    # year: the 700 expire 365 days after the redemption; then a new 300.
    orders = _orders([0, 10, 500], [600, 600.9, 300], [0, 0, 0])
    record, kind, points, order_row, day = loyalty.ledger(orders, world_days=800)  # the 300 expire after 800
    delay = loyalty.EARN_DELAY_DAYS
    assert list(kind) == [0, 0, 1, 2, 0]
    assert list(points) == [600, 600, -500, -700, 300]
    assert list(order_row) == [0, 1, 1, -1, 2]
    assert day[3] == pytest.approx(10 + delay + loyalty.REDEEM_LAG_DAYS + loyalty.EXPIRY_DAYS)
    # Member 1: 2,730 points at once: redeems 4 blocks (2,000) leaving 730, in [500, 1000).
    record, kind, points, _, _ = loyalty.ledger(_orders([0], [2_730], [1]), world_days=100)
    assert list(points) == [2_730, -2_000]


def test_a_refund_reverses_the_points_its_order_earned_at_most_the_balance() -> None:
    # Member 0: 600 earned when ordered, refunded 5 days later: the 600 are reversed, nothing is left to expire.
    # Member 1: 800 and 400 (1,200: one block of 500 redeemed, 700 left); the 800 order is refunded: the reversal
    # takes the 700 left, not 800 (the balance never goes negative).
    orders = _orders([0, 0, 1], [600, 800, 400], [0, 1, 1], [5, 6, np.inf])
    record, kind, points, order_row, day = loyalty.ledger(orders, world_days=800)
    assert list(zip(record, kind, points, order_row, strict=True)) == [
        (0, 0, 600, 0), (1, 0, 800, 1), (1, 0, 400, 2), (1, 1, -500, 2), (0, 3, -600, 0), (1, 3, -700, 1)
    ]  # fmt: skip
    assert list(day[kind == 3]) == [5, 6]


def test_every_refunded_order_of_generated_data_reverses_what_it_earned(xs_tables: dict[str, pa.Table]) -> None:
    events = xs_tables["crm_loyalty_events"].to_pandas()
    orders = xs_tables["crm_orders"].to_pandas().set_index("order_id")
    refunded = set(orders.index[orders["status"] == "refunded"])
    earned = events[events["event_type"] == "earn"].set_index("order_id")["points"]
    reversed_ = events[events["event_type"] == "reversal"].set_index("order_id")["points"]
    # Every refunded order earned (points are credited when an order is placed) and was reversed on its refund.
    assert len(refunded) > 0 and set(reversed_.index) == refunded <= set(earned.index)
    assert (-reversed_ <= earned[reversed_.index]).all() and (-reversed_ == earned[reversed_.index]).mean() > 0.9
    at = events[events["event_type"] == "reversal"].set_index("order_id")["occurred_at"]
    assert (at == orders.loc[at.index, "updated_at"]).all()


def test_loyalty_ledger_of_generated_data_never_goes_negative_and_follows_the_rules() -> None:
    """On S data (a year: XS is too short for members to reach the redemption threshold)."""
    events = (
        generate(replace(XS, scale="S"))["crm_loyalty_events"]
        .to_pandas()
        .sort_values(["customer_id", "occurred_at", "loyalty_event_id"])
    )
    events["balance"] = events.groupby("customer_id")["points"].cumsum()
    assert (events["balance"] >= 0).all()
    redeem = events[events["event_type"] == "redeem"]
    assert len(redeem) > 0 and (redeem["points"] % loyalty.REDEEM_BLOCK == 0).all()
    before = redeem["balance"] - redeem["points"]
    assert (before >= loyalty.REDEEM_THRESHOLD).all() and (redeem["balance"] < loyalty.REDEEM_THRESHOLD).all()


def test_tiers_follow_the_thresholds() -> None:
    earned = np.array([0, 499, 500, 1_499, 1_500, 3_999, 4_000, 10_000])
    assert list(loyalty.tier_of(earned)) == [
        "Bronze", "Bronze", "Silver", "Silver", "Gold", "Gold", "Platinum", "Platinum"
    ]  # fmt: skip


def test_parameters_document_the_truth_and_the_programme(xs_generated) -> None:
    _, truth = xs_generated
    params = truth["parameters"]
    assert params["mbgnbd"] == {"r": 0.9, "alpha": 60.0, "a": 0.8, "b": 4.0}
    assert params["gamma_gamma"] == {"p": 6.0, "q": 4.0, "gamma": 40.0}
    assert params["loyalty_programme"]["tiers"] == {"Bronze": 0, "Silver": 500, "Gold": 1_500, "Platinum": 4_000}
    assert (params["scale"], params["seed"], params["end_date"]) == ("XS", 7, "2026-10-31")


def test_ad_spend_gives_a_realistic_roas_that_varies_by_campaign(xs_generated) -> None:
    """Last-touch ROAS from the truth (true attribution of completed orders, in USD, over each report's spend in USD)
    lies in a retailer's usual band per platform, and campaigns of one platform differ (each has its own CPC)."""
    tables, truth = xs_generated
    orders = tables["crm_orders"].to_pandas()
    orders = orders[orders["status"] == "completed"].merge(truth["order_attribution"].to_pandas(), on="order_id")
    orders["usd"] = orders["order_total"] * orders["currency"].str.upper().map(FX_TO_USD)
    revenue = orders.groupby(["last_touch_platform", "last_touch_campaign"])["usd"].sum()
    assert set(truth["parameters"]["ad_cost_per_click"]) == {p.name for p in AD_PLATFORMS}
    for p in AD_PLATFORMS:
        report = tables[p.raw_table].to_pandas()
        unit = 1e-6 if p.spend_unit == "micros" else 1.0
        spend = (
            (report[p.spend_column] * unit * report[p.currency_column].map(FX_TO_USD))
            .groupby(report[p.campaign_name_column])
            .sum()
        )
        campaign_revenue = revenue.loc[p.name].reindex(spend.index, fill_value=0.0)
        assert 2.0 <= campaign_revenue.sum() / spend.sum() <= 6.0, p.name
        roas = campaign_revenue / spend
        assert roas.max() / roas.min() >= 1.4, (p.name, roas.round(2).to_dict())


def test_real_customers_never_buy_below_unit_cost(xs_generated) -> None:
    """Every order line of a real customer is priced at or above its product's unit cost (in USD at the generator's
    own rates); only internal test accounts' token orders (1-5 USD, excluded from every mart) may be below it."""
    tables, _ = xs_generated
    customers = tables["crm_customers"]
    test_ids = set(customers.filter(email_is_test(customers["email"]))["customer_id"].to_pylist())
    lines = (
        tables["crm_order_lines"]
        .to_pandas()
        .merge(tables["crm_orders"].to_pandas()[["order_id", "customer_id", "currency"]], on="order_id")
        .merge(tables["crm_products"].to_pandas()[["product_id", "unit_cost_usd"]], on="product_id")
    )
    real = lines[~lines["customer_id"].isin(test_ids)]
    unit_price_usd = real["unit_price"] * real["currency"].str.upper().map(FX_TO_USD)
    assert len(real) > 1_000
    assert (unit_price_usd < real["unit_cost_usd"]).sum() == 0
