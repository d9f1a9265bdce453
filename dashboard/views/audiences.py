"""Audiences: how many customers each activation channel may reach (sizes only, never the rows)."""

import streamlit as st

import marts
from widgets import key_figures, page_header

page_header(
    "Audiences",
    "One row per customer x channel in mart_audiences, only with the matching consent: email needs email consent, "
    "sms SMS consent, ad_platforms ad-personalisation consent.",
)

sizes = marts.query(
    """
    select
        audience_channel,
        count(*) as customers,
        count(*) filter (where has_profiling_consent) as with_profiling_consent
    from mart_audiences
    group by audience_channel
    order by customers desc
    """
).set_index("audience_channel")


def size(channel: str) -> int:
    return int(sizes["customers"].get(channel, 0))


key_figures(
    [
        ("E-mail audience", size("email"), "count"),
        ("SMS audience", size("sms"), "count"),
        ("Ad platforms audience", size("ad_platforms"), "count"),
    ]
)
st.dataframe(sizes.reset_index(), hide_index=True, width="stretch")
