"""Service: ticket volume, first response time and CSAT."""

import streamlit as st

import marts
from widgets import key_figures, page_header

page_header("Service", "One row per support ticket (fct_support_tickets); CSAT 1-5 over the rated tickets.")

totals = marts.query(
    """
    select
        count(*) as tickets,
        count(*) filter (where is_open) as open_tickets,
        median(first_response_hours) as median_first_response_hours,
        avg(csat_score) as average_csat
    from fct_support_tickets
    """
).iloc[0]
key_figures(
    [
        ("Tickets", totals["tickets"], "count"),
        ("Open tickets", totals["open_tickets"], "count"),
        ("Median first response (hours)", totals["median_first_response_hours"], "hours"),
        ("Average CSAT", totals["average_csat"], "ratio"),
    ]
)

by_month = marts.query(
    """
    select
        strftime(date_trunc('month', created_date), '%Y-%m') as month,
        count(*) as tickets,
        median(first_response_hours) as median_first_response_hours,
        avg(csat_score) as average_csat
    from fct_support_tickets
    group by all
    order by month
    """
)
left, right = st.columns(2)
left.subheader("Median first response (hours) by month")
left.line_chart(by_month, x="month", y="median_first_response_hours")
right.subheader("Average CSAT by month")
right.line_chart(by_month, x="month", y="average_csat")

for dimension, title in (("ticket_channel", "By channel"), ("ticket_category", "By category")):
    st.subheader(title)
    st.dataframe(
        marts.query(
            f"""
            select
                {dimension},
                count(*) as tickets,
                median(first_response_hours) as median_first_response_hours,
                avg(resolution_hours) as average_resolution_hours,
                avg(csat_score) as average_csat
            from fct_support_tickets
            group by {dimension}
            order by tickets desc
            """
        ),
        hide_index=True,
        width="stretch",
    )
