"""The declared ad platforms as dbt data: the `ad_platforms` var block of dbt_project.yml, generated from them.

dbt cannot import Python, so the dbt-facing part of each declaration (name, click id, utm patterns, paid channel;
AdPlatform.dbt_var) reaches it as a project var that models and macros loop over
(`{% for platform in var('ad_platforms') %}`). The block sits between two marker comments in dbt_project.yml and is
rewritten whole by `python -m orchestration.extract.ad_platforms.dbt_vars --write`; without `--write` it prints the
block. tests/test_ad_platforms.py fails when the committed block differs from the declarations.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from orchestration.extract.ad_platforms import AD_PLATFORMS

DBT_PROJECT_YML = Path(__file__).resolve().parents[3] / "dbt_project" / "dbt_project.yml"
START = "  # ad-platforms:start"
END = "  # ad-platforms:end"


def vars_block() -> str:
    lines = [
        f"{START} (generated from orchestration/extract/ad_platforms/ by",
        "  # `python -m orchestration.extract.ad_platforms.dbt_vars --write`: edit the declarations, not this block)",
        "  ad_platforms:",
        *(f"    - {json.dumps(p.dbt_var())}" for p in AD_PLATFORMS),
        END,
    ]
    return "\n".join(lines)


def committed_block(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def write(path: Path = DBT_PROJECT_YML) -> bool:
    """Rewrite the block in place; True when it changed."""
    text = path.read_text()
    new = text.replace(committed_block(text), vars_block())
    if new == text:
        return False
    path.write_text(new)
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        print(f"{DBT_PROJECT_YML}: {'updated' if write() else 'up to date'}")
    else:
        print(vars_block())
