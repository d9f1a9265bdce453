"""Discover the GX suites in `expectations/`: each module with SUITE_NAME, DATASET and row_rules() gates a dataset;
a module with `suites()` (one generic suite per declared ad platform, say) contributes each suite it returns."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import expectations


def suite_modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.iter_modules(expectations.__path__) if not m.name.startswith("_")]
    modules = [importlib.import_module(f"expectations.{name}") for name in names]
    found = [s for m in modules for s in (m.suites() if hasattr(m, "suites") else [m]) if hasattr(s, "row_rules")]
    return sorted(found, key=lambda m: m.SUITE_NAME)
