"""Consent gates marketing (issue 14): the audiences mart equals the generator's truth of who consented to what, a
withdrawal takes a Champion out of the email audience on the next run while analytics keep them, and on PostgreSQL
the activation role reads the audiences and nothing else.

The consent model's rules themselves (latest event per person and channel over merged records, withdrawal wins a
tie, no event = no consent) are dbt unit tests on a hand-built ledger
(`consent_latest_event_per_person_and_channel_wins` in models/intermediate/privacy/_privacy__models.yml); every
pipeline run executes them, so the baseline run below fails if they do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg2
import pyarrow as pa
import pytest

from c360_cli.main import main as cli_main
from orchestration.publish.assets import activation_marts, marts_to_publish
from orchestration.publish.pg_roles import ServingRoles
from orchestration.publish.postgres_serving import publish_to_postgres
from orchestration.transform.project import dbt_project
from tests.conftest import Baseline, copy_baseline
from tests.postgres_fixtures import (  # noqa: F401  (fixtures)
    activation_role_fixture,
    reader_role_fixture,
    throwaway_database,
)

AUDIENCE_CONSENT = {"email": "email", "sms": "sms", "ad_platforms": "ad_personalisation"}


def _published(baseline: Baseline, query: str) -> list[tuple]:
    with duckdb.connect(str(baseline.settings.published_path), read_only=True) as con:
        return con.execute(query).fetchall()


def _granted(truth: dict[str, object]) -> dict[str, set[str]]:
    """Persons whose current consent (generator truth) is a grant, per consent channel."""
    consents = truth["consents"].to_pandas()
    granted = consents[consents["status"] == "granted"]
    return {channel: set(group["person_id"]) for channel, group in granted.groupby("channel")}


def test_generator_delivers_every_consent_channel_with_withdrawals_and_ccpa_opt_outs(
    xs_tables: dict[str, pa.Table], xs_truth: dict[str, object]
) -> None:
    """The vendor files and the CRM database seeder carry these rows unchanged (test_files_source and
    test_postgres_source compare every raw row with the synthetic source's)."""
    events = xs_tables["crm_consents"].to_pandas()
    assert events.groupby(["channel", "status"]).size().to_dict() == {
        ("ad_personalisation", "granted"): 607,
        ("ad_personalisation", "withdrawn"): 50,
        ("email", "granted"): 574,
        ("email", "withdrawn"): 35,
        ("profiling", "granted"): 736,
        ("profiling", "withdrawn"): 76,
        ("sms", "granted"): 267,
        ("sms", "withdrawn"): 11,
    }
    opt_outs = events[(events["channel"] == "ad_personalisation") & (events["status"] == "withdrawn")]
    assert set(opt_outs["source"]) == {"do_not_sell_link"}
    current = xs_truth["consents"].to_pandas().groupby(["channel", "status"]).size().to_dict()
    assert current == {
        ("ad_personalisation", "granted"): 554,
        ("ad_personalisation", "withdrawn"): 44,
        ("email", "granted"): 539,
        ("email", "withdrawn"): 34,
        ("profiling", "granted"): 657,
        ("profiling", "withdrawn"): 72,
        ("sms", "granted"): 256,
        ("sms", "withdrawn"): 11,
    }


def test_audiences_and_consent_columns_equal_the_generator_truth(
    xs_baseline: Baseline, xs_truth: dict[str, object]
) -> None:
    granted = _granted(xs_truth)
    audiences = dict(_published(xs_baseline, "select audience_channel, count(*) from mart_audiences group by all"))
    assert audiences == {audience: len(granted[channel]) for audience, channel in AUDIENCE_CONSENT.items()}

    consents = xs_truth["consents"].to_pandas()
    opted_out = ((consents["channel"] == "ad_personalisation") & (consents["status"] == "withdrawn")).sum()
    [row] = _published(
        xs_baseline,
        "select count(*) filter (where has_profiling_consent), count(*) filter (where has_opted_out_of_sale_or_share),"
        " count(*) filter (where accepts_marketing),"
        " count(*) filter (where accepts_marketing <> (has_email_consent or has_sms_consent))"
        " from mart_customer_360",
    )
    assert row == (len(granted["profiling"]), opted_out, len(granted["email"] | granted["sms"]), 0)


def test_profiling_objectors_get_no_segment_and_analytics_keep_everyone(xs_baseline: Baseline) -> None:
    [(rows, profiled, objectors, leaked)] = _published(
        xs_baseline,
        "select count(*), count(*) filter (where has_profiling_consent), count(*) filter (where not"
        " has_profiling_consent), count(*) filter (where not has_profiling_consent and (rfm_segment is not null or"
        " lifecycle_stage is not null or churn_risk is not null or clv_decile is not null)) from mart_audiences",
    )
    assert profiled > 0 and objectors > 0 and leaked == 0 and rows == profiled + objectors
    # Aggregate reporting rule: mart_rfm scores every buyer, consenting or not.
    [(buyers, without_marketing)] = _published(
        xs_baseline,
        "select count(*), count(*) filter (where not c.accepts_marketing) from mart_rfm as r"
        " inner join mart_customer_360 as c using (customer_key)",
    )
    assert buyers == _published(xs_baseline, "select count(*) from mart_rfm")[0][0]
    assert without_marketing > 0


def test_withdrawn_champion_leaves_the_email_audience_on_the_next_run(
    tmp_path: Path, xs_baseline: Baseline, xs_tables: dict[str, pa.Table]
) -> None:
    with duckdb.connect(str(xs_baseline.settings.warehouse_path), read_only=True) as con:
        # A Champion with email consent only (so accepts_marketing must turn false too), and their CRM record.
        customer_key, customer_id, last_change = con.execute(
            "select c.customer_key, r.customer_id, max(e.changed_at) from marts.mart_customer_360 as c"
            " inner join intermediate.int_customers_resolved as r on c.customer_key = r.customer_key"
            " inner join staging.stg_crm__consents as e on r.customer_id = e.customer_id"
            " where c.rfm_segment = 'Champions' and c.has_email_consent and not c.has_sms_consent"
            " group by all order by c.customer_key limit 1"
        ).fetchone()
    withdrawn_at = datetime(2026, 10, 31, 23, 59, tzinfo=UTC)  # the data's last day: the as-of date stays
    assert last_change < withdrawn_at
    before = dict(_published(xs_baseline, "select audience_channel, count(*) from mart_audiences group by all"))

    consents = xs_tables["crm_consents"]
    withdrawal = pa.table(
        {
            "consent_event_id": ["CE_WITHDRAW_1"],
            "customer_id": [customer_id],
            "channel": ["email"],
            "status": ["withdrawn"],
            "changed_at": [withdrawn_at],
            "source": ["unsubscribe_link"],
            "updated_at": [withdrawn_at],
        }
    ).cast(consents.schema)
    with copy_baseline(xs_baseline, tmp_path / "data") as ws:
        ws.land({**xs_tables, "crm_consents": pa.concat_tables([consents, withdrawal])})
        outcome = ws.run()
        assert outcome.success and outcome.published, outcome.failed_steps
        with duckdb.connect(str(ws.settings.published_path), read_only=True) as con:
            after = dict(con.execute("select audience_channel, count(*) from mart_audiences group by all").fetchall())
            channels = con.execute(
                "select audience_channel from mart_audiences where customer_key = ? order by 1", [customer_key]
            ).fetchall()
            customer = con.execute(
                "select c.has_email_consent, c.accepts_marketing, r.rfm_segment from mart_customer_360 as c"
                " inner join mart_rfm as r using (customer_key) where customer_key = ?",
                [customer_key],
            ).fetchone()
    assert ("email",) not in channels
    assert after == {**before, "email": before["email"] - 1}
    assert customer == (False, False, "Champions")  # analytics still count them; marketing may not reach them


@pytest.mark.postgres
def test_activation_role_selects_audiences_only(xs_baseline: Baseline, reader_role: str, activation_role: str) -> None:
    manifest = Path(dbt_project().manifest_path)
    audiences = activation_marts(manifest)
    assert audiences == ("mart_audience_members", "mart_audiences")
    tables = [("marts", name) for name in marts_to_publish(manifest)]
    with throwaway_database() as target:
        # The one-time setup, as an admin runs it.
        argv = ["postgres", "provision", "--dsn", target.dsn, "--reader-role", reader_role]
        assert cli_main([*argv, "--activation-role", activation_role]) == 0
        publish_to_postgres(
            xs_baseline.settings.warehouse_path,
            tables,
            target.dsn,
            "run-activation",
            {"job": "test"},
            reader_role=reader_role,
            activation_role=activation_role,
            activation_tables=audiences,
        )
        expected = _published(xs_baseline, "select count(*) from mart_audiences")[0][0]
        conn = target.connect(user=activation_role)
        try:
            with conn.cursor() as cur:
                cur.execute("select count(*) from marts.mart_audiences")
                assert cur.fetchone()[0] == expected > 0
                for table in ("mart_customer_360", "mart_rfm", "dim_customer", "_publish_log"):
                    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                        cur.execute(f"select 1 from marts.{table} limit 1")
        finally:
            conn.close()
        reader = target.connect(user=reader_role)  # bi_reader unchanged: every mart, audiences included
        try:
            with reader.cursor() as cur:
                for table in ("mart_customer_360", "mart_audiences"):
                    cur.execute(f"select count(*) from marts.{table}")
                    assert cur.fetchone()[0] > 0
        finally:
            reader.close()


def test_an_activation_role_without_published_audiences_is_refused() -> None:
    with pytest.raises(ValueError, match="not published: \\['mart_audiences'\\]"):
        ServingRoles("bi_reader", "activation", ("mart_audiences",)).validate(["mart_rfm"])
    with pytest.raises(ValueError, match="needs published audience tables"):
        ServingRoles("bi_reader", "activation", ()).validate(["mart_rfm"])
    ServingRoles("bi_reader").validate(["mart_rfm"])  # no activation role: nothing to check
