"""CLV by acquisition cohort and by acquisition channel (first web touch)."""

import streamlit as st

import marts
from widgets import key_figures, page_header

page_header(
    "CLV by cohort and channel",
    "Historical value and the 12-month predictive CLV (BG/NBD + Gamma-Gamma) per acquisition cohort and channel.",
)

totals = marts.query(
    """
    select
        sum(customers) as customers,
        sum(historical_net_revenue_reporting) as historical_net_revenue,
        sum(predicted_clv_12_months_reporting) as predicted_clv_12_months
    from mart_clv_summary
    where dimension = 'cohort_month'
    """
).iloc[0]
key_figures(
    [
        ("Customers with a completed order", totals["customers"], "count"),
        ("Historical net revenue", totals["historical_net_revenue"], "money"),
        ("Predicted 12-month CLV", totals["predicted_clv_12_months"], "money"),
    ]
)

st.subheader("By acquisition cohort")
by_cohort = marts.query(
    """
    select
        dimension_value as cohort_month,
        customers,
        average_historical_net_revenue_reporting,
        average_predicted_clv_12_months_reporting,
        average_probability_alive
    from mart_clv_summary
    where dimension = 'cohort_month'
    order by cohort_month
    """
)
left, right = st.columns(2)
left.bar_chart(by_cohort, x="cohort_month", y="average_predicted_clv_12_months_reporting", y_label="avg 12-month CLV")
right.dataframe(by_cohort, hide_index=True)

st.subheader("By acquisition channel (first web touch)")
by_channel = marts.query(
    """
    select
        acquisition_channel,
        customers_acquired,
        average_gross_margin_to_date_reporting,
        average_predicted_clv_12_months_reporting,
        average_clv_reporting,
        customer_acquisition_cost_reporting,
        clv_to_cac_ratio
    from mart_channel_clv_cac
    order by customers_acquired desc, acquisition_channel
    """
)
st.dataframe(by_channel, hide_index=True, width="stretch")
