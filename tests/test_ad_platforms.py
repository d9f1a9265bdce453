"""Ad platforms are data: one declaration per platform drives the raw contract, the files mapping, the GA4 click-id
columns, the raw GX suites and (through the generated `ad_platforms` var) dbt. These tests keep the pieces in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.extract.ad_platforms import AD_PLATFORMS, ad_platform
from orchestration.extract.ad_platforms.dbt_vars import DBT_PROJECT_YML, committed_block, vars_block, write
from orchestration.extract.raw_contract import raw_table
from orchestration.extract.vendor_files.mappings import file_spec
from orchestration.quality.suites import suite_modules

DBT_PROJECT = DBT_PROJECT_YML.parent


def test_the_dbt_var_block_is_the_one_generated_from_the_declarations() -> None:
    """Fails when a declaration changed without `python -m orchestration.extract.ad_platforms.dbt_vars --write`."""
    assert committed_block(DBT_PROJECT_YML.read_text()) == vars_block()


def test_write_rewrites_only_the_block(tmp_path: Path) -> None:
    text = DBT_PROJECT_YML.read_text()
    stale = tmp_path / "dbt_project.yml"
    stale.write_text(text.replace(committed_block(text), vars_block().replace("gclid", "stale")))
    assert write(stale) and stale.read_text() == text
    assert not write(stale)


@pytest.mark.parametrize("platform", AD_PLATFORMS, ids=lambda p: p.name)
def test_each_declaration_reaches_every_consumer(platform) -> None:
    spec = raw_table(platform.raw_table)
    assert (spec.source, spec.primary_key) == ("ads", platform.primary_key)
    assert [c.name for c in spec.columns] == [c[0] for c in platform.columns]
    assert file_spec(platform.raw_table).folder == platform.export.folder
    assert platform.click_id in [c.name for c in raw_table("ga4_events").columns]
    assert f"event_params.{platform.click_id}" in [f.header for f in file_spec("ga4_events").fields]
    assert f"raw_{platform.raw_table}" in {m.SUITE_NAME for m in suite_modules()}
    staging = DBT_PROJECT / "models" / "staging" / platform.name
    assert (staging / f"stg_{platform.name}__campaign_stats.sql").exists(), "each platform keeps its staging model"
    sources = (staging / f"_{platform.name}__sources.yml").read_text()
    assert f"identifier: {platform.raw_table}\n" in sources and f'"raw", "{platform.raw_table}"' in sources


def test_click_ids_and_names_are_unique() -> None:
    for attribute in ("name", "raw_table", "click_id"):
        values = [getattr(p, attribute) for p in AD_PLATFORMS]
        assert len(values) == len(set(values)), attribute
    assert ad_platform("google_ads").click_id == "gclid"


def test_a_declaration_naming_an_unknown_column_is_rejected() -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="spend_column"):
        replace(ad_platform("meta_ads"), spend_column="cost")
    with pytest.raises(ValueError, match="paid_channel"):
        replace(ad_platform("meta_ads"), paid_channel=("tiktok", "paid_social"))
