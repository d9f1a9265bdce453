"""The activation asset: after a successful publish, export the run's consented audiences as upload files."""

import dagster as dg

from orchestration.activation.exports import export_audiences
from orchestration.config import Settings
from orchestration.data_dir import ensure_data_dir

ACTIVATION_KEY = dg.AssetKey(["published", "activation"])


def definitions(settings: Settings) -> dg.Definitions:
    @dg.asset(
        key=ACTIVATION_KEY,
        deps=[dg.AssetKey(["published", "marts"])],  # only after every gate passed and the marts went live
        group_name="publish",
        kinds={"csv"},
        description="Consented audiences (mart_audience_members) as Google Ads Customer Match, Meta and TikTok "
        f"custom-audience and e-mail contact files under {settings.activation_dir}/<run_id>/ (owner-only modes).",
    )
    def audience_exports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        ensure_data_dir(settings)
        result = export_audiences(settings.warehouse_path, settings.activation_dir, context.run.run_id)
        written = sum(n for files in result.rows.values() for n in files.values())
        context.log.info(f"activation: {written} rows in {len(result.rows)} audiences -> {result.folder}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.folder)),
                "members": dg.MetadataValue.json(result.members),
                "rows_per_file": dg.MetadataValue.json(result.rows),
                "unreachable": dg.MetadataValue.json(result.unreachable),
            }
        )

    return dg.Definitions(assets=[audience_exports])
