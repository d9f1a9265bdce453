"""Marketing: spend and what it bought per ad platform and channel, and CLV:CAC per acquisition channel.

Ratios are ratios of sums (ROAS = attributed revenue / spend, CAC = spend / new customers), never averages of the
daily ratios in the mart; unpaid channels have no spend, so no ROAS or CAC.
"""

import streamlit as st

import marts
from widgets import key_figures, page_header

page_header(
    "Marketing",
    "ROAS = attributed net revenue / spend; CAC = spend / new customers (first touch); ratios of sums.",
)

totals = marts.query(
    """
    select
        sum(spend_reporting) as spend,
        sum(last_touch_revenue_reporting) filter (where is_paid)
            / nullif(sum(spend_reporting), 0) as roas_last_touch,
        sum(spend_reporting) / nullif(sum(new_customers) filter (where is_paid), 0) as customer_acquisition_cost
    from mart_marketing_performance
    """
).iloc[0]
key_figures(
    [
        ("Ad spend", totals["spend"], "money"),
        ("ROAS (last touch, paid channels)", totals["roas_last_touch"], "ratio"),
        ("CAC (paid channels)", totals["customer_acquisition_cost"], "money"),
    ]
)

st.subheader("By ad platform")
by_platform = marts.query(
    """
    select
        ad_platform,
        sum(spend_reporting) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(clicks) / nullif(sum(impressions), 0) as click_through_rate,
        sum(last_touch_revenue_reporting) as last_touch_revenue,
        sum(last_touch_revenue_reporting) / nullif(sum(spend_reporting), 0) as roas_last_touch,
        sum(first_touch_revenue_reporting) / nullif(sum(spend_reporting), 0) as roas_first_touch,
        sum(new_customers) as new_customers,
        sum(spend_reporting) / nullif(sum(new_customers), 0) as customer_acquisition_cost
    from mart_marketing_performance
    where is_paid
    group by ad_platform
    order by spend desc
    """
)
left, right = st.columns([1, 2])
left.bar_chart(by_platform, x="ad_platform", y="roas_last_touch", y_label="ROAS (last touch)")
right.dataframe(
    by_platform,
    hide_index=True,
    column_config={"click_through_rate": st.column_config.NumberColumn(format="percent")},
)

st.subheader("By channel")
by_channel = marts.query(
    """
    select
        channel,
        sum(spend_reporting) as spend,
        sum(last_touch_orders) as last_touch_orders,
        sum(last_touch_revenue_reporting) as last_touch_revenue,
        sum(last_touch_revenue_reporting) / nullif(sum(spend_reporting), 0) as roas_last_touch,
        sum(new_customers) as new_customers,
        -- unpaid channels: no spend, so no CAC (null, as in the mart), not 0
        nullif(sum(spend_reporting), 0) / nullif(sum(new_customers), 0) as customer_acquisition_cost
    from mart_marketing_performance
    group by channel
    order by last_touch_revenue desc
    """
)
st.dataframe(by_channel, hide_index=True, width="stretch")

st.subheader("CLV:CAC per acquisition channel (paid)")
clv_to_cac = marts.query(
    """
    select
        acquisition_channel,
        ad_platform,
        customers_acquired,
        average_clv_reporting,
        customer_acquisition_cost_reporting,
        clv_to_cac_ratio
    from mart_channel_clv_cac
    where spend_reporting > 0
    order by clv_to_cac_ratio desc
    """
)
left, right = st.columns([1, 2])
left.bar_chart(clv_to_cac, x="acquisition_channel", y="clv_to_cac_ratio", y_label="CLV:CAC")
right.dataframe(clv_to_cac, hide_index=True)
