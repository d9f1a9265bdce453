"""Gate on the unpublished loads of support tickets (raw.crm_support_tickets: one row per ticket, latest status)."""

from expectations import _rules as r

SUITE_NAME = "raw_crm_support_tickets"
DATASET = ("raw", "crm_support_tickets")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = None  # a quiet week without tickets is good news, not a stalled export
VOLUME_BAND = 3.0
VOLUME_DAY = "cast(created_at as date)"
CHANNELS = ["email", "chat", "phone"]
STATUSES = ["open", "pending", "solved"]

TABLE_METRICS = """
    count(*) as row_count,
    count(ticket_id) - count(distinct ticket_id) as duplicate_ticket_ids,
    count(*) filter (where first_response_at < created_at or resolved_at < first_response_at) as out_of_order,
    count(*) filter (where status = 'solved' and resolved_at is null) as solved_without_resolution,
    max(updated_at) as max_updated_at
"""


def row_rules() -> list:
    return [
        r.columns_present(["ticket_id", "customer_id", "created_at", "status", "csat_score", "updated_at"]),
        r.not_null("ticket_id", "ticket_id is the merge key: a status change must land on the same ticket."),
        r.well_formed_id("ticket_id"),
        r.not_null("customer_id", "A ticket belongs to a customer; without one it cannot reach the customer 360."),
        r.not_null("created_at", "Response and resolution times are measured from creation."),
        r.in_set("status", STATUSES, "Service-level logic knows only these states; a new one needs a decision."),
        r.in_set("channel", CHANNELS, "Support reporting splits by these channels."),
        r.between("csat_score", "CSAT is a 1..5 rating (null when not rated); anything else is a unit error.", 1, 5),
    ]


def table_rules() -> list:
    return [
        # No not_empty rule: tickets are sparse, a day without any is normal (the volume band judges busy tables).
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(r.NEWEST_DAY_ROWS),
        r.no_duplicate_keys("duplicate_ticket_ids"),
        r.metric_between(
            "out_of_order", "A ticket is answered after it is opened and solved after it is answered.", 0, 0
        ),
        r.metric_between(
            "solved_without_resolution", "Resolution time needs the resolution timestamp of a solved ticket.", 0, 0
        ),
        r.not_in_future("max_updated_at"),
    ]
