"""The :class:`Account`: a computed GEP account read back from its output folder.

An account folder holds ``account.csv`` (long table), ``methods.csv``, ``summary.json``,
``provenance.json`` and ``maps/``. ``Account.load`` reads them; the reports, the analytics and the
platform all work from this object, so they never recompute what the engine wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

CATEGORIES = ("material", "regulating", "cultural")
ACCOUNT_COLUMNS = (
    "year",
    "region_code",
    "region_name",
    "level",
    "category",
    "item",
    "item_name_zh",
    "item_name_en",
    "component",
    "physical_quantity",
    "physical_unit",
    "value_yuan",
    "method",
    "profile",
)
"""Columns of ``account.csv``, in file order (the engine writes them, the store reads them)."""


@dataclass(frozen=True)
class Check:
    """One accounting identity: ``residual`` must be within ``tolerance``."""

    name: str
    residual: float
    tolerance: float
    detail: str

    @property
    def ok(self) -> bool:
        return abs(self.residual) <= self.tolerance


@dataclass(frozen=True)
class Account:
    """A GEP account for one year.

    Attributes:
        directory: the output folder it was read from.
        table: ``account.csv``: one row per region or zone × item × component (component "" is the
            item's main quantity), values in yuan.
        methods: ``methods.csv``: every catalogue item with status, formula, parameters and notes.
        summary: ``summary.json``.
        provenance: ``provenance.json`` (empty if absent).
    """

    directory: Path
    table: pd.DataFrame
    methods: pd.DataFrame
    summary: dict
    provenance: dict

    @classmethod
    def load(cls, directory: str | Path) -> Account:
        directory = Path(directory)
        if not (directory / "account.csv").is_file():
            raise FileNotFoundError(f"{directory}: no account.csv; expected a folder written by `gep account`")
        table = pd.read_csv(
            directory / "account.csv",
            dtype={"region_code": str, "component": str},
            keep_default_na=False,
            encoding="utf-8-sig",
        )
        methods = pd.read_csv(directory / "methods.csv", keep_default_na=False, encoding="utf-8-sig")
        summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
        provenance_path = directory / "provenance.json"
        provenance = json.loads(provenance_path.read_text(encoding="utf-8")) if provenance_path.is_file() else {}
        return cls(directory, table, methods, summary, provenance)

    @property
    def year(self) -> int:
        return int(self.summary["year"])

    @property
    def profile(self) -> str:
        return str(self.summary["profile"])

    @property
    def synthetic(self) -> bool:
        return bool(self.summary.get("synthetic"))

    def items(self) -> pd.DataFrame:
        """Main rows only (no components): one row per region or zone × item."""
        return self.table[self.table["component"] == ""]

    def regions(self) -> list[dict]:
        """Per-region summaries (``summary.json`` ``regions``), regions first, then zones."""
        return list(self.summary["regions"])

    def region(self, code: str) -> dict:
        for region in self.summary["regions"]:
            if region["region_code"] == code:
                return region
        known = ", ".join(r["region_code"] for r in self.summary["regions"][:10])
        raise KeyError(f"region {code!r} is not in this account; known codes include {known}")

    def totals(self, code: str) -> dict[str, float]:
        """GEP and its three parts for region ``code``, in yuan."""
        region = self.region(code)
        return {"gep_yuan": region["gep_yuan"], **{f"{c}_yuan": region[f"{c}_yuan"] for c in CATEGORIES}}

    def map_path(self, item: str, kind: str = "value") -> Path:
        """Path of an item's COG (``kind`` = "value" or "physical") or of ``gep_density``."""
        name = f"{item}.tif" if item == "gep_density" else f"{item}_{kind}.tif"
        return self.directory / "maps" / name

    def checks(self, tolerance: float = 1e-6) -> list[Check]:
        """The children-sum identity for every region with children and every item: parent value
        minus the sum of its children's values, for regions whose children tile them."""
        items = self.items()
        regions = items[items["level"] != "zone"]
        parent_of = _parents(self)
        out = []
        for parent, children in parent_of.items():
            for item, rows in regions.groupby("item"):
                values = rows.set_index("region_code")["value_yuan"]
                if parent not in values.index or not set(children) <= set(values.index):
                    continue
                residual = float(values[parent] - values[list(children)].sum())
                scale = max(1.0, abs(float(values[parent])))
                out.append(
                    Check(
                        f"children_sum:{parent}:{item}",
                        residual,
                        tolerance * scale,
                        f"{parent} minus the sum of {', '.join(children)}",
                    )
                )
        return out


def _parents(account: Account) -> dict[str, list[str]]:
    """parent code -> child codes, from provenance-free data: the summary keeps region levels only, so
    the hierarchy comes from ``regions.json`` written beside the account."""
    path = account.directory / "regions.json"
    if not path.is_file():
        return {}
    regions = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for region in regions:
        if region.get("parent"):
            out.setdefault(region["parent"], []).append(region["code"])
    return out
