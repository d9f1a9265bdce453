"""Customer lookup: one customer's 360 profile, found by its pseudonymous key."""

import streamlit as st

import marts
from widgets import formatted, key_figures, page_header

page_header(
    "Customer lookup",
    "Customers are found by `customer_key`, a keyed pseudonym: CRM ids, emails and names never leave the warehouse.",
)

prefix = st.text_input("customer_key starts with", placeholder="e.g. 3fa9", max_chars=64).strip().lower()
matching = marts.query(
    """
    select customer_key, lifecycle_stage, rfm_segment, completed_order_count, net_revenue_reporting
    from mart_customer_360
    where starts_with(customer_key, ?)
    order by net_revenue_reporting desc nulls last, customer_key
    limit 200
    """,
    prefix,
)
if matching.empty:
    st.warning(f"No customer_key starts with {prefix!r}.")
    st.stop()

customer_key = st.selectbox("Customer (highest net revenue first)", matching["customer_key"])
profile = marts.query(
    "select * exclude (email_pseudonym) from mart_customer_360 where customer_key = ?", customer_key
).iloc[0]

st.subheader("Orders and value")
key_figures(
    [
        ("Completed orders", profile["completed_order_count"], "count"),
        ("Net revenue", profile["net_revenue_reporting"], "money"),
        ("Average order value", profile["average_order_value_reporting"], "money"),
        ("Refunded orders", profile["refunded_order_count"], "count"),
        ("Predicted 12-month CLV", profile["predicted_clv_12_months_reporting"], "money"),
    ]
)
st.subheader("Segment, loyalty, web and service")
key_figures(
    [
        ("RFM segment", profile["rfm_segment"], "text"),
        ("Lifecycle stage", profile["lifecycle_stage"], "text"),
        ("Loyalty tier", profile["loyalty_tier"], "text"),
    ]
)
key_figures(
    [
        ("Points balance", profile["loyalty_points_balance"], "count"),
        ("Web sessions", profile["web_session_count"], "count"),
        ("Support tickets", profile["support_ticket_count"], "count"),
    ]
)

st.subheader("Profile")
st.dataframe(
    {"field": list(profile.index), "value": [formatted(value, "text") for value in profile.to_numpy()]},
    hide_index=True,
    width="stretch",
)

st.subheader("Customers matching the key")
st.dataframe(matching, hide_index=True, width="stretch")
