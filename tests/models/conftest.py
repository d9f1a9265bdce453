"""Shared fixtures for the CLV model tests (CDNOW sample, Fader & Hardie)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models import BetaGeoFitter, GammaGammaFitter, calibration_summary

CDNOW_PATH = Path(__file__).resolve().parents[1] / "data" / "CDNOW_sample.txt"
CALIBRATION_END = "1997-09-30"


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    return pd.read_csv(
        CDNOW_PATH,
        sep=r"\s+",
        header=None,
        names=["customer_id_master", "customer_id", "date", "n_cds", "value"],
        dtype={"customer_id_master": str, "customer_id": int, "date": str, "n_cds": int, "value": float},
    )


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    return calibration_summary(
        cdnow_transactions,
        "customer_id",
        "date",
        "value",
        observation_end=CALIBRATION_END,
        time_unit="W",
        datetime_format="%Y%m%d",
    )


@pytest.fixture(scope="session")
def cdnow_bgnbd(cdnow_summary: pd.DataFrame) -> BetaGeoFitter:
    s = cdnow_summary
    return BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])


@pytest.fixture(scope="session")
def cdnow_gg(cdnow_summary: pd.DataFrame) -> GammaGammaFitter:
    rep = cdnow_summary[cdnow_summary["frequency"] > 0]
    return GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
