"""The back-test's verdict as a blocking asset check: the run does not publish when the purchase model predicts the
holdout worse than the naive baseline (see orchestration/customer_models/backtest.py)."""

from __future__ import annotations

import dagster as dg

from orchestration.customer_models.backtest import BASELINE, Backtest

MODEL_BEATS_BASELINE = "clv_model_beats_baseline"


def check_spec(asset: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        MODEL_BEATS_BASELINE,
        asset=asset,
        blocking=True,
        description="The purchase model (MBG/NBD) predicts each customer's purchases in the holdout with a mean "
        f"absolute error no worse than the baseline ({BASELINE}); fails the run otherwise. Passes, saying so, "
        "when the history is too short or the calibration fit degenerate to back-test.",
    )


def verdict(backtest: Backtest, asset: dg.AssetKey) -> dg.AssetCheckResult:
    """Pass when the model's per-customer MAE is no worse than the baseline's, or when not evaluated (metadata says
    why); fail otherwise, with both scores."""
    if backtest.not_evaluated is not None:
        return dg.AssetCheckResult(
            check_name=MODEL_BEATS_BASELINE,
            asset_key=asset,
            passed=True,
            description=f"not evaluated: {backtest.not_evaluated}",
            metadata={"not_evaluated": backtest.not_evaluated},
        )
    by = backtest.scores.set_index("method")
    model = backtest.model_row()
    metadata = {
        f"{method}_{column}": dg.MetadataValue.float(float(by.loc[method, column]))
        for method in (model["method"], BASELINE)
        for column in ("mean_absolute_error", "total_error", "predicted_purchases")
    }
    metadata["actual_purchases"] = dg.MetadataValue.int(int(model["actual_purchases"]))
    metadata["holdout_days"] = dg.MetadataValue.int(int(model["holdout_days"]))
    model_mae, baseline_mae = model["mean_absolute_error"], by.loc[BASELINE, "mean_absolute_error"]
    passed = backtest.model_beats_baseline()
    description = (
        f"{model['method']} MAE {model_mae:.3f} vs baseline {baseline_mae:.3f} purchases per customer over "
        f"{int(model['holdout_days'])} holdout days: "
        + ("the model wins" if passed else "the model loses to the naive baseline")
    )
    if not passed:  # the run report shows a failed check's `failures`
        metadata["failures"] = dg.MetadataValue.text(description)
    return dg.AssetCheckResult(
        check_name=MODEL_BEATS_BASELINE, asset_key=asset, passed=passed, description=description, metadata=metadata
    )
