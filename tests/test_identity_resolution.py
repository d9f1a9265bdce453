"""Identity resolution scored against the generator's ground truth (pairwise precision and recall >= 0.99 on S)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.extract.raw_contract import RAW_TABLES
from tests.dbt_harness import merge_load, run_dbt
from tests.identity_scoring import score_identities

pytestmark = pytest.mark.slow


def test_scorer_counts_pairs_exactly(tmp_path: Path) -> None:
    """Truth {a,b,c} {d}; prediction {a,b} {c,d}: 3 true pairs, 2 predicted, 1 shared (a-b)."""
    truth = tmp_path / "truth.parquet"
    pq.write_table(
        pa.table(
            {
                "identifier_type": ["customer_id", "email", "user_pseudo_id", "customer_id"],
                "identifier": ["C1", " A@X.COM", "p1", "C2"],
                "person_id": ["P1", "P1", "P1", "P2"],
            }
        ),
        truth,
    )
    con = duckdb.connect()
    con.execute(
        "create table graph as select * from (values ('customer_id', 'C1', 'k1'), ('email', 'a@x.com', 'k1'), "
        "('user_pseudo_id', 'p1', 'k2'), ('customer_id', 'C2', 'k2')) as t (identifier_type, identifier, customer_key)"
    )
    score = score_identities(con, truth, "graph")
    assert (score.true_pairs, score.predicted_pairs, score.shared_pairs) == (3, 2, 1)
    assert score.precision == 0.5 and score.recall == pytest.approx(1 / 3)


def test_identity_graph_matches_truth_on_s_data(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    subprocess.run(
        [sys.executable, "-m", "c360_cli.main", "generate", "--scale", "S", "--out", str(landing)], check=True
    )
    truth = landing / "_truth" / "identities.parquet"
    assert truth.exists(), f"{truth} missing: the generator must write ground-truth identities (see TRUTH.md)"
    tables = {t.name: pq.read_table(landing / f"{t.name}.parquet") for t in RAW_TABLES}
    merge_load(tmp_path / "warehouse.duckdb", tables, "load-1", datetime(2026, 11, 1, tzinfo=UTC))
    run_dbt(tmp_path, "run", "--select", "+int_identity_graph")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:  # dbt in-process still holds it read-write
        score = score_identities(con, truth, "intermediate.int_identity_graph")
    print(
        f"identity resolution on S: precision {score.precision:.5f}, recall {score.recall:.5f} "
        f"({score.shared_pairs:,} shared / {score.predicted_pairs:,} predicted / {score.true_pairs:,} true pairs)"
    )
    assert score.precision >= 0.99
    assert score.recall >= 0.99
