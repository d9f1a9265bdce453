"""Loyalty: members and tiers on the as-of date, the points liability, and tier migrations."""

import streamlit as st

import marts
from widgets import key_figures, page_header

page_header("Loyalty", "Liability = outstanding points x point value, at the as-of date's rate.")

totals = marts.query(
    """
    select
        count(*) as members,
        sum(points_balance) as points_balance,
        sum(points_liability_reporting) as points_liability
    from mart_loyalty
    """
).iloc[0]
key_figures(
    [
        ("Members", totals["members"], "count"),
        ("Outstanding points", totals["points_balance"], "count"),
        ("Points liability", totals["points_liability"], "money"),
    ]
)

left, right = st.columns(2)
tiers = marts.query(
    """
    select
        loyalty_tier,
        count(*) as members,
        sum(points_liability_reporting) as points_liability,
        count(*) filter (where is_repeat_purchaser) / count(*) as repeat_purchase_rate
    from mart_loyalty
    group by loyalty_tier
    order by min(tier_rank)
    """
)
left.subheader("Tiers")
left.dataframe(
    tiers,
    hide_index=True,
    column_config={"repeat_purchase_rate": st.column_config.NumberColumn(format="percent")},
)

points_by_month = marts.query(
    """
    select
        strftime(month_start, '%Y-%m') as month,
        sum(points_earned) as earned,
        sum(points_redeemed) as redeemed,
        sum(points_expired) as expired
    from mart_loyalty_monthly
    group by month
    order by month
    """
)
right.subheader("Points per month")
right.bar_chart(points_by_month, x="month", y=["earned", "redeemed", "expired"], stack=False)

st.subheader("Tier migrations")
migrations = marts.query(
    """
    select strftime(month_start, '%Y-%m') as month, from_tier, to_tier, migration_type, members
    from mart_loyalty_tier_migrations
    where migration_type <> 'unchanged'
    order by month desc, members desc, from_tier, to_tier
    """
)
st.dataframe(migrations, hide_index=True, width="stretch")
