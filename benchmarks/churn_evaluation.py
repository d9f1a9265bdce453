"""Churn risk against the simulator's true dropout: ROC AUC and calibration by decile, BG/NBD vs MBG/NBD; not a test.

The embedded retailer's purchase process is MBG/NBD, and its truth (`_truth/customer_lifetimes.parquet`) says when
each buyer dropped out (null while alive). Here each model is fitted on completed orders up to a cut-off date, and
its churn risk (1 - P(alive) at the cut-off) is scored against whether the buyer had truly dropped out by then. Two
cut-offs: the end date (the run's own as-of date) and 26 weeks earlier (a time holdout: the later 26 weeks are
unseen, and there the model is also scored against "no purchase in the holdout"). Orders are per true person
(the truth's identities: perfect identity resolution); internal test accounts are left out, as the warehouse does.

    .venv/bin/c360 generate --scale S --out /tmp/s
    .venv/bin/python -m benchmarks.churn_evaluation /tmp/s/landing/synthetic
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from models import BetaGeoFitter, ModifiedBetaGeoFitter, calibration_by_decile, calibration_summary, roc_auc

HOLDOUT_DAYS = 182
TEST_ACCOUNT_EMAIL = r"^test\+|@qa\.c360-internal\.test$"


def load_landing(landing: Path) -> tuple[dict[str, pa.Table], dict[str, object]]:
    """The tables and truth `c360 generate` wrote, as `generate_with_truth` returns them (the parts used here)."""
    tables = {name: pq.read_table(landing / f"{name}.parquet") for name in ("crm_orders", "crm_customers")}
    truth: dict[str, object] = {
        name: pq.read_table(landing / "_truth" / f"{name}.parquet") for name in ("identities", "customer_lifetimes")
    }
    truth["parameters"] = json.loads((landing / "_truth" / "parameters.json").read_text())
    return tables, truth


def person_orders(tables: dict[str, pa.Table], truth: dict[str, object]) -> tuple[pd.DataFrame, pd.Series, date]:
    """(completed orders per true person: person_id, order_date; each buyer's true dropout time; end date)."""
    orders = tables["crm_orders"].to_pandas()
    customers = tables["crm_customers"].to_pandas()
    ids = truth["identities"].to_pandas()
    lifetimes = truth["customer_lifetimes"].to_pandas()
    end = date.fromisoformat(truth["parameters"]["end_date"])
    person = ids[ids["identifier_type"] == "customer_id"].set_index("identifier")["person_id"]
    test = customers.loc[customers["email"].str.contains(TEST_ACCOUNT_EMAIL, na=False), "customer_id"]
    orders = orders[(orders["status"] == "completed") & ~orders["customer_id"].isin(test)]
    frame = pd.DataFrame(
        {
            "person_id": orders["customer_id"].map(person),
            "order_date": orders["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize(),
        }
    )
    dropped = lifetimes.set_index("person_id")["dropped_out_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame, dropped, end


def score_churn(orders: pd.DataFrame, dropped_at: pd.Series, cutoff: date) -> dict[str, object]:
    """Fit both models on orders up to `cutoff`; score 1 - P(alive) against "truly dropped out by the cut-off"."""
    summary = calibration_summary(orders, "person_id", "order_date", observation_end=pd.Timestamp(cutoff))
    gone = (dropped_at.reindex(summary.index) < pd.Timestamp(cutoff + timedelta(days=1))).to_numpy()
    once = (summary["frequency"] == 0).to_numpy()
    later = orders[orders["order_date"] > pd.Timestamp(cutoff)]
    no_purchase_after = ~summary.index.isin(later["person_id"])
    result: dict[str, object] = {
        "cutoff": cutoff.isoformat(),
        "buyers": len(summary),
        "one_time_buyers": int(once.sum()),
        "truly_dropped_out": int(gone.sum()),
        "one_time_buyers_truly_dropped_out": int(gone[once].sum()),
    }
    for name, model in (("bgnbd", BetaGeoFitter()), ("mbgnbd", ModifiedBetaGeoFitter())):
        fit = model.fit(summary["frequency"], summary["recency"], summary["T"])
        churn = 1 - fit.probability_alive(summary["frequency"], summary["recency"], summary["T"]).to_numpy()
        scores = {
            "auc_all": roc_auc(churn, gone),
            "auc_one_time_buyers": roc_auc(churn[once], gone[once]) if 0 < gone[once].sum() < once.sum() else None,
            "mean_churn_risk_one_time_buyers": float(churn[once].mean()),
            "one_time_buyers_with_churn_risk_0": int((churn[once] == 0).sum()),
            "mean_churn_risk": float(churn.mean()),
            "true_dropout_rate": float(gone.mean()),
            "deciles": calibration_by_decile(churn, gone).round(3).to_dict("records"),
        }
        if cutoff < orders["order_date"].max().date():
            scores["auc_vs_no_purchase_in_holdout"] = roc_auc(churn, no_purchase_after)
        result[name] = scores
    return result


def evaluate(
    tables: dict[str, pa.Table], truth: dict[str, object], holdout_days: int = HOLDOUT_DAYS
) -> dict[str, object]:
    """Churn scores at the end date and at the start of a `holdout_days` holdout before it."""
    orders, dropped_at, end = person_orders(tables, truth)
    return {
        "as_of": score_churn(orders, dropped_at, end),
        "holdout": score_churn(orders, dropped_at, end - timedelta(days=holdout_days)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path, help="a landing folder written by `c360 generate` (with _truth/)")
    parser.add_argument("--holdout-days", type=int, default=HOLDOUT_DAYS)
    args = parser.parse_args()
    print(json.dumps(evaluate(*load_landing(args.landing), args.holdout_days), indent=1, default=str))


if __name__ == "__main__":
    main()
