"""Realization rate (生态产品价值实现率) = realized value / GEP, overall and per GEP category.

What counts as realized is data (``data/realization_default.toml``, replaceable by the user's own
TOML): a list of components, each tied to a GEP category (material, regulating, cultural), with a
``share`` of the reported figure counted (0-1) and a ``counted`` switch. The realized-value table
gives one figure per region × year × component with its ``source`` (the table and row it was read
from); every output row keeps that source, so each realized yuan traces back to a figure.

    rate(category) = Σ_components in category  value_yuan × share  /  GEP_category
    rate(total)    = Σ_all components          value_yuan × share  /  GEP

The definition is unverified (the plan defines the rate only in words; see the data file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gep.account import CATEGORIES
from gep.analytics.indicators import load_toml
from gep.i18n import Text
from gep.problems import GepInputError, Problem, error, warning

DEFAULT_DEFINITION = "realization_default.toml"
CATEGORY_NAMES = {
    "material": ("物质产品", "material products"),
    "regulating": ("调节服务", "regulating services"),
    "cultural": ("文化服务", "cultural services"),
    "total": ("合计", "total"),
}


@dataclass(frozen=True)
class Component:
    """One kind of realized value: ``share`` of the reported figure counts toward ``category``."""

    id: str
    category: str
    name_zh: str
    name_en: str
    examples: str = ""
    counted: bool = True
    share: float = 1.0


@dataclass(frozen=True)
class RealizationDefinition:
    id: str
    tag: str
    source: str
    components: tuple[Component, ...]

    def ids(self) -> list[str]:
        return [c.id for c in self.components]

    def get(self, component_id: str) -> Component:
        for component in self.components:
            if component.id == component_id:
                return component
        raise KeyError(f"component {component_id!r} is not in definition {self.id}; known: {', '.join(self.ids())}")


def _component(raw: Mapping[str, Any], source: str) -> tuple[Component | None, list[Problem]]:
    where = f"component {raw.get('id', '?')}"
    problems = []
    known = set(Component.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        problems.append(error("analytics_config_invalid", source, where, reason=f"unknown keys {', '.join(unknown)}"))
    for key in ("id", "category", "name_zh", "name_en"):
        if key not in raw:
            problems.append(error("analytics_config_invalid", source, where, reason=f"missing key {key!r}"))
    if problems:
        return None, problems
    if raw["category"] not in CATEGORIES:
        problems.append(
            error(
                "analytics_config_invalid",
                source,
                where,
                reason=f"category {raw['category']!r} is not one of {', '.join(CATEGORIES)}",
            )
        )
    share = raw.get("share", 1.0)
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0.0 <= share <= 1.0:
        problems.append(
            error("analytics_config_invalid", source, where, reason=f"share {share!r} is not a number in [0, 1]")
        )
    if not isinstance(raw.get("counted", True), bool):
        problems.append(error("analytics_config_invalid", source, where, reason="counted must be true or false"))
    if problems:
        return None, problems
    return Component(**{**raw, "share": float(share)}), []


def load_definition(path: str | Path | None = None) -> RealizationDefinition:
    """The realization definition (default: the packaged one)."""
    data, source = load_toml(path, DEFAULT_DEFINITION)
    meta = data.get("definition", {})
    problems: list[Problem] = []
    components = []
    for raw in data.get("component", []):
        component, found = _component(raw, source)
        problems += found
        if component is not None:
            components.append(component)
    ids = [c.id for c in components]
    if not components and not problems:
        problems.append(error("analytics_config_invalid", source, "component", reason="no [[component]] defined"))
    if len(set(ids)) != len(ids):
        problems.append(error("analytics_config_invalid", source, "component", reason="component ids are not unique"))
    if problems:
        raise GepInputError(problems)
    return RealizationDefinition(
        id=str(meta.get("id", Path(source).stem)),
        tag=str(meta.get("tag", "unverified")),
        source=str(meta.get("source", source)),
        components=tuple(components),
    )


@dataclass(frozen=True)
class RealizationResult:
    """``rates``: region_code, region_name, year, category (material, regulating, cultural, total),
    gep_yuan, realized_yuan, rate (fraction), components. ``components``: one row per realized
    figure with its source. ``problems``: warnings."""

    rates: pd.DataFrame
    components: pd.DataFrame
    problems: list[Problem]


def realization_rates(
    totals: pd.DataFrame, realized: pd.DataFrame, definition: RealizationDefinition
) -> RealizationResult:
    """Realization rates for every region × year of ``realized``.

    ``totals``: GEP parts per region × year (yuan; :func:`gep.analytics.io.gep_totals`).
    ``realized``: region_code, year, component, value_yuan, source (and optionally file, row;
    :func:`gep.analytics.io.read_realized`). Unknown components and region-years without GEP are
    errors; a category rate above 1 is a warning."""
    file = str(realized["file"].iloc[0]) if "file" in realized.columns and not realized.empty else "realized"
    problems: list[Problem] = []
    known = definition.ids()
    for index, row in realized.iterrows():
        if row["component"] not in known:
            problems.append(
                error(
                    "analytics_unknown_component",
                    file,
                    "component",
                    value=row["component"],
                    row=int(row["row"]) if "row" in realized.columns else int(index) + 2,  # type: ignore[call-overload]
                    expected=", ".join(known),
                )
            )
    gep = {(str(r["region_code"]), int(r["year"])): r for _, r in totals.iterrows()}
    for region, year in sorted(
        {(str(c), int(y)) for c, y in zip(realized["region_code"], realized["year"], strict=True)}
    ):
        if (region, year) not in gep:
            problems.append(error("analytics_no_gep", file, "region_code", region=region, year=year))
    if problems:
        raise GepInputError(problems)

    detail = realized.copy()
    detail["category"] = [definition.get(c).category for c in detail["component"]]
    detail["name_zh"] = [definition.get(c).name_zh for c in detail["component"]]
    detail["name_en"] = [definition.get(c).name_en for c in detail["component"]]
    detail["counted"] = [definition.get(c).counted for c in detail["component"]]
    detail["share"] = [definition.get(c).share for c in detail["component"]]
    detail["realized_yuan"] = [
        v * s if k else 0.0 for v, s, k in zip(detail["value_yuan"], detail["share"], detail["counted"], strict=True)
    ]
    detail["definition"] = definition.id
    columns = [
        "region_code",
        "year",
        "category",
        "component",
        "name_zh",
        "name_en",
        "value_yuan",
        "counted",
        "share",
        "realized_yuan",
        "source",
    ]
    columns += [c for c in ("file", "row") if c in detail.columns]
    detail = detail[[*columns, "definition"]].sort_values(
        ["region_code", "year", "category", "component"], kind="stable"
    )

    rows = []
    for (region, year), group in detail.groupby(["region_code", "year"], sort=True):
        totals_row = gep[(str(region), int(year))]
        for category in (*CATEGORIES, "total"):
            part = group if category == "total" else group[group["category"] == category]
            gep_yuan = float(totals_row["gep_yuan" if category == "total" else f"{category}_yuan"])
            realized_yuan = float(part["realized_yuan"].sum())
            if gep_yuan > 0:
                rate = realized_yuan / gep_yuan
                if rate > 1.0:
                    problems.append(
                        warning(
                            "analytics_rate_above_one",
                            file,
                            category,
                            region=region,
                            year=year,
                            category=Text(*CATEGORY_NAMES[category]),
                            realized=realized_yuan,
                            gep=gep_yuan,
                            rate=rate,
                        )
                    )
            else:
                rate = float("nan")
                problems.append(
                    warning(
                        "analytics_zero_gep",
                        file,
                        category,
                        region=region,
                        year=year,
                        category=Text(*CATEGORY_NAMES[category]),
                    )
                )
            rows.append(
                {
                    "region_code": region,
                    "region_name": totals_row["region_name"],
                    "year": int(year),
                    "category": category,
                    "category_zh": CATEGORY_NAMES[category][0],
                    "gep_yuan": gep_yuan,
                    "realized_yuan": realized_yuan,
                    "rate": rate,
                    "components": ", ".join(sorted(set(part.loc[part["realized_yuan"] > 0, "component"]))),
                    "definition": definition.id,
                }
            )
    return RealizationResult(pd.DataFrame(rows), detail.reset_index(drop=True), problems)


def definition_table(definition: RealizationDefinition) -> pd.DataFrame:
    """The definition as a table (for the output workbook)."""
    return pd.DataFrame(
        [
            {
                "component": c.id,
                "category": c.category,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "counted": c.counted,
                "share": c.share,
                "examples": c.examples,
                "definition": definition.id,
                "tag": definition.tag,
                "source": definition.source,
            }
            for c in definition.components
        ]
    )
