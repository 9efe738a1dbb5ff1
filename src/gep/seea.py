"""SEEA EA ecosystem-services supply tables by ecosystem type (physical Table 7.1a, monetary 9.1a).

Rows are the account's items with their SEEA EA reference-list code (Table 6.3); columns are the
ecosystem types of the land-cover class table, then the total supply. Physical rows keep their own
units and are never added across services (SEEA EA para 7.6). Items SEEA EA does not count as
ecosystem services (oxygen release, negative air ions, eco-energy) are kept apart in a memorandum
block, labelled, and left out of the monetary total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gep.catalog import load_catalog

ECOSYSTEM_TYPES = ("forest", "shrub", "grassland", "wetland", "cropland", "water", "urban", "bare")
ECOSYSTEM_LABELS = {
    "forest": ("森林", "Forest"),
    "shrub": ("灌丛", "Shrubland"),
    "grassland": ("草地", "Grassland"),
    "wetland": ("湿地", "Wetland"),
    "cropland": ("农田", "Cropland"),
    "water": ("水域", "Water bodies"),
    "urban": ("城镇", "Urban"),
    "bare": ("裸地", "Bare land"),
    "unclassified": ("未分类", "Unclassified"),
}
SEEA_SERVICES = {
    "1.1": "Crop provisioning services",
    "1.2": "Grazed biomass provisioning services",
    "1.4": "Aquaculture provisioning services",
    "1.5": "Wood provisioning services",
    "1.9": "Water supply",
    "2.1": "Global climate regulation services",
    "2.3": "Local (micro and meso) climate regulation services",
    "2.4": "Air filtration services",
    "2.6": "Soil erosion control services",
    "2.9": "Water purification services (nutrients)",
    "2.11": "Baseline flow maintenance services",
    "2.12": "Peak flow mitigation services",
    "2.13": "Coastal protection services",
    "2.15": "Storm mitigation services",
    "2.18": "Pest control services",
    "3.1": "Recreation-related services",
    "3.2": "Visual amenity services",
}


def ecosystem_index(landcover: np.ndarray | None, classes: pd.DataFrame | None, shape) -> tuple[np.ndarray, list[str]]:
    """Per pixel the index of its ecosystem type in the returned label list (-1 = no class)."""
    labels = [*ECOSYSTEM_TYPES, "unclassified"]
    if landcover is None or classes is None or "ecosystem" not in classes.columns:
        return np.full(shape, labels.index("unclassified"), dtype=np.int32), labels
    lut = np.full(int(max(classes.index.max(), landcover.max(), 0)) + 2, labels.index("unclassified"), dtype=np.int32)
    for code, ecosystem in classes["ecosystem"].items():
        lut[int(code)] = labels.index(ecosystem) if ecosystem in ECOSYSTEM_TYPES else labels.index("unclassified")
    out = np.full(shape, -1, dtype=np.int32)
    valid = landcover >= 0
    out[valid] = lut[landcover[valid]]
    return out, labels


class SupplyTables:
    """Builds the supply tables one item at a time from the item's totals per ecosystem type, so its
    per-pixel arrays can be dropped once summed (:class:`gep.engine.tally.Tally` gives the totals)."""

    def __init__(self, labels: Sequence[str] = (*ECOSYSTEM_TYPES, "unclassified")):
        self.labels = list(labels)
        self._physical: list[dict] = []
        self._money: list[dict] = []

    def add(self, item_id: str, unit: str, physical: Sequence[float], value_yuan: Sequence[float]) -> None:
        """Add the physical row (in ``unit``) and the monetary row (yuan) of one item, given its totals
        per ecosystem type (aligned with ``labels``)."""
        item = load_catalog().item(item_id)
        base = {
            "section": "seea" if item.in_seea else "memorandum: not an ecosystem service in SEEA EA",
            "seea_code": item.seea_code if item.in_seea else "",
            "seea_service": SEEA_SERVICES.get(item.seea_code, "") if item.in_seea else "",
            "category": item.category,
            "item": item.id,
            "item_name_zh": item.name_zh,
            "item_name_en": item.name_en,
        }
        for rows, sums, row_unit in ((self._physical, physical, unit), (self._money, value_yuan, "yuan")):
            totals = np.asarray(sums, dtype=np.float64)
            if totals.shape != (len(self.labels),):
                raise ValueError(f"{item_id}: {totals.size} ecosystem totals, expected {len(self.labels)}")
            row = {**base, "unit": row_unit, **{label: float(v) for label, v in zip(self.labels, totals, strict=True)}}
            row["total_supply"] = float(totals.sum())
            rows.append(row)

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(physical, monetary); the monetary table ends with the total over SEEA services."""
        labels = self.labels
        physical = _order(pd.DataFrame(self._physical), labels)
        monetary = _order(pd.DataFrame(self._money), labels)
        if not monetary.empty:
            seea = monetary[monetary["section"] == "seea"]
            total = {c: "" for c in monetary.columns}
            total.update(
                {
                    "section": "seea",
                    "item": "total",
                    "item_name_zh": "SEEA 生态系统服务合计",
                    "item_name_en": "Total SEEA ecosystem services",
                    "unit": "yuan",
                }
            )
            for label in [*labels, "total_supply"]:
                if label in monetary.columns:
                    total[label] = float(seea[label].sum())
            monetary = pd.concat([monetary, pd.DataFrame([total])], ignore_index=True)
        return physical, monetary


def _order(frame: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    frame = frame.sort_values(["section", "seea_code", "item"], key=lambda s: s.map(_sort_key), kind="stable")
    frame = pd.concat([frame[frame["section"] == "seea"], frame[frame["section"] != "seea"]])
    used = [label for label in labels if label != "unclassified" or frame[label].abs().sum() > 0]
    fixed = ["section", "seea_code", "seea_service", "category", "item", "item_name_zh", "item_name_en", "unit"]
    return frame[fixed + used + ["total_supply"]].reset_index(drop=True)


def _sort_key(value):
    text = str(value)
    if text.replace(".", "").isdigit():
        major, _, minor = text.partition(".")
        return f"{int(major):03d}.{int(minor or 0):03d}"
    return text
