"""Pairwise precision and recall of the warehouse's identity resolution against the generator's true identities.

Pairs are taken over identifiers that co-occur: two identifiers form a true pair when the truth gives them the same
person, and a predicted pair when the warehouse gives them the same customer_key. Precision = shared pairs /
predicted pairs, recall = shared pairs / true pairs. Counted from cluster sizes (n choose 2), never by listing
pairs, so S-scale data scores in a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class PairScore:
    true_pairs: int
    predicted_pairs: int
    shared_pairs: int

    @property
    def precision(self) -> float:
        return self.shared_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.shared_pairs / self.true_pairs if self.true_pairs else 1.0


def score_identities(con: duckdb.DuckDBPyConnection, truth_parquet: Path, graph: str) -> PairScore:
    """Score `graph` (identifier_type, identifier, customer_key) against the truth file (identifier_type,
    identifier, person_id; emails as delivered, so they are matched after the warehouse's normalisation). A truth
    identifier missing from the graph counts as its own singleton cluster."""
    labelled = f"""
        with truth as (
            select identifier_type, identifier, person_id,
                case when identifier_type = 'email' then nullif(lower(trim(identifier)), '') else identifier end
                    as matched_identifier
            from read_parquet('{truth_parquet}')
        )
        select truth.person_id,
            coalesce(graph.customer_key, 'missing|' || truth.identifier_type || '|' || truth.identifier) as predicted
        from truth
        left join {graph} as graph
            on graph.identifier_type = truth.identifier_type and graph.identifier = truth.matched_identifier
    """
    pairs = "sum(n * (n - 1) / 2)"
    (true_pairs,) = con.execute(
        f"select {pairs} from (select count(*) as n from ({labelled}) group by person_id)"
    ).fetchall()[0]
    (predicted,) = con.execute(
        f"select {pairs} from (select count(*) as n from ({labelled}) group by predicted)"
    ).fetchall()[0]
    (shared,) = con.execute(
        f"select {pairs} from (select count(*) as n from ({labelled}) group by person_id, predicted)"
    ).fetchall()[0]
    return PairScore(int(true_pairs or 0), int(predicted or 0), int(shared or 0))
