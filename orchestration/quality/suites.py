"""Discover the GX suites in `expectations/`: each module with SUITE_NAME, DATASET and build_suite() gates a dataset."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import expectations


def suite_modules() -> list[ModuleType]:
    modules = [importlib.import_module(f"expectations.{m.name}") for m in pkgutil.iter_modules(expectations.__path__)]
    return sorted((m for m in modules if hasattr(m, "build_suite")), key=lambda m: m.SUITE_NAME)
