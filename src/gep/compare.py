"""GEP over several years: comparable prices, year-over-year change, quantity and price effects.

Comparable-price value of year t in base-year prices: V_t × I_base / I_t, where I is a price index
from a deflator table (columns ``year``, ``index``; optional ``item`` or ``category`` columns give
item- or category-specific indices, which win over the general one).

Between two years the change of an item's value splits exactly into

    quantity effect = (Q1 − Q0) × P0        price effect = Q1 × (P1 − P0)

with the unit value P = V / Q of each year, so quantity + price effect = V1 − V0. Where the physical
quantity is itself a money figure (statistical output values, unit ``yuan``), P has no meaning and
the split uses the deflator instead: price effect = V1 − V1 × I0 / I1, quantity effect = the rest.
Where Q0 is 0 the whole change is a quantity effect.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gep.account import Account

KEYS = ["region_code", "region_name", "level", "category", "item"]


def read_deflators(frame: pd.DataFrame, source: str = "deflators") -> pd.DataFrame:
    """Check a deflator table: ``year`` and ``index`` required, optional ``item``/``category``."""
    missing = [c for c in ("year", "index") if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: columns {missing} are missing; expected year, index [, item | category]")
    out = frame.copy()
    out["year"] = pd.to_numeric(out["year"], errors="raise").astype(int)
    out["index"] = pd.to_numeric(out["index"], errors="raise").astype(float)
    if (out["index"] <= 0).any():
        bad = out.loc[out["index"] <= 0, "year"].tolist()
        raise ValueError(f"{source}: price index must be positive; years {bad} are not")
    for column in ("item", "category"):
        if column not in out.columns:
            out[column] = ""
        out[column] = out[column].fillna("").astype(str)
    return out


def price_index(deflators: pd.DataFrame | None, year: int, item: str, category: str) -> float:
    """The price index of ``year`` for ``item``: item-specific, else category, else general; 1.0
    when no deflator table is given."""
    if deflators is None:
        return 1.0
    rows = deflators[deflators["year"] == year]
    for mask in (
        rows["item"] == item,
        (rows["item"] == "") & (rows["category"] == category),
        (rows["item"] == "") & (rows["category"] == ""),
    ):
        hit = rows[mask]
        if not hit.empty:
            return float(hit["index"].iloc[0])
    raise ValueError(f"deflators: no price index for year {year} (item {item}); expected a row for every year compared")


def compare_accounts(
    accounts: Sequence[Account], deflators: pd.DataFrame | None = None, base_year: int | None = None
) -> pd.DataFrame:
    """One row per region × item × year: current and comparable value, change from the previous
    year (current and comparable) and its quantity and price effects."""
    if len(accounts) < 2:
        raise ValueError("comparison needs accounts for at least two years")
    ordered = sorted(accounts, key=lambda a: a.year)
    years = [a.year for a in ordered]
    if len(set(years)) != len(years):
        raise ValueError(f"two accounts have the same year: {years}")
    base = base_year if base_year is not None else years[0]
    frames = []
    for account in ordered:
        items = account.items()[[*KEYS, "physical_quantity", "physical_unit", "value_yuan"]].copy()
        items["year"] = account.year
        frames.append(items)
    long = pd.concat(frames, ignore_index=True)
    long["price_index"] = [
        price_index(deflators, y, i, c) for y, i, c in zip(long["year"], long["item"], long["category"], strict=True)
    ]
    long["base_index"] = [
        price_index(deflators, base, i, c) for i, c in zip(long["item"], long["category"], strict=True)
    ]
    long["value_comparable_yuan"] = long["value_yuan"] * long["base_index"] / long["price_index"]
    long = long.sort_values([*KEYS, "year"], kind="stable").reset_index(drop=True)
    previous = long.groupby(KEYS, sort=False).shift(1)
    long["change_yuan"] = long["value_yuan"] - previous["value_yuan"]
    long["change_comparable_yuan"] = long["value_comparable_yuan"] - previous["value_comparable_yuan"]
    long["change_share"] = long["change_yuan"] / previous["value_yuan"]
    quantity, price = [], []
    for row, prev in zip(long.itertuples(), previous.itertuples(), strict=True):
        if pd.isna(prev.value_yuan):
            quantity.append(float("nan"))
            price.append(float("nan"))
            continue
        q_effect, p_effect = _effects(row, prev)
        quantity.append(q_effect)
        price.append(p_effect)
    long["quantity_effect_yuan"] = quantity
    long["price_effect_yuan"] = price
    long["base_year"] = base
    return long.drop(columns=["base_index"])


def _effects(row, prev) -> tuple[float, float]:
    v0, v1 = float(prev.value_yuan), float(row.value_yuan)
    q0, q1 = float(prev.physical_quantity), float(row.physical_quantity)
    if row.physical_unit == "yuan":
        price = v1 - v1 * float(prev.price_index) / float(row.price_index)
        return v1 - v0 - price, price
    if q0 == 0.0 or q1 == 0.0:
        return v1 - v0, 0.0
    p0, p1 = v0 / q0, v1 / q1
    return (q1 - q0) * p0, q1 * (p1 - p0)


def gep_series(comparison: pd.DataFrame) -> pd.DataFrame:
    """GEP per region and year at current and comparable prices, with the year-over-year change."""
    totals = (
        comparison.groupby(["region_code", "region_name", "level", "year"], sort=False)[
            ["value_yuan", "value_comparable_yuan", "quantity_effect_yuan", "price_effect_yuan"]
        ]
        .sum(min_count=1)
        .reset_index()
        .rename(columns={"value_yuan": "gep_yuan", "value_comparable_yuan": "gep_comparable_yuan"})
    )
    totals = totals.sort_values(["region_code", "year"], kind="stable")
    grouped = totals.groupby("region_code", sort=False)
    totals["change_yuan"] = totals["gep_yuan"] - grouped["gep_yuan"].shift(1)
    totals["change_comparable_yuan"] = totals["gep_comparable_yuan"] - grouped["gep_comparable_yuan"].shift(1)
    totals["growth_comparable"] = totals["change_comparable_yuan"] / grouped["gep_comparable_yuan"].shift(1)
    return totals.reset_index(drop=True)
