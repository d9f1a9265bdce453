"""Churn risk for everyone, scored against the generator's true dropout (`_truth/customer_lifetimes`) on XS.

The generator's purchase process is MBG/NBD: a buyer may drop out right after any purchase, the first included.
BG/NBD cannot drop a one-time buyer, so its churn risk ranks dropouts no better than chance; MBG/NBD's does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from benchmarks.churn_evaluation import person_orders, score_churn
from models import calibration_by_decile, roc_auc

#: XS holds 120 days, so dropout is weakly identified: over seeds 7-12 MBG/NBD's AUC at the end date was 0.58-0.63
#: (seed 7: 0.62) and BG/NBD's 0.45-0.53. With ~170 dropouts among ~650 buyers the AUC's standard error is about
#: 0.025, so 0.57 is chance plus three standard errors: a model that cannot tell a lapsed one-time buyer from an
#: active one fails it.
AUC_FLOOR_XS = 0.57


@pytest.fixture(scope="module")
def xs_scores(xs_generated) -> dict[str, object]:
    tables, truth = xs_generated
    orders, dropped_at, end = person_orders(tables, truth)
    return score_churn(orders, dropped_at, end)


def test_truth_records_a_dropout_only_after_a_purchase(xs_generated) -> None:
    tables, truth = xs_generated
    lifetimes = truth["customer_lifetimes"]
    dropped = lifetimes.filter(pc.is_valid(lifetimes["dropped_out_at"]))
    assert 0 < dropped.num_rows < lifetimes.num_rows
    # The dropout time is one of the person's purchase times (the last one they made).
    ids = truth["identities"].filter(pc.equal(truth["identities"]["identifier_type"], "customer_id"))
    orders = tables["crm_orders"].join(ids, "customer_id", "identifier")
    purchases = set(zip(orders["person_id"].to_pylist(), orders["ordered_at"].to_pylist(), strict=True))
    assert all(
        (p, t) in purchases
        for p, t in zip(dropped["person_id"].to_pylist(), dropped["dropped_out_at"].to_pylist(), strict=True)
    )
    assert lifetimes.schema.field("dropped_out_at").type == pa.timestamp("us", "UTC")


def test_mbgnbd_churn_risk_ranks_true_dropouts_and_covers_one_time_buyers(xs_scores) -> None:
    mbg, bg = xs_scores["mbgnbd"], xs_scores["bgnbd"]
    assert xs_scores["truly_dropped_out"] > 100 and xs_scores["one_time_buyers_truly_dropped_out"] > 50
    assert mbg["auc_all"] >= AUC_FLOOR_XS
    assert mbg["auc_all"] >= bg["auc_all"] + 0.05
    assert bg["one_time_buyers_with_churn_risk_0"] == xs_scores["one_time_buyers"]  # the defect this replaces
    assert mbg["one_time_buyers_with_churn_risk_0"] == 0
    assert mbg["auc_one_time_buyers"] > 0.5 and bg["auc_one_time_buyers"] == 0.5


def test_auc_and_deciles_on_known_cases() -> None:
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert roc_auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]) == 0.5
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    deciles = calibration_by_decile(np.arange(20) / 20, np.arange(20) >= 10, bins=4)
    assert deciles["customers"].tolist() == [5, 5, 5, 5]
    assert deciles["observed_rate"].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert deciles["mean_predicted"].tolist() == pytest.approx([0.1, 0.35, 0.6, 0.85])
