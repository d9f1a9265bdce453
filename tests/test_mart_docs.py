"""Self-describing marts (issue 16): the published DuckDB file and the PostgreSQL serving schema carry the dbt docs
as table and column comments and the keys the dbt tests name as enforced primary, unique and foreign keys, which is
what BI tools show as descriptions and use for join suggestions. The DuckDB file, by default, checks the primary and
unique keys as it is published instead of declaring them (no DuckDB BI driver reads declared keys).

The PostgreSQL half is inspected the way Superset and Metabase inspect a database: SQLAlchemy's inspector over
psycopg2, logged in as the read-only BI role (tables, columns with comments, primary and foreign keys, a query).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import psycopg2
import pytest
import sqlalchemy as sa

from orchestration.publish.assets import file_declares_keys, file_docs, marts_to_publish, published_docs
from orchestration.publish.mart_docs import PUBLISH_LOG_DOC, ForeignKey, TableDoc, creation_order, mart_docs
from orchestration.publish.pg_roles import provision_reader_role
from orchestration.publish.postgres_serving import publish_to_postgres
from orchestration.publish.publisher import KeyViolation, publish, published_tables
from orchestration.transform.project import dbt_project
from tests.conftest import Baseline
from tests.postgres_fixtures import (  # noqa: F401  (fixtures)
    PG_HOST,
    PG_PORT,
    PgTarget,
    reader_role_fixture,
    throwaway_database,
)

MANIFEST = Path(dbt_project().manifest_path)


def _yaml_docs() -> dict[str, TableDoc]:
    return published_docs(MANIFEST)


def test_keys_follow_the_dbt_tests_of_the_published_models() -> None:
    docs = _yaml_docs()
    assert set(docs) == set(marts_to_publish(MANIFEST))
    primary = {name: doc.primary_key for name, doc in docs.items()}
    assert primary["dim_customer"] == ("customer_key",)
    assert primary["dim_date"] == ("date_key",)  # the one facts reference, though date_day is unique too
    assert docs["dim_date"].unique_keys == (("date_day",),)
    assert primary["mart_audiences"] == ("customer_key", "audience_channel")  # unique combination, all not null
    assert all(primary.values()), [name for name, key in primary.items() if not key]
    assert set(docs["fct_order_lines"].foreign_keys) == {
        ForeignKey(("order_key",), "fct_orders", ("order_key",)),
        ForeignKey(("customer_key",), "dim_customer", ("customer_key",)),
        ForeignKey(("product_key",), "dim_product", ("product_key",)),
    }
    order = creation_order(docs)
    for doc in docs.values():
        for fk in doc.foreign_keys:
            assert order.index(fk.table) < order.index(doc.name), f"{doc.name} before {fk.table}"
    assert ForeignKey(("customer_version_key",), "dim_customer_history", ("customer_version_key",)) in set(
        docs["fct_orders"].foreign_keys
    )  # the SCD2 version valid at order time
    foreign = sum(len(doc.foreign_keys) for doc in docs.values())
    assert foreign == 22, foreign


def test_a_filtered_relationship_or_one_to_an_unpublished_model_is_no_foreign_key() -> None:
    manifest = json.loads(MANIFEST.read_text())
    test = next(
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") == "relationships"
        and node["attached_node"] == "model.c360.fct_orders"
        and node["column_name"] == "customer_key"
    )
    test["config"]["where"] = "order_status = 'completed'"
    docs = mart_docs(manifest, marts_to_publish(MANIFEST))
    assert ForeignKey(("customer_key",), "dim_customer", ("customer_key",)) not in docs["fct_orders"].foreign_keys
    without_dim = mart_docs(manifest, [n for n in marts_to_publish(MANIFEST) if n != "dim_date"])
    assert all(fk.table != "dim_date" for doc in without_dim.values() for fk in doc.foreign_keys)


@pytest.mark.slow
def test_every_published_table_and_column_carries_its_yaml_description(xs_baseline: Baseline) -> None:
    docs = {**_yaml_docs(), PUBLISH_LOG_DOC.name: PUBLISH_LOG_DOC}
    # README's Python recipe, exactly: read-only, no external access; the catalog functions still answer.
    path = str(xs_baseline.settings.published_path)
    with duckdb.connect(path, read_only=True, config={"enable_external_access": False}) as con:
        tables = dict(con.execute("select table_name, comment from duckdb_tables() where not internal").fetchall())
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() where not internal"
        ).fetchall()
    assert tables == {name: doc.description for name, doc in docs.items()}
    assert all(tables.values())
    assert len(columns) == sum(len(doc.columns) for doc in docs.values())  # every column documented: 362 at XS
    wrong = [(t, c, comment) for t, c, comment in columns if not comment or comment != docs[t].columns.get(c)]
    assert wrong == []
    assert "One row per resolved customer" in tables["mart_customer_360"]


def _publish_copy(baseline: Baseline, path: Path, file_keys: str, warehouse: Path | None = None) -> dict[str, int]:
    """The baseline's marts (or `warehouse`'s) published again to `path` as C360_PUBLISH_FILE_KEYS=`file_keys`
    would: what the publish asset hands the publisher (assets.file_docs)."""
    manifest = Path(dbt_project().manifest_path)
    docs = file_docs(published_docs(manifest), file_keys)
    marts = [("marts", name) for name in marts_to_publish(manifest)]
    source = warehouse or baseline.settings.warehouse_path
    return publish(source, path, marts, file_keys, {}, docs=docs, declare_keys=file_declares_keys(file_keys)).tables


def _keys(path: Path) -> tuple[dict[str, tuple[str, ...]], set[tuple[str, ForeignKey]]]:
    """(primary key per table, {(table, foreign key)}) declared in a published file."""
    with duckdb.connect(str(path), read_only=True) as con:
        constraints = con.execute(
            "select table_name, constraint_type, constraint_column_names, referenced_table, referenced_column_names "
            "from duckdb_constraints() where constraint_type in ('PRIMARY KEY', 'FOREIGN KEY')"
        ).fetchall()
    primary = {t: tuple(cols) for t, kind, cols, _, _ in constraints if kind == "PRIMARY KEY"}
    foreign = {
        (t, ForeignKey(tuple(cols), ref, tuple(ref_cols)))
        for t, kind, cols, ref, ref_cols in constraints
        if kind == "FOREIGN KEY"
    }
    return primary, foreign


def _declared_key_count(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        kinds = "('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')"
        (count,) = con.execute(f"select count(*) from duckdb_constraints() where constraint_type in {kinds}").fetchone()
    return count


@pytest.mark.slow
@pytest.mark.parametrize(
    ("broken", "refusal"),
    [
        (  # a repeated order line: its primary key
            "insert into marts.fct_order_lines select * from marts.fct_order_lines limit 1",
            r"marts\.fct_order_lines breaks its primary key \(order_line_key\): 1 rows repeat a value",
        ),
        (  # a null primary key (the build declares it not null: a warehouse built by an older version may not)
            "alter table marts.fct_orders alter column order_key drop not null; "
            "update marts.fct_orders set order_key = null "
            "where order_key = (select min(order_key) from marts.fct_orders)",
            r"marts\.fct_orders breaks its primary key \(order_key\): 1 rows are null",
        ),
        (  # a second product row under another key with the same product id: its unique key
            "insert into marts.dim_product select * replace ('another key' as product_key) from marts.dim_product "
            "limit 1",
            r"marts\.dim_product breaks its unique key \(product_id\): 1 rows repeat a value",
        ),
    ],
    ids=["repeated primary key", "null primary key", "repeated unique key"],
)
def test_the_default_publish_checks_every_key_without_declaring_one(
    xs_baseline: Baseline, tmp_path: Path, broken: str, refusal: str
) -> None:
    """C360_PUBLISH_FILE_KEYS=checked: the live file declares no key, yet a warehouse whose marts break a primary or
    unique key is refused before anything is replaced, naming the table, the key and the fix."""
    assert _declared_key_count(xs_baseline.settings.published_path) == 0
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(xs_baseline.settings.warehouse_path, warehouse)
    path = tmp_path / "marts.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(broken)
    with pytest.raises(KeyViolation, match=refusal + r"; .*C360_DBT_TEST_SCOPE=full"):
        _publish_copy(xs_baseline, path, "checked", warehouse)
    assert not path.exists()


@pytest.mark.slow
def test_primary_file_keys_are_declared_and_enforced(xs_baseline: Baseline, tmp_path: Path) -> None:
    docs = _yaml_docs()
    path = tmp_path / "marts.duckdb"
    assert _publish_copy(xs_baseline, path, "primary") == _publish_copy(xs_baseline, tmp_path / "c.duckdb", "checked")
    primary, foreign = _keys(path)
    assert primary == {name: doc.primary_key for name, doc in docs.items()}
    assert foreign == set()  # C360_PUBLISH_FILE_KEYS=primary: relationships stay dbt tests, which gate the run
    with duckdb.connect(str(path)) as con:
        for table in ("dim_customer", "fct_order_lines"):
            with pytest.raises(duckdb.ConstraintException, match="violates primary key"):
                con.execute(f"insert into {table} select * from {table} limit 1")


@pytest.mark.slow
def test_enforced_file_keys_add_every_foreign_key(xs_baseline: Baseline, tmp_path: Path) -> None:
    docs = _yaml_docs()
    path = tmp_path / "marts.duckdb"
    _publish_copy(xs_baseline, path, "enforced")
    primary, foreign = _keys(path)
    assert primary == {name: doc.primary_key for name, doc in docs.items()}
    assert foreign == {(doc.name, fk) for doc in docs.values() for fk in doc.foreign_keys}
    with duckdb.connect(str(path)) as con:
        # a table no foreign key references gets its key after the fill (publisher._copy_table): enforced the same
        assert not any(fk.table == "fct_order_lines" for doc in docs.values() for fk in doc.foreign_keys)
        with pytest.raises(duckdb.ConstraintException, match="violates primary key"):
            con.execute("insert into fct_order_lines select * from fct_order_lines limit 1")
        with pytest.raises(duckdb.ConstraintException, match="foreign key"):
            con.execute(
                "update fct_orders set customer_key = 'no such customer' "
                "where order_key = (select min(order_key) from fct_orders)"
            )
        with pytest.raises(duckdb.ConstraintException):
            con.execute("delete from dim_customer")  # facts still reference it


def test_a_file_published_without_keys_keeps_every_row_and_comment_and_declares_no_key(
    xs_baseline: Baseline, tmp_path: Path
) -> None:
    """C360_PUBLISH_FILE_KEYS=none."""
    docs = published_docs(Path(dbt_project().manifest_path))
    path = tmp_path / "marts.duckdb"
    tables = _publish_copy(xs_baseline, path, "none")
    assert {**tables, "_publish_log": 1} == published_tables(xs_baseline.settings.published_path)
    assert _declared_key_count(path) == 0
    with duckdb.connect(str(path), read_only=True) as con:
        comments = dict(con.execute("select table_name, comment from duckdb_tables() where not internal").fetchall())
    assert comments == {name: doc.description for name, doc in {**docs, PUBLISH_LOG_DOC.name: PUBLISH_LOG_DOC}.items()}


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_serving_is_described_and_keyed_as_superset_inspects_it(
    xs_baseline: Baseline, reader_role: str
) -> None:
    docs = _yaml_docs()
    names = sorted(docs)
    with throwaway_database() as pg_target:
        provision_reader_role(pg_target.dsn, reader_role)
        _publish_and_inspect(xs_baseline, pg_target, reader_role, docs, names)


def _publish_and_inspect(
    xs_baseline: Baseline, pg_target: PgTarget, reader_role: str, docs: dict[str, TableDoc], names: list[str]
) -> None:
    publish_to_postgres(
        xs_baseline.settings.warehouse_path,
        [("marts", n) for n in names],
        pg_target.dsn,
        run_id="run-docs",
        details={},
        reader_role=reader_role,
        docs=docs,
    )
    # Superset / Metabase: a SQLAlchemy URI with psycopg2, as the read-only BI role.
    engine = sa.create_engine(f"postgresql+psycopg2://{reader_role}@{PG_HOST}:{PG_PORT}/{pg_target.dbname}")
    try:
        inspector = sa.inspect(engine)
        assert sorted(inspector.get_table_names(schema="marts")) == sorted([*names, PUBLISH_LOG_DOC.name])
        for name, doc in docs.items():
            assert inspector.get_table_comment(name, schema="marts")["text"] == doc.description
            columns = inspector.get_columns(name, schema="marts")
            assert {c["name"]: c["comment"] for c in columns} == dict(doc.columns), name
            assert tuple(inspector.get_pk_constraint(name, schema="marts")["constrained_columns"]) == doc.primary_key
            foreign = {
                ForeignKey(tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                for fk in inspector.get_foreign_keys(name, schema="marts")
            }
            assert foreign == set(doc.foreign_keys), name
        with engine.connect() as con:  # Superset's chart query: a join the foreign key suggests
            revenue = con.execute(
                sa.text(
                    "select count(distinct c.customer_key) from marts.fct_orders o "
                    "join marts.dim_customer c on c.customer_key = o.customer_key"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        assert revenue == con.execute("select count(distinct customer_key) from fct_orders").fetchall()[0][0]

    conn = pg_target.connect()  # enforced: the superuser cannot break a key either
    with conn.cursor() as cur, pytest.raises(psycopg2.errors.ForeignKeyViolation):
        cur.execute(
            "update marts.fct_orders set customer_key = 'no such customer' "
            "where order_key = (select min(order_key) from marts.fct_orders)"
        )
    conn.close()
