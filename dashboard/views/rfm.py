"""RFM segments and how customers moved between them since the end of last month."""

import streamlit as st

import marts
from widgets import key_figures, page_header

page_header(
    "RFM segments",
    "Every customer with a completed order, scored on recency, frequency and monetary value (quintiles 1-5) and "
    "mapped to a segment: analytics over every buyer, consenting or not, not a marketing list.",
)

totals = marts.query(
    """
    select
        count(*) as scored_customers,
        count(*) filter (where rfm_segment = 'Champions') as champions,
        sum(monetary_reporting) as monetary_total
    from mart_rfm
    """
).iloc[0]
moves = marts.query("select sum(customers) filter (where is_move) as moved_customers from mart_rfm_transitions").iloc[0]
key_figures(
    [
        ("Scored customers", totals["scored_customers"], "count"),
        ("Champions", totals["champions"], "count"),
        ("Monetary value", totals["monetary_total"], "money"),
        ("Changed segment since last month end", moves["moved_customers"], "count"),
    ]
)

segments = marts.query(
    """
    select
        rfm_segment,
        count(*) as customers,
        sum(monetary_reporting) as monetary_value,
        avg(recency_days) as average_recency_days,
        avg(frequency) as average_frequency
    from mart_rfm
    group by rfm_segment
    order by customers desc
    """
)
left, right = st.columns(2)
left.subheader("Customers per segment")
left.bar_chart(segments, x="rfm_segment", y="customers", horizontal=True)
right.subheader("Segments")
right.dataframe(
    segments,
    hide_index=True,
    column_config={
        "monetary_value": st.column_config.NumberColumn(format="%.2f"),
        "average_recency_days": st.column_config.NumberColumn(format="%.1f"),
        "average_frequency": st.column_config.NumberColumn(format="%.2f"),
    },
)

st.subheader("Transitions since the end of last month")
transitions = marts.query(
    """
    select from_segment, to_segment, customers, share_of_from_segment
    from mart_rfm_transitions
    where is_move
    order by customers desc, from_segment, to_segment
    """
)
st.dataframe(
    transitions,
    hide_index=True,
    width="stretch",
    column_config={"share_of_from_segment": st.column_config.NumberColumn(format="percent")},
)
