"""County evaluation (GEP综合考评) and the provincial GEP award split.

Evaluation: indicators in groups (default ``data/evaluation_lishui_2019.toml``: the plan's three
groups of five — GEP to GDP, GEP, GDP to GEP), each normalized across the regions evaluated:

- ``minmax``:  positive (x − min)/(max − min), negative (max − x)/(max − min); 1 when all equal;
- ``zscore``:  positive (x − mean)/sd, negative (mean − x)/sd (population sd); 0 when all equal;
- ``target``:  positive min(x/target, cap), negative min(target/x, cap) (cap when x ≤ 0).

Weights: in a configuration file the group weights W_g sum to 1 and the indicator weights w_i of
each group sum to 1 (within :data:`WEIGHT_TOLERANCE`), else loading fails naming the file, the group
and the sum found. Leaving out the weight of every group (or of every indicator of a group) gives
equal weights 1/n; giving some and not others is an error.

Group score = Σ w_i·s_i / Σ w_i over the group's indicators; score = scale · Σ W_g·G_g / Σ W_g.
The sums Σ w_i and Σ W_g are 1 when every indicator has values; an indicator with no value in the
data at all is left out (warning ``analytics_indicator_absent``), so the weights of the remaining
indicators of its group renormalize over themselves, and a group left with no indicator drops out
with the group weights renormalizing likewise. Regions are ranked by score (1 = best; ties share the
better rank).

Award split (plan 一（二）5: GEP level 40 %, GEP growth rate 60 %)::

    award_i = pool · (0.4 · GEP_i / Σ GEP + 0.6 · g_i⁺ / Σ g⁺),   g = GEP_t / GEP_{t−1} − 1

with g at comparable prices when a price index is given and g⁺ = max(g, 0). How the pool is shared
within each part is not stated in the plan (proportional shares are this package's reading). When no
region grew, the growth part stays unallocated (warning).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from gep.analytics.indicators import load_toml
from gep.i18n import Text
from gep.problems import GepInputError, Problem, error, warning

Normalization = Literal["minmax", "zscore", "target"]
NORMALIZATIONS = ("minmax", "zscore", "target")
DEFAULT_CONFIG = "evaluation_lishui_2019.toml"
WEIGHT_TOLERANCE = 1e-9
"""How far from 1 the group weights, and each group's indicator weights, may sum."""


@dataclass(frozen=True)
class EvalGroup:
    id: str
    name_zh: str
    name_en: str
    weight: float = 1.0


@dataclass(frozen=True)
class EvalIndicator:
    """One evaluation indicator; ``direction`` positive = more is better; ``target`` (same unit as the
    values) is used by the target-based normalization only."""

    id: str
    group: str
    name_zh: str
    name_en: str
    unit: str = ""
    direction: Literal["positive", "negative"] = "positive"
    weight: float = 1.0
    target: float | None = None


@dataclass(frozen=True)
class AwardRule:
    level_weight: float = 0.4
    growth_weight: float = 0.6
    source: str = ""
    sharing: str = ""


@dataclass(frozen=True)
class EvaluationConfig:
    id: str
    name_zh: str
    name_en: str
    source: str
    groups: tuple[EvalGroup, ...]
    indicators: tuple[EvalIndicator, ...]
    normalization: Normalization = "minmax"
    scale: float = 100.0
    target_cap: float = 1.0
    tag: str = "unverified"
    award: AwardRule = field(default_factory=AwardRule)

    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _weights_text(items: Sequence[EvalGroup] | Sequence[EvalIndicator]) -> str:
    return ", ".join(f"{i.id}={i.weight:.12g}" for i in items)


def weight_problems(config: EvaluationConfig, source: str) -> list[Problem]:
    """Errors for weights that do not sum to 1 (within :data:`WEIGHT_TOLERANCE`): the group weights,
    and the indicator weights of each group that has indicators."""
    problems = []
    total = math.fsum(g.weight for g in config.groups)
    if config.groups and abs(total - 1.0) > WEIGHT_TOLERANCE:
        problems.append(
            error(
                "analytics_group_weights_sum",
                source,
                "group.weight",
                weights=_weights_text(config.groups),
                total=f"{total:.12g}",
            )
        )
    for group in config.groups:
        members = [i for i in config.indicators if i.group == group.id]
        total = math.fsum(i.weight for i in members)
        if members and abs(total - 1.0) > WEIGHT_TOLERANCE:
            problems.append(
                error(
                    "analytics_indicator_weights_sum",
                    source,
                    f"group {group.id}",
                    group=group.id,
                    weights=_weights_text(members),
                    total=f"{total:.12g}",
                )
            )
    return problems


def _equal_if_omitted(
    raws: Sequence[Mapping[str, Any]], what: Any, source: str, field_name: str
) -> tuple[float | None, list[Problem]]:
    """The default weight of ``raws`` (tables of groups, or of one group's indicators): 1/n when none
    gives a weight, None when all do; an error when only some do."""
    given = [str(r.get("id", "?")) for r in raws if "weight" in r]
    if not given:
        return (1.0 / len(raws) if raws else None), []
    if len(given) == len(raws):
        return None, []
    missing = [str(r.get("id", "?")) for r in raws if "weight" not in r]
    return None, [
        error(
            "analytics_weights_partial",
            source,
            field_name,
            what=what,
            given=", ".join(given),
            missing=", ".join(missing),
        )
    ]


def load_evaluation_config(path: str | Path | None = None) -> EvaluationConfig:
    """The evaluation configuration (default: the packaged Lishui 2019 groups).

    Raises :class:`GepInputError` listing every problem, among them group weights, or a group's
    indicator weights, that do not sum to 1 (see the module docstring)."""
    data, source = load_toml(path, DEFAULT_CONFIG)
    problems: list[Problem] = []
    meta = dict(data.get("evaluation", {}))

    def bad(where: str, reason: str) -> None:
        problems.append(error("analytics_config_invalid", source, where, reason=reason))

    group_raws = [dict(r) for r in data.get("group", [])]
    group_default, found = _equal_if_omitted(group_raws, Text("各指标组", "the groups"), source, "group.weight")
    problems += found
    groups = []
    for raw in group_raws:
        where = f"group {raw.get('id', '?')}"
        if not {"id", "name_zh", "name_en"} <= set(raw):
            bad(where, "expected keys id, name_zh, name_en (and weight)")
            continue
        weight = raw.get("weight", group_default)
        if weight is None:  # some groups give a weight and this one does not: reported above
            groups.append(EvalGroup(raw["id"], raw["name_zh"], raw["name_en"], math.nan))
            continue
        if not _positive_number(weight):
            bad(where, f"weight {raw.get('weight')!r} is not a positive number")
            continue
        groups.append(EvalGroup(raw["id"], raw["name_zh"], raw["name_en"], float(weight)))
    group_ids = {g.id for g in groups}
    indicator_raws = [dict(r) for r in data.get("indicator", [])]
    indicator_default: dict[Any, float | None] = {}
    for group_id in group_ids:
        members = [r for r in indicator_raws if r.get("group") == group_id]
        what = Text(f"指标组 {group_id} 的各指标", f"the indicators of group {group_id}")
        indicator_default[group_id], found = _equal_if_omitted(members, what, source, f"group {group_id}")
        problems += found
    indicators = []
    allowed = set(EvalIndicator.__dataclass_fields__)
    for raw in indicator_raws:
        where = f"indicator {raw.get('id', '?')}"
        if not {"id", "group", "name_zh", "name_en"} <= set(raw):
            bad(where, "expected keys id, group, name_zh, name_en")
            continue
        if set(raw) - allowed:
            bad(where, f"unknown keys {', '.join(sorted(set(raw) - allowed))}")
            continue
        if raw["group"] not in group_ids:
            bad(where, f"group {raw['group']!r} is not defined; expected one of {', '.join(sorted(group_ids))}")
            continue
        if raw.get("direction", "positive") not in ("positive", "negative"):
            bad(where, f"direction {raw['direction']!r} is not positive or negative")
            continue
        weight = raw.get("weight", indicator_default.get(raw["group"]))
        if weight is None:  # others of the group give a weight and this one does not: reported above
            continue
        if not _positive_number(weight):
            bad(where, f"weight {raw.get('weight')!r} is not a positive number")
            continue
        if raw.get("target") is not None and not _positive_number(raw["target"]):
            bad(where, f"target {raw['target']!r} is not a positive number")
            continue
        values = {**raw, "weight": float(weight)}
        if values.get("target") is not None:
            values["target"] = float(values["target"])
        indicators.append(EvalIndicator(**values))
    ids = [i.id for i in indicators]
    if len(set(ids)) != len(ids):
        bad("indicator", "indicator ids are not unique")
    if not indicators and not problems:
        bad("indicator", "no [[indicator]] defined")
    normalization = meta.get("normalization", "minmax")
    if normalization not in NORMALIZATIONS:
        bad("evaluation.normalization", f"{normalization!r} is not one of {', '.join(NORMALIZATIONS)}")
    for key in ("scale", "target_cap"):
        if key in meta and not _positive_number(meta[key]):
            bad(f"evaluation.{key}", f"{meta[key]!r} is not a positive number")
    award_raw = dict(data.get("award", {}))
    award = AwardRule(
        level_weight=float(award_raw.get("level_weight", 0.4)),
        growth_weight=float(award_raw.get("growth_weight", 0.6)),
        source=str(award_raw.get("source", "")),
        sharing=str(award_raw.get("sharing", "")),
    )
    if (
        award.level_weight < 0
        or award.growth_weight < 0
        or not np.isclose(award.level_weight + award.growth_weight, 1.0)
    ):
        bad(
            "award",
            f"level_weight {award.level_weight} and growth_weight {award.growth_weight} must be ≥ 0 and sum to 1",
        )
    if problems:
        raise GepInputError(problems)
    config = EvaluationConfig(
        id=str(meta.get("id", "")),
        name_zh=str(meta.get("name_zh", "")),
        name_en=str(meta.get("name_en", "")),
        source=str(meta.get("source", source)),
        groups=tuple(groups),
        indicators=tuple(indicators),
        normalization=normalization,
        scale=float(meta.get("scale", 100.0)),
        target_cap=float(meta.get("target_cap", 1.0)),
        tag=str(meta.get("tag", "unverified")),
        award=award,
    )
    problems = weight_problems(config, source)
    if problems:
        raise GepInputError(problems)
    return config


# --- normalization and scores -----------------------------------------------------------------------------


def normalize(
    values: Sequence[float] | np.ndarray,
    method: Normalization,
    direction: str = "positive",
    target: float | None = None,
    cap: float = 1.0,
) -> np.ndarray:
    """Normalized scores of ``values`` (one per region) by ``method``; see the module docstring."""
    x = np.asarray(values, dtype=float)
    sign = 1.0 if direction == "positive" else -1.0
    if method == "minmax":
        low, high = float(x.min()), float(x.max())
        if high == low:
            return np.ones_like(x)
        return (x - low) / (high - low) if sign > 0 else (high - x) / (high - low)
    if method == "zscore":
        sd = float(x.std())
        if sd == 0:
            return np.zeros_like(x)
        return sign * (x - float(x.mean())) / sd
    if method == "target":
        if target is None or target <= 0:
            raise ValueError("the target-based normalization needs a positive target")
        if sign > 0:
            return np.minimum(x / target, cap)
        with np.errstate(divide="ignore"):
            return np.where(x > 0, np.minimum(target / np.where(x > 0, x, 1.0), cap), cap)
    raise ValueError(f"unknown normalization {method!r}; expected one of {', '.join(NORMALIZATIONS)}")


@dataclass(frozen=True)
class EvaluationResult:
    """``scores``: one row per region (group scores, score, rank); ``details``: one row per region ×
    indicator (value, normalized, contribution to the score); ``problems``: warnings."""

    scores: pd.DataFrame
    details: pd.DataFrame
    problems: list[Problem]


def evaluate_counties(
    values: pd.DataFrame,
    config: EvaluationConfig,
    method: Normalization | None = None,
    targets: Mapping[str, float] | None = None,
    source: str = "values",
) -> EvaluationResult:
    """Scores and ranks of the regions in ``values`` (columns region_code, region_name, indicator_id,
    value). Indicators of ``config`` with no value at all are left out (warning
    ``analytics_indicator_absent``): the weights of the rest of their group renormalize to sum to 1,
    and a group with none left drops out, the other group weights renormalizing likewise. A region
    missing a value of an indicator that others have is an error. Weights of a configuration built in
    code are used as given (they renormalize the same way); the loader checks that they sum to 1."""
    method = method or config.normalization
    if method not in NORMALIZATIONS:
        raise GepInputError(
            [
                error(
                    "analytics_config_invalid",
                    source,
                    "normalization",
                    reason=f"{method!r} is not one of {', '.join(NORMALIZATIONS)}",
                )
            ]
        )
    targets = dict(targets or {})
    problems: list[Problem] = []
    regions = values.drop_duplicates("region_code")[["region_code", "region_name"]].reset_index(drop=True)
    table = values.pivot(index="region_code", columns="indicator_id", values="value").reindex(regions["region_code"])
    used = [i for i in config.indicators if i.id in table.columns]
    absent = [i.id for i in config.indicators if i.id not in table.columns]
    if absent:
        problems.append(warning("analytics_indicator_absent", source, None, value=", ".join(absent)))
    errors = []
    for indicator in used:
        for region in table.index[table[indicator.id].isna()]:
            errors.append(
                error("analytics_missing_county_value", source, indicator.id, region=region, indicator=indicator.id)
            )
        if method == "target" and targets.get(indicator.id, indicator.target) is None:
            errors.append(error("analytics_target_missing", source, indicator.id, indicator=indicator.id))
    if errors:
        raise GepInputError(errors)

    groups = {g.id: g for g in config.groups}
    used_groups = [g for g in config.groups if any(i.group == g.id for i in used)]
    group_total = sum(g.weight for g in used_groups)
    detail_rows = []
    normalized: dict[str, np.ndarray] = {}
    for indicator in used:
        target = targets.get(indicator.id, indicator.target)
        normalized[indicator.id] = normalize(
            table[indicator.id].to_numpy(dtype=float), method, indicator.direction, target, config.target_cap
        )
    scores = regions.copy()
    total = np.zeros(len(regions))
    for group in used_groups:
        members = [i for i in used if i.group == group.id]
        weight_sum = sum(i.weight for i in members)
        group_score = sum(i.weight * normalized[i.id] for i in members) / weight_sum
        scores[f"score_{group.id}"] = config.scale * group_score
        total += group.weight * group_score / group_total
        for indicator in members:
            for k, region in enumerate(regions["region_code"]):
                detail_rows.append(
                    {
                        "region_code": region,
                        "region_name": regions.at[k, "region_name"],
                        "group": group.id,
                        "group_zh": groups[group.id].name_zh,
                        "indicator_id": indicator.id,
                        "name_zh": indicator.name_zh,
                        "unit": indicator.unit,
                        "direction": indicator.direction,
                        "value": float(table.at[region, indicator.id]),
                        "target": targets.get(indicator.id, indicator.target),
                        "normalized": float(normalized[indicator.id][k]),
                        "weight": indicator.weight,
                        "group_weight": group.weight,
                        "contribution": float(
                            config.scale
                            * (group.weight / group_total)
                            * (indicator.weight / weight_sum)
                            * normalized[indicator.id][k]
                        ),
                    }
                )
    scores["score"] = config.scale * total
    scores["rank"] = scores["score"].rank(ascending=False, method="min").astype(int)
    scores["normalization"] = method
    scores = scores.sort_values(["rank", "region_code"], kind="stable").reset_index(drop=True)
    return EvaluationResult(scores, pd.DataFrame(detail_rows), problems)


# --- award split --------------------------------------------------------------------------------------------


def split_award(
    totals: pd.DataFrame,
    year: int,
    pool_yuan: float,
    rule: AwardRule = AwardRule(),
    deflators: Mapping[int, float] | None = None,
    source: str = "GEP",
) -> tuple[pd.DataFrame, list[Problem]]:
    """Share ``pool_yuan`` among the regions of ``totals`` (region_code, region_name, year, gep_yuan) by
    GEP level in ``year`` and GEP growth from ``year``−1 (at comparable prices with ``deflators``,
    {year: index}). Every region must have GEP in both years."""
    problems: list[Problem] = []
    if not pool_yuan >= 0:
        raise GepInputError(
            [error("analytics_config_invalid", source, "pool", reason=f"award pool {pool_yuan} is not ≥ 0")]
        )
    current = totals[totals["year"] == year].set_index("region_code")
    previous = totals[totals["year"] == year - 1].set_index("region_code")
    errors = [
        error("analytics_no_gep", source, "region_code", region=r, year=year - 1)
        for r in current.index
        if r not in previous.index
    ]
    if current.empty:
        errors.append(error("analytics_no_gep", source, "year", region="*", year=year))
    if deflators is not None:
        errors += [
            error("analytics_deflator_missing", source, "year", year=y) for y in (year - 1, year) if y not in deflators
        ]
    if errors:
        raise GepInputError(errors)
    level = current["gep_yuan"].astype(float)
    before = previous.loc[current.index, "gep_yuan"].astype(float)
    factor = deflators[year - 1] / deflators[year] if deflators is not None else 1.0
    growth = (level * factor) / before - 1.0
    positive = growth.clip(lower=0.0)
    level_part = rule.level_weight * pool_yuan
    growth_part = rule.growth_weight * pool_yuan
    level_share = level / level.sum() if level.sum() > 0 else level * 0.0
    if positive.sum() > 0:
        growth_share = positive / positive.sum()
    else:
        growth_share = positive * 0.0
        problems.append(warning("analytics_award_no_growth", source, None, amount=growth_part))
    out = pd.DataFrame(
        {
            "region_code": current.index,
            "region_name": current["region_name"].to_numpy(),
            "year": year,
            "gep_previous_yuan": before.to_numpy(),
            "gep_yuan": level.to_numpy(),
            "growth_rate": growth.to_numpy(),
            "comparable_prices": deflators is not None,
            "level_share": level_share.to_numpy(),
            "growth_share": growth_share.to_numpy(),
            "level_award_yuan": (level_part * level_share).to_numpy(),
            "growth_award_yuan": (growth_part * growth_share).to_numpy(),
        }
    )
    out["award_yuan"] = out["level_award_yuan"] + out["growth_award_yuan"]
    out["level_weight"] = rule.level_weight
    out["growth_weight"] = rule.growth_weight
    out["pool_yuan"] = pool_yuan
    return out.sort_values("award_yuan", ascending=False, kind="stable").reset_index(drop=True), problems
