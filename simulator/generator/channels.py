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
    ("tiktok", "paid_social", "tiktok_ads"),
]
GOOGLE, META, EMAIL, ORGANIC, DIRECT, TIKTOK = range(len(CHANNELS))
#: Channel of a person's first visit (acquisition) and of later visits (returning people open emails, type the URL).
#: TikTok's visits are not drawn here (weight 0) but carved out of the unpaid ones, see TIKTOK_SHARE_OF_UNPAID.
FIRST_VISIT_WEIGHTS = np.array([0.25, 0.20, 0.05, 0.30, 0.20, 0.0])
RETURN_VISIT_WEIGHTS = np.array([0.18, 0.12, 0.25, 0.20, 0.25, 0.0])
#: TikTok Ads (added after the others) brings this share of the visits that would otherwise be organic or direct,
#: drawn from its own random stream: adding it left every Google Ads and Meta Ads figure of a seed as it was.
TIKTOK_SHARE_OF_UNPAID = 0.15
EMAIL_CAMPAIGN = "weekly_newsletter"

SOURCES = [c[0] for c in CHANNELS]
MEDIUMS = [c[1] for c in CHANNELS]
PLATFORMS = [c[2] for c in CHANNELS]


@dataclass(frozen=True)
class Campaigns:
    platform: np.ndarray  # channel index: GOOGLE, META or TIKTOK
    campaign_id: list[str]
    name: list[str]

    def of(self, channel: int) -> np.ndarray:
        return np.flatnonzero(self.platform == channel)


def campaigns() -> Campaigns:
    themes = ["brand", "generic", "retargeting", "prospecting", "seasonal", "shopping"]
    google = [f"G-{i}" for i in range(1, 7)]
    meta = [f"{238_000_000 + i}" for i in range(1, 6)]
    tiktok = [f"{1_780_400_000_000_000_000 + i}" for i in range(1, 5)]  # TikTok ids: 19 digits
    return Campaigns(
        platform=np.array([GOOGLE] * len(google) + [META] * len(meta) + [TIKTOK] * len(tiktok)),
        campaign_id=google + meta + tiktok,
        name=[f"GA | {themes[i]}" for i in range(len(google))]
        + [f"FB - {themes[i]}" for i in range(len(meta))]
        + [f"TT_{themes[i]}_uk" for i in range(len(tiktok))],
    )
