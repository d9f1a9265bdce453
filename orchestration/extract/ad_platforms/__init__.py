"""The declared ad platforms: every module of this package defining `PLATFORM` (see declaration.py).

Adding a platform is adding a module here (plus its dbt staging model and the regenerated dbt var); nothing lists
platforms by hand. Ordered by name, so every loop over platforms (raw columns, dbt CASE branches) is stable.
"""

from __future__ import annotations

import importlib
import pkgutil

from orchestration.extract.ad_platforms.declaration import AdPlatform

__all__ = ["AD_PLATFORMS", "AdPlatform", "ad_platform", "by_raw_table"]


def _discover() -> tuple[AdPlatform, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in ("declaration", "dbt_vars"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        platform = getattr(module, "PLATFORM", None)
        if isinstance(platform, AdPlatform):
            if platform.name != info.name:
                raise ValueError(f"{module.__name__} declares {platform.name!r}: name the module after the platform")
            found.append(platform)
    return tuple(sorted(found, key=lambda p: p.name))


AD_PLATFORMS: tuple[AdPlatform, ...] = _discover()


def ad_platform(name: str) -> AdPlatform:
    for platform in AD_PLATFORMS:
        if platform.name == name:
            return platform
    raise KeyError(f"no ad platform {name!r}; declared: {', '.join(p.name for p in AD_PLATFORMS)}")


def by_raw_table(table: str) -> AdPlatform | None:
    return next((p for p in AD_PLATFORMS if p.raw_table == table), None)
