"""The Customer 360 dashboard: one page per question, every figure read from the published marts.

Run it with `make dashboard` (serves on http://127.0.0.1:8501); see README, "Dashboard".
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).parent / "views"

#: (file, title, url path): the page list, in menu order; the first is the home page (/).
PAGES = (
    ("overview.py", "Executive overview", ""),
    ("customers.py", "Customer lookup", "customers"),
    ("rfm.py", "RFM segments", "rfm"),
    ("clv.py", "CLV by cohort and channel", "clv"),
    ("loyalty.py", "Loyalty", "loyalty"),
    ("marketing.py", "Marketing", "marketing"),
    ("service.py", "Service", "service"),
    ("audiences.py", "Audiences", "audiences"),
)

st.set_page_config(page_title="Customer 360", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES_DIR / file, title=title, url_path=url_path or None, default=not url_path)
        for file, title, url_path in PAGES
    ]
)
navigation.run()
