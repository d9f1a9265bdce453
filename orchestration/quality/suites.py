"""Discover the GX suites in `expectations/`: each module with SUITE_NAME, DATASET and row_rules() gates a dataset."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import expectations


def suite_modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.iter_modules(expectations.__path__) if not m.name.startswith("_")]
    modules = [importlib.import_module(f"expectations.{name}") for name in names]
    return sorted((m for m in modules if hasattr(m, "row_rules")), key=lambda m: m.SUITE_NAME)
