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

st.subheader("Activation exports")
st.caption(
    "What each run uploads (published/activation/<run>/): the segment audiences in mart_audience_sizes, members with "
    "the channel's consent and profiling consent. The files themselves stay with the warehouse's owner."
)
exports = marts.query(
    "select audience, audience_channel, members from mart_audience_sizes order by audience, audience_channel"
)


def members(audience: str, channel: str) -> int:
    match = exports[(exports["audience"] == audience) & (exports["audience_channel"] == channel)]["members"]
    return int(match.iloc[0]) if len(match) else 0


key_figures(
    [
        ("Champions via ad platforms", members("champions", "ad_platforms"), "count"),
        ("High value at risk via e-mail", members("high_value_at_risk", "email"), "count"),
        ("Lapsed loyalty members via ad platforms", members("lapsed_loyalty_members", "ad_platforms"), "count"),
    ]
)
st.dataframe(exports, hide_index=True, width="stretch")
