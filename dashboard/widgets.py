"""What every page shows the same way: the header with the published run, and key figures with fixed formats.

Key figures use fixed formats (money and ratios to 2 decimals, counts whole, shares to 0.1%) so the browser test can
read them back exactly and compare them with the marts.
"""

from __future__ import annotations

import math

import streamlit as st

import marts

FORMATS = {
    "money": "{:,.2f}",
    "count": "{:,.0f}",
    "ratio": "{:,.2f}",
    "hours": "{:,.2f}",
    "percent": "{:.1%}",
    "text": "{}",
}


def page_header(title: str, description: str) -> dict[str, object]:
    """Title, what the page answers, and which published run it shows; stops the page if nothing is published."""
    st.title(title)
    try:
        published = marts.publish_details()
    except marts.NoPublishedMarts as exc:
        st.error(str(exc))
        st.stop()
    currency = marts.query("select any_value(reporting_currency) as c from fct_orders")["c"].iloc[0]
    st.caption(
        f"Data as of {published['as_of_date']} (published {published['published_at']:%Y-%m-%d %H:%M} UTC); "
        f"money in {currency}, the reporting currency. {description}"
    )
    return published


def formatted(value: object, kind: str) -> str:
    """A figure as shown: `n/a` for a missing value (e.g. a ratio without a denominator)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return FORMATS[kind].format(float(value) if kind != "text" else value)


def key_figures(figures: list[tuple[str, object, str]], help_texts: dict[str, str] | None = None) -> None:
    """A row of st.metric tiles: (label, value, format kind)."""
    help_texts = help_texts or {}
    for column, (label, value, kind) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(label, formatted(value, kind), help=help_texts.get(label))
