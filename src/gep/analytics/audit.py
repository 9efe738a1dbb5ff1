"""Departure audit (领导干部自然资源资产离任审计) of GEP over an official's tenure.

For a tenure (region, start year, end year), GEP is compared at comparable prices of the start year::

    V*(t) = V(t) · I(start) / I(t)          I = price index (any base)
    change = V*(end) − V(start);  rate = change / V(start)

The tenure is flagged when rate < −threshold (default 5 %, an unverified choice: the plan, 五（四）4,
asks for accountability for a "serious decline" without a number). The same comparison item by item
shows what drove the change: items are sorted so those pushing in the direction of the total change
come first, with share_of_change = item change / total change. Without a price index the comparison
is at current prices (warning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gep.analytics.indicators import load_toml
from gep.problems import GepInputError, Problem, error, warning

DEFAULT_RULE = "audit_default.toml"


@dataclass(frozen=True)
class Tenure:
    region_code: str
    start_year: int
    end_year: int
    official: str = ""


@dataclass(frozen=True)
class AuditRule:
    """``decline_threshold``: fraction of start-year GEP (0.05 = 5 %)."""

    decline_threshold: float = 0.05
    source: str = ""


def load_audit_rule(path: str | Path | None = None) -> AuditRule:
    data, source = load_toml(path, DEFAULT_RULE)
    raw = data.get("audit", {})
    threshold = raw.get("decline_threshold", 0.05)
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold < 1:
        raise GepInputError(
            [
                error(
                    "analytics_config_invalid",
                    source,
                    "audit.decline_threshold",
                    reason=f"{threshold!r} is not in [0, 1)",
                )
            ]
        )
    if raw.get("price_base", "start") != "start":
        raise GepInputError(
            [error("analytics_config_invalid", source, "audit.price_base", reason="only 'start' is supported")]
        )
    return AuditRule(float(threshold), str(raw.get("source", source)))


@dataclass(frozen=True)
class AuditResult:
    """``summary``: one dict (see :func:`audit_tenure`); ``items``: item-level changes; ``problems``: warnings."""

    summary: dict[str, Any]
    items: pd.DataFrame
    problems: list[Problem]


def comparable_factor(year: int, base_year: int, deflators: Mapping[int, float] | None) -> float:
    """I(base_year) / I(year): multiply a value of ``year`` by it to express it at ``base_year`` prices."""
    if deflators is None:
        return 1.0
    return deflators[base_year] / deflators[year]


def audit_tenure(
    items: pd.DataFrame,
    tenure: Tenure,
    rule: AuditRule = AuditRule(),
    deflators: Mapping[int, float] | None = None,
    source: str = "GEP",
) -> AuditResult:
    """Audit ``tenure`` with ``items`` (long table: region_code, region_name, year, category, item,
    value_yuan [, profile]; yuan) and ``deflators`` ({year: index}).

    Summary keys: official, region_code, region_name, start_year, end_year, price_base_year,
    gep_start_yuan, gep_end_yuan (nominal), gep_end_comparable_yuan, change_yuan, change_rate,
    threshold, flagged, comparable_prices, main_driver."""
    start, end = tenure.start_year, tenure.end_year
    if end < start:
        raise GepInputError([error("analytics_tenure_years", source, "end_year", start=start, end=end)])
    region = items[items["region_code"] == tenure.region_code]
    errors = []
    if region.empty:
        known = ", ".join(sorted(items["region_code"].astype(str).unique())[:10])
        errors.append(
            error("analytics_region_unknown", source, "region_code", value=tenure.region_code, expected=known)
        )
    else:
        errors += [
            error("analytics_no_gep", source, "year", region=tenure.region_code, year=y)
            for y in (start, end)
            if not (region["year"] == y).any()
        ]
    if deflators is not None:
        errors += [
            error("analytics_deflator_missing", source, "year", year=y)
            for y in sorted({start, end})
            if y not in deflators
        ]
    if errors:
        raise GepInputError(errors)
    problems: list[Problem] = []
    if deflators is None:
        problems.append(warning("analytics_no_deflator", source, None))
    before = region[region["year"] == start]
    after = region[region["year"] == end]
    if "profile" in region.columns:
        p0, p1 = str(before["profile"].iloc[0]), str(after["profile"].iloc[0])
        if p0 and p1 and p0 != p1:
            problems.append(
                warning(
                    "analytics_profile_differs", source, None, start=start, end=end, start_profile=p0, end_profile=p1
                )
            )
    factor = comparable_factor(end, start, deflators)
    v0 = before.groupby("item")["value_yuan"].sum()
    v1 = after.groupby("item")["value_yuan"].sum()
    categories = region.drop_duplicates("item").set_index("item")["category"]
    names = sorted(set(v0.index) | set(v1.index))
    for item in names:
        if item not in v0.index:
            problems.append(warning("analytics_item_one_year", source, item, item=item, present=end, absent=start))
        elif item not in v1.index:
            problems.append(warning("analytics_item_one_year", source, item, item=item, present=start, absent=end))
    start_values = v0.reindex(names, fill_value=0.0).astype(float)
    end_nominal = v1.reindex(names, fill_value=0.0).astype(float)
    end_real = end_nominal * factor
    change = end_real - start_values
    gep_start = float(start_values.sum())
    gep_end = float(end_nominal.sum())
    total_change = float(change.sum())
    rate = total_change / gep_start if gep_start else float("nan")
    flagged = bool(np.isfinite(rate) and rate < -rule.decline_threshold)
    table = pd.DataFrame(
        {
            "official": tenure.official,
            "region_code": tenure.region_code,
            "item": names,
            "category": [categories.get(n, "") for n in names],
            "start_yuan": start_values.to_numpy(),
            "end_yuan": end_nominal.to_numpy(),
            "end_comparable_yuan": end_real.to_numpy(),
            "change_yuan": change.to_numpy(),
        }
    )
    table["change_rate"] = np.where(
        table["start_yuan"] != 0,
        table["change_yuan"] / table["start_yuan"].where(table["start_yuan"] != 0, 1.0),
        np.nan,
    )
    table["share_of_change"] = table["change_yuan"] / total_change if total_change else np.nan
    table["share_of_start_gep"] = table["change_yuan"] / gep_start if gep_start else np.nan
    direction = np.sign(total_change)
    key = table["change_yuan"] * direction if direction != 0 else table["change_yuan"].abs()
    table = (
        table.assign(_key=key)
        .sort_values(["_key", "item"], ascending=[False, True], kind="stable")
        .drop(columns="_key")
    )
    table["rank"] = np.arange(1, len(table) + 1)
    table = table.reset_index(drop=True)
    summary = {
        "official": tenure.official,
        "region_code": tenure.region_code,
        "region_name": str(before["region_name"].iloc[0]) if "region_name" in before.columns else "",
        "start_year": start,
        "end_year": end,
        "price_base_year": start,
        "gep_start_yuan": gep_start,
        "gep_end_yuan": gep_end,
        "gep_end_comparable_yuan": gep_end * factor,
        "change_yuan": total_change,
        "change_rate": rate,
        "threshold": rule.decline_threshold,
        "flagged": flagged,
        "comparable_prices": deflators is not None,
        "main_driver": str(table["item"].iloc[0]) if len(table) else "",
    }
    return AuditResult(summary, table, problems)
