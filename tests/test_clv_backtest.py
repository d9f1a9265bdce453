"""The back-test of the purchase model: scores on generated data, and a blocking dbt test that stops the run when the
model loses to the naive baseline (fed real orders on which it does lose: clockwork buyers who never drop out)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from benchmarks.churn_evaluation import person_orders
from orchestration.config import DBT_PROJECT_DIR
from orchestration.customer_models.backtest import BASELINE, backtest_purchases, holdout_days_for
from tests.dbt_harness import run_dbt

MODEL = "mbgnbd"
#: The back-test's blocking dbt test (dbt_project/tests/).
VERDICT = "assert_clv_model_no_worse_than_baseline"

AS_OF = date(2026, 10, 31)


def clockwork_orders(customers: int = 300, days: int = 240) -> pd.DataFrame:
    """Each customer buys every k days (k = 5..34) from their first day on and never stops: the calibration rate
    carried forward is then almost exact, while MBG/NBD expects some to have dropped out and shrinks every rate
    towards the population's."""
    rng = np.random.default_rng(5)
    rows = []
    for c in range(customers):
        every, first = int(rng.integers(5, 35)), int(rng.integers(0, 30))
        rows += [(f"K{c:04d}", AS_OF - timedelta(days=days - d)) for d in range(first, days, every)]
    return pd.DataFrame(rows, columns=["customer_key", "order_date"]).assign(amount=20.0)


def test_xs_backtest_scores_reconcile_and_the_model_wins(xs_generated) -> None:
    tables, truth = xs_generated
    orders, _, end = person_orders(tables, truth)
    orders = orders.rename(columns={"person_id": "customer_key"})
    backtest = backtest_purchases(orders, end)
    assert backtest.not_evaluated is None
    scores = backtest.scores.set_index("method")
    # XS holds 120 days of orders: the holdout is half of them.
    first = orders["order_date"].min().date()
    assert scores.loc[MODEL, "holdout_days"] == holdout_days_for(first, end) == ((end - first).days + 1) // 2
    calibration_end = pd.Timestamp(end - timedelta(days=int(scores.loc[MODEL, "holdout_days"])))
    buyers = orders.loc[orders["order_date"] <= calibration_end, "customer_key"].unique()
    holdout = orders[(orders["order_date"] > calibration_end) & orders["customer_key"].isin(buyers)]
    assert (scores["customers"] == len(buyers)).all()
    assert (scores["actual_purchases"] == len(holdout.drop_duplicates())).all()
    assert np.allclose(scores["total_error"], scores["predicted_purchases"] - scores["actual_purchases"])
    assert backtest.model_beats_baseline()
    assert abs(scores.loc[MODEL, "total_error"]) < abs(scores.loc[BASELINE, "total_error"])


def test_the_backtest_scores_the_model_the_predictions_use() -> None:
    """Where clv_predictions fell back to BG/NBD the back-test fits BG/NBD too, although MBG/NBD converges on the same
    calibration window (it does here: the blocking test below scores it)."""
    orders = clockwork_orders()
    assert set(backtest_purchases(orders, AS_OF).scores["method"]) == {MODEL, BASELINE}
    assert set(backtest_purchases(orders, AS_OF, purchase_model=MODEL).scores["method"]) == {MODEL, BASELINE}
    fallen_back = backtest_purchases(orders, AS_OF, purchase_model="bgnbd").scores.set_index("method")
    assert set(fallen_back.index) == {"bgnbd", BASELINE}
    assert fallen_back.loc["bgnbd", "is_model"] and not fallen_back.loc[BASELINE, "is_model"]


def test_dbt_builds_the_backtest_after_the_predictions_never_beside_them() -> None:
    """Each model pulls every completed order into pandas (at L together they set a run's peak memory): the back-test
    reads the predictions, so dbt schedules it only once they are built, on whichever thread is free."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    parents = manifest["nodes"]["model.c360.clv_backtest"]["depends_on"]["nodes"]
    assert set(parents) == {"model.c360.fct_orders", "model.c360.clv_predictions"}


def test_too_little_history_is_not_evaluated() -> None:
    few = clockwork_orders(customers=20)
    backtest = backtest_purchases(few, AS_OF)
    assert backtest.not_evaluated == f"fewer than 100 customers bought by {AS_OF - timedelta(days=120)}"
    assert backtest.scores.empty and list(backtest.scores.columns)[:2] == ["as_of_date", "calibration_end_date"]


def test_the_blocking_test_stops_the_build_when_the_model_loses(tmp_path) -> None:
    """The clv_backtest dbt Python model and its dbt test on a warehouse whose fct_orders holds clockwork buyers:
    the model loses, the test fails, so the run's dbt build fails (nothing downstream, publish included, runs);
    the scores are still written for the run report."""
    orders = clockwork_orders()
    backtest = backtest_purchases(orders, AS_OF)
    scores = backtest.scores.set_index("method")
    assert scores.loc[MODEL, "mean_absolute_error"] > scores.loc[BASELINE, "mean_absolute_error"]
    assert not backtest.model_beats_baseline()

    fct_orders = orders.assign(  # noqa: F841 - read by DuckDB's replacement scan below
        order_key=[f"O{i}" for i in range(len(orders))], is_refunded=False, net_revenue_reporting=orders["amount"]
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_orders as select * from fct_orders")
        con.execute("create schema customer_models")  # the predictions' purchase model, the one back-tested
        con.execute(f"create table customer_models.clv_predictions as select '{MODEL}' as purchase_model")
    with pytest.raises(AssertionError, match=rf"{VERDICT}: Got 1 result, configured to fail if != 0"):
        run_dbt(tmp_path, "build", "--select", "clv_backtest", run_settings={"as_of_date": AS_OF.isoformat()})
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        written = con.sql("select method, mean_absolute_error from customer_models.clv_backtest order by method").df()
    assert written["method"].tolist() == sorted([MODEL, BASELINE])
    assert written.set_index("method")["mean_absolute_error"].to_dict() == pytest.approx(
        scores["mean_absolute_error"].to_dict()
    )
