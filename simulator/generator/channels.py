"""Traffic channels and the ad platforms' campaigns: shared by web sessions, ad reports and the truth files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (utm source, utm medium, paying ad platform or "").
CHANNELS = [
    ("google", "cpc", "google_ads"),
    ("facebook", "paid_social", "meta_ads"),
    ("newsletter", "email", ""),
    ("google", "organic", ""),
    ("(direct)", "(none)", ""),
]
GOOGLE, META, EMAIL, ORGANIC, DIRECT = range(len(CHANNELS))
#: Channel of a person's first visit (acquisition) and of later visits (returning people open emails, type the URL).
FIRST_VISIT_WEIGHTS = np.array([0.25, 0.20, 0.05, 0.30, 0.20])
RETURN_VISIT_WEIGHTS = np.array([0.18, 0.12, 0.25, 0.20, 0.25])
EMAIL_CAMPAIGN = "weekly_newsletter"

SOURCES = [c[0] for c in CHANNELS]
MEDIUMS = [c[1] for c in CHANNELS]
PLATFORMS = [c[2] for c in CHANNELS]


@dataclass(frozen=True)
class Campaigns:
    platform: np.ndarray  # channel index: GOOGLE or META
    campaign_id: list[str]
    name: list[str]

    def of(self, channel: int) -> np.ndarray:
        return np.flatnonzero(self.platform == channel)


def campaigns() -> Campaigns:
    themes = ["brand", "generic", "retargeting", "prospecting", "seasonal", "shopping"]
    google = [f"G-{i}" for i in range(1, 7)]
    meta = [f"{238_000_000 + i}" for i in range(1, 6)]
    return Campaigns(
        platform=np.array([GOOGLE] * len(google) + [META] * len(meta)),
        campaign_id=google + meta,
        name=[f"GA | {themes[i]}" for i in range(len(google))] + [f"FB - {themes[i]}" for i in range(len(meta))],
    )
