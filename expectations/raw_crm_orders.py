"""Gate on each newly loaded batch of CRM orders (raw.crm_orders rows of the latest `_load_id`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

SUITE_NAME = "raw_crm_orders"
DATASET = ("raw", "crm_orders")

#: Currencies the FX seed can convert; an order in any other currency cannot be reported.
ACCEPTED_CURRENCIES = ["USD", "EUR", "GBP"]
#: A single order above this total (original currency) is far outside the business and likely a unit error.
MAX_ORDER_TOTAL = 100_000
ACCEPTED_STATUSES = ["completed", "refunded"]
REQUIRED_COLUMNS = [
    "order_id",
    "customer_id",
    "ordered_at",
    "currency",
    "order_total",
    "status",
    "updated_at",
]


def build_suite() -> gx.ExpectationSuite:
    import great_expectations as gx  # ~13 s to import: only the gate step pays it, not every definitions load

    e = gx.expectations
    return gx.ExpectationSuite(
        name=SUITE_NAME,
        expectations=[
            e.ExpectTableColumnsToMatchSet(
                column_set=REQUIRED_COLUMNS,
                exact_match=False,
                description="The extract relies on these columns; a vendor export without one is unusable.",
            ),
            e.ExpectTableRowCountToBeBetween(
                min_value=1,
                description="An empty batch means the extract read nothing: a broken export, not a quiet day.",
            ),
            e.ExpectColumnValuesToNotBeNull(
                column="order_id",
                description="order_id is the merge key; a null key cannot be deduplicated or joined.",
            ),
            e.ExpectColumnValuesToBeUnique(
                column="order_id", description="One row per order per batch; duplicates would double revenue."
            ),
            e.ExpectColumnValuesToNotBeNull(
                column="customer_id",
                description="An order without a customer cannot reach the customer 360 or RFM.",
            ),
            e.ExpectColumnValuesToNotBeNull(
                column="ordered_at",
                description="Orders without a timestamp cannot be placed in any day or cohort.",
            ),
            e.ExpectColumnValuesToBeBetween(
                column="order_total",
                min_value=0,
                max_value=MAX_ORDER_TOTAL,
                description="Totals are non-negative (refunds are a status, not a negative order) and plausible.",
            ),
            e.ExpectColumnValuesToBeInSet(
                column="currency",
                value_set=ACCEPTED_CURRENCIES,
                description="Only currencies with an FX rate can be converted to the reporting currency.",
            ),
            e.ExpectColumnValuesToBeInSet(
                column="status",
                value_set=ACCEPTED_STATUSES,
                description="Net revenue logic knows only these statuses; a new one needs a modelling decision.",
            ),
        ],
    )
