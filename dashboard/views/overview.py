"""Executive overview: revenue, customers, retention and CLV at a glance."""

import streamlit as st

import marts
from widgets import key_figures, page_header

page_header("Executive overview", "Every figure is read from the published marts.")

customer_totals = marts.query(
    """
    select
        sum(net_revenue_reporting) as net_revenue,
        count(*) filter (where completed_order_count > 0) as buying_customers,
        count(*) filter (where lifecycle_stage in ('new', 'active', 'reactivated')) as active_customers,
        sum(net_revenue_reporting) / nullif(sum(completed_order_count), 0) as average_order_value
    from mart_customer_360
    """
).iloc[0]
month_one_retention = marts.query(
    """
    select sum(active_customers) / nullif(sum(cohort_size), 0) as retention_rate
    from mart_cohort_retention
    where months_since_first_order = 1
    """
).iloc[0]
clv_totals = marts.query(
    """
    select
        sum(predicted_clv_12_months_reporting) as predicted_clv_12_months,
        sum(predicted_clv_12_months_reporting) / nullif(sum(customers), 0) as average_predicted_clv_12_months
    from mart_clv_summary
    where dimension = 'rfm_segment'
    """
).iloc[0]

key_figures(
    [
        ("Net revenue", customer_totals["net_revenue"], "money"),
        ("Buying customers", customer_totals["buying_customers"], "count"),
        ("Active customers", customer_totals["active_customers"], "count"),
        ("Average order value", customer_totals["average_order_value"], "money"),
    ],
    {"Active customers": "Lifecycle stage new, active or reactivated: last completed order at most 90 days ago."},
)
key_figures(
    [
        ("Month-1 retention", month_one_retention["retention_rate"], "percent"),
        ("Predicted 12-month CLV", clv_totals["predicted_clv_12_months"], "money"),
        ("Average 12-month CLV", clv_totals["average_predicted_clv_12_months"], "money"),
    ],
    {"Month-1 retention": "Customers of every cohort who bought again in the month after their first order."},
)

left, right = st.columns(2)
revenue_by_month = marts.query(
    """
    select
        strftime(date_trunc('month', order_date), '%Y-%m') as order_month,
        sum(net_revenue_reporting) as net_revenue
    from fct_orders
    where order_date <= (select cast(details ->> 'as_of_date' as date) from _publish_log)
    group by all
    order by order_month
    """
)
left.subheader("Net revenue by month")
left.bar_chart(revenue_by_month, x="order_month", y="net_revenue", x_label="month", y_label="net revenue")

lifecycle_stages = marts.query(
    """
    select lifecycle_stage, count(*) as customers
    from mart_customer_360
    group by lifecycle_stage
    order by customers desc
    """
)
right.subheader("Customers by lifecycle stage")
right.bar_chart(lifecycle_stages, x="lifecycle_stage", y="customers", horizontal=True)
