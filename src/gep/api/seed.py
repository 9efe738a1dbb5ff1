"""Put plan indicators and a county evaluation into the store from an account, so a fresh platform
shows indicators against targets and county scores (``gep serve`` on an empty store, and
``gep db seed-analytics ACCOUNT_DIR``).

Indicators (one series per indicator of the plan's set, for the account's top region):

- target: the plan's number for the target year (none for qualitative targets such as 达标);
- observed: the plan's base value at its base year (a real plan figure, method ``plan_base``), and
  for indicators an account provides (``account = "gep"``) the account's GEP of its top region in
  the indicator's unit (亿元 = yuan / 1e8, 万元 = yuan / 1e4, 元), at the account year, method
  ``account:<id>`` (``account:<id>:synthetic`` for synthetic accounts). Where the account year is
  the base year the account's value is stored and the plan's base is named in the source text.
  Observed values of other years already in the store are kept, so seeding accounts of several
  years builds up the series;
- forecast: simple exponential smoothing (the plan's method, 附件1（三）1) to the target year, only
  when the observed years are consecutive and there are enough of them to estimate the smoothing
  parameter (:data:`gep.analytics.forecast.MIN_POINTS_FIT`: 3); otherwise none is stored.

The API returns a series' ``source`` but not the method of its points, so the source text names
where every figure comes from and carries the tag ``[synthetic]`` when a value comes from a
synthetic account (the dashboard shows it).

County evaluation: :func:`gep.analytics.evaluation.evaluate_counties` over the account's counties
with the plan's configuration (``evaluation_lishui_2019.toml``: three groups of five) to which the
indicators an account provides are added in the group GEP考核: GEP (亿元), GEP per km² (万元/km²),
GEP/GDP (ratio) and GEP per capita (万元/人), each only where every county has a value; the nine
indicators of that group are weighted equally (1/9 each, so the weights still sum to 1). The plan's
own fifteen indicators are not in an account, so they are absent and the weights renormalize over
what is used; the stored details name the indicators used and absent and whether the data are
synthetic. Seeding again replaces the evaluations of the same method, year and counties.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gep.analytics import forecast as fc
from gep.analytics import indicators as ind
from gep.analytics.evaluation import (
    EvalGroup,
    EvalIndicator,
    EvaluationConfig,
    evaluate_counties,
    load_evaluation_config,
)
from gep.store import models
from gep.store import repository as repo
from gep.units import yuan_to_wan, yuan_to_yi

LISHUI_CITY_CODE = "331100"
"""Region code of Lishui city (丽水市), whose plan the packaged indicator set is."""

SYNTHETIC_TAG = "[synthetic]"
"""Marker in a series' source text: some of its values come from a synthetic (demo) account."""

LEVEL_ORDER = ("country", "province", "city", "county", "township")
EVALUATION_GROUP = "gep"
"""Group of the plan's evaluation configuration that the account's GEP indicators join (GEP考核)."""


def _identity(value: float) -> float:
    return float(value)


GEP_UNITS: dict[str, Callable[[float], float]] = {"亿元": yuan_to_yi, "万元": yuan_to_wan, "元": _identity}
"""Units an indicator computed from GEP may have, with the conversion from yuan."""


@dataclass(frozen=True)
class AccountIndicator:
    """An evaluation indicator read from ``summary.json`` regions: ``field`` converted by ``convert``."""

    id: str
    field: str
    convert: Callable[[float], float]
    unit: str
    name_zh: str
    name_en: str


ACCOUNT_INDICATORS: tuple[AccountIndicator, ...] = (
    AccountIndicator("gep", "gep_yuan", yuan_to_yi, "亿元", "生态系统生产总值（GEP）", "Gross ecosystem product (GEP)"),
    AccountIndicator("gep_per_km2", "gep_per_km2_yuan", yuan_to_wan, "万元/km²", "单位面积GEP", "GEP per km²"),
    AccountIndicator("gep_to_gdp", "gep_to_gdp", _identity, "", "GEP与GDP之比", "Ratio of GEP to GDP"),
    AccountIndicator("gep_per_capita", "gep_per_capita_yuan", yuan_to_wan, "万元/人", "人均GEP", "GEP per capita"),
)
"""The county evaluation indicators an account can provide (GDP and population are optional inputs)."""


@dataclass
class SeedReport:
    """What :func:`seed_analytics` stored; ``notes`` say what was skipped and why (English)."""

    series: list[models.IndicatorSeries] = field(default_factory=list)
    evaluations: list[models.Evaluation] = field(default_factory=list)
    forecasts: int = 0
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- regions


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def top_region(account: models.Account) -> dict[str, Any]:
    """The account's top region (``summary.json`` entry): the first city, else the first region of
    the highest level present (zones are never top regions)."""
    regions = [r for r in account.summary.get("regions", []) if r.get("level") != "zone"]
    if not regions:
        raise ValueError(f"account {account.id} ({account.name}) has no regions in its summary")

    def rank(region: dict[str, Any]) -> int:
        level = str(region.get("level", ""))
        return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER)

    best = min(rank(r) for r in regions)
    return next(r for r in regions if rank(r) == best)


def counties(account: models.Account) -> list[dict[str, Any]]:
    """The account's county-level regions (``summary.json`` entries), in summary order."""
    return [r for r in account.summary.get("regions", []) if r.get("level") == "county"]


def plan_applies(account: models.Account) -> bool:
    """Whether the packaged (Lishui) plan indicators are about this account's top region."""
    return str(top_region(account)["region_code"]) == LISHUI_CITY_CODE


# --------------------------------------------------------------------------------------------- indicators


def account_value(indicator: ind.Indicator, region: dict[str, Any]) -> float | None:
    """The value of ``indicator`` (in its unit) computed from an account region's summary, or None
    when the account does not provide it (only ``account = "gep"`` in 亿元, 万元 or 元 does)."""
    if indicator.account != "gep" or indicator.unit not in GEP_UNITS:
        return None
    gep = _finite(region.get("gep_yuan"))
    return None if gep is None else GEP_UNITS[indicator.unit](gep)


def _account_method(account: models.Account) -> str:
    return f"account:{account.id}" + (":synthetic" if account.synthetic else "")


def _format(value: float) -> str:
    return f"{value:.12g}"


def series_source(
    indicator: ind.Indicator,
    indicator_set: ind.IndicatorSet,
    account: models.Account,
    observed_from_account: float | None,
) -> str:
    """The source text of a seeded series: one line each for the plan, the target, the base and the
    account's value (tagged :data:`SYNTHETIC_TAG` when the account is synthetic), then the notes."""
    unit = indicator.unit
    lines = [f"{indicator_set.plan_zh} ({indicator_set.plan_en}): {indicator.source}"]
    kind = indicator.target_kind.replace("_", " ")
    target = indicator.target_text or "-"
    lines.append(f"Target {indicator.target_year}: {target} {unit} ({kind}, {indicator.attribute})")
    if indicator.base_year is not None and indicator.base_value is not None:
        lines.append(f"Base {indicator.base_year}: {_format(indicator.base_value)} {unit} ({indicator.base_source})")
    if observed_from_account is not None:
        tag = f": synthetic data (合成数据), not an official figure {SYNTHETIC_TAG}" if account.synthetic else ""
        region = top_region(account)
        lines.append(
            f"{account.year}: GEP of {region.get('region_name', '')} ({region['region_code']}) from account "
            f"'{account.name}' (#{account.id}, profile {account.profile}), "
            f"{_format(observed_from_account)} {unit}{tag}"
        )
    if indicator.notes:
        lines.append(f"Notes: {indicator.notes}")
    return "\n".join(lines)


def _existing(session: Session, code: str, region_code: str) -> models.IndicatorSeries | None:
    return session.scalars(
        select(models.IndicatorSeries).where(
            models.IndicatorSeries.code == code, models.IndicatorSeries.region_code == region_code
        )
    ).first()


def _earlier_account_lines(source: str, keep_years: set[int]) -> list[str]:
    """Lines of an earlier seeded source that describe account values of ``keep_years``."""
    match = (re.match(r"(\d{4}): GEP of ", line) for line in source.splitlines())
    return [m.string for m in match if m and int(m.group(1)) in keep_years]


def _forecast(indicator: ind.Indicator, observed: dict[int, float]) -> list[dict[str, Any]]:
    """SES forecasts to the target year when the observed years allow estimating it, else none."""
    if len(observed) < fc.MIN_POINTS_FIT["ses"]:
        return []
    series = pd.Series(observed, dtype=float).sort_index()
    fits, frame, _ = ind.forecast_indicator(indicator, series)
    fit = fits.get("ses")
    if fit is None or frame.empty:
        return []
    rows = frame[(frame["method"] == "ses") & (frame["kind"] == "forecast")]
    method = f"ses a={fit.alpha:.3f} (plan 附件1（三）1)"
    return [
        {"kind": "forecast", "year": int(r.year), "value": float(r.value), "method": method} for r in rows.itertuples()
    ]


def seed_indicators(
    session: Session, account: models.Account, indicator_set: ind.IndicatorSet | None = None
) -> tuple[list[models.IndicatorSeries], int]:
    """Store one series per indicator of ``indicator_set`` (default: the Lishui plan's 14) for the
    account's top region: plan target, plan base, the account's value where it provides one, and
    SES forecasts where the series allows. Returns (series, number of forecast points)."""
    indicator_set = indicator_set or ind.load_indicator_set()
    region = top_region(account)
    region_code = str(region["region_code"])
    stored: list[models.IndicatorSeries] = []
    forecasts = 0
    for indicator in indicator_set.indicators:
        value = account_value(indicator, region)
        previous = _existing(session, indicator.id, region_code)
        existing = list(previous.values) if previous is not None else []
        observed: dict[int, tuple[float, str]] = {v.year: (v.value, v.method) for v in existing if v.kind == "observed"}
        if indicator.base_year is not None and indicator.base_value is not None:
            observed[indicator.base_year] = (indicator.base_value, "plan_base")
        if value is not None:
            observed[account.year] = (value, _account_method(account))
        targets = {v.year: (v.value, v.method) for v in existing if v.kind == "target"}
        if indicator.target is not None:
            targets[indicator.target_year] = (indicator.target, "plan")
        points = [{"kind": "observed", "year": y, "value": v, "method": m} for y, (v, m) in sorted(observed.items())]
        points += [{"kind": "target", "year": y, "value": v, "method": m} for y, (v, m) in sorted(targets.items())]
        predicted = _forecast(indicator, {y: v for y, (v, _) in observed.items()})
        if not predicted:  # keep forecasts someone else stored, drop stale ones of ours
            predicted = [
                {
                    "kind": "forecast",
                    "year": v.year,
                    "value": v.value,
                    "lower": v.lower,
                    "upper": v.upper,
                    "method": v.method,
                }
                for v in existing
                if v.kind == "forecast" and not v.method.startswith(("ses", "holt"))
            ]
        else:
            forecasts += len(predicted)
        source = series_source(indicator, indicator_set, account, value)
        if previous is not None:  # keep naming the accounts behind observations of other years
            years = {y for y, (_, m) in observed.items() if m.startswith("account:") and y != account.year}
            earlier = _earlier_account_lines(previous.source, years)
            if earlier:
                lines = source.splitlines()
                at = next((i for i, line in enumerate(lines) if line.startswith("Notes: ")), len(lines))
                source = "\n".join([*lines[:at], *earlier, *lines[at:]])
        series = repo.save_indicator_series(
            session,
            code=indicator.id,
            region_code=region_code,
            name_zh=indicator.name_zh,
            name_en=indicator.name_en,
            unit=indicator.unit,
            source=source,
            values=points + predicted,
        )
        stored.append(series)
    return stored, forecasts


# --------------------------------------------------------------------------------------------- evaluation


def account_evaluation_config(base: EvaluationConfig | None = None) -> EvaluationConfig:
    """The plan's evaluation configuration (default ``evaluation_lishui_2019.toml``) with the
    :data:`ACCOUNT_INDICATORS` added to group GEP考核, more is better, and every indicator of that
    group weighted equally (1/n each for its n indicators, so the group's weights still sum to 1:
    this package's choice, unverified; the plan lists the group's indicators without weights). When
    ``base`` has no such group it is added with weight 1/(m+1) and the m other group weights are
    scaled by m/(m+1), so the group weights still sum to 1."""
    base = base or load_evaluation_config()
    groups = base.groups
    if not any(g.id == EVALUATION_GROUP for g in groups):
        share = 1.0 / (len(groups) + 1)
        groups = (
            *(replace(g, weight=g.weight * (1.0 - share)) for g in groups),
            EvalGroup(EVALUATION_GROUP, "GEP考核", "GEP", share),
        )
    known = set(base.ids())
    extra = tuple(
        EvalIndicator(a.id, EVALUATION_GROUP, a.name_zh, a.name_en, a.unit, "positive")
        for a in ACCOUNT_INDICATORS
        if a.id not in known
    )
    members = [i for i in (*base.indicators, *extra) if i.group == EVALUATION_GROUP]
    weight = 1.0 / len(members)
    indicators = tuple(
        replace(i, weight=weight) if i.group == EVALUATION_GROUP else i for i in (*base.indicators, *extra)
    )
    return replace(
        base,
        id=f"{base.id}+account",
        name_zh=f"{base.name_zh}＋核算结果GEP指标",
        name_en=f"{base.name_en} + GEP indicators from the account",
        source=(
            f"{base.source}; GEP, GEP per km², GEP/GDP and GEP per capita from the account added to group "
            f"GEP考核, all {len(members)} indicators of the group weighted equally (gep's choice, unverified)"
        ),
        groups=groups,
        indicators=indicators,
        tag="unverified",
    )


def county_values(
    account: models.Account, regions: Sequence[dict[str, Any]] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The account indicators of its counties: (long table region_code, region_name, indicator_id,
    value in the indicator's unit; ids left out because some county has no value)."""
    regions = counties(account) if regions is None else list(regions)
    rows = []
    partial = []
    for indicator in ACCOUNT_INDICATORS:
        values = [_finite(r.get(indicator.field)) for r in regions]
        if any(v is None for v in values):
            if any(v is not None for v in values):
                partial.append(indicator.id)
            continue
        for region, value in zip(regions, values, strict=True):
            assert value is not None
            rows.append(
                {
                    "region_code": str(region["region_code"]),
                    "region_name": str(region.get("region_name", "")),
                    "indicator_id": indicator.id,
                    "value": indicator.convert(value),
                }
            )
    return pd.DataFrame(rows, columns=["region_code", "region_name", "indicator_id", "value"]), partial


def evaluation_method(config: EvaluationConfig) -> str:
    """The ``method`` stored with the evaluations: configuration id and normalization."""
    return f"{config.id}:{config.normalization}"[:64]


def seed_evaluation(
    session: Session, account: models.Account, config: EvaluationConfig | None = None
) -> tuple[list[models.Evaluation], list[str]]:
    """Evaluate the account's counties (see the module docstring) and store one evaluation per county
    for the account year, replacing earlier ones of the same method. Returns (evaluations, notes)."""
    config = config or account_evaluation_config()
    regions = counties(account)
    if len(regions) < 2:
        return [], [f"county evaluation skipped: the account has {len(regions)} county region(s); at least 2 needed"]
    values, partial = county_values(account, regions)
    notes = [f"{i}: left out of the county evaluation, some counties have no value" for i in partial]
    source = f"account {account.name} ({account.year})"
    result = evaluate_counties(values, config, source=source)
    used_ids = [i for i in config.ids() if i in set(values["indicator_id"])]
    by_id = {i.id: i for i in config.indicators}
    absent = [
        {"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en} for i in config.indicators if i.id not in used_ids
    ]
    if account.synthetic:
        note_zh = "核算结果为合成数据（演示用），得分仅演示评价方法，不反映各县真实情况。"
        note_en = (
            "The account is synthetic demo data: the scores illustrate the method and say nothing about the real"
            " counties."
        )
    else:
        note_zh = "参评指标取自核算结果；规划的县域考核指标不在核算结果中，缺少数据，未参评。"
        note_en = (
            "Indicators from the account; the plan's own county indicators are not in an account and are left out."
        )
    method = evaluation_method(config)
    codes = [str(r["region_code"]) for r in regions]
    session.execute(
        delete(models.Evaluation).where(
            models.Evaluation.method == method,
            models.Evaluation.year == account.year,
            models.Evaluation.region_code.in_(codes),
        )
    )
    stored = []
    for row in result.scores.itertuples():
        mine = result.details[result.details["region_code"] == row.region_code]
        indicators = [
            {
                "id": d.indicator_id,
                "name_zh": d.name_zh,
                "name_en": by_id[d.indicator_id].name_en,
                "unit": d.unit,
                "value": float(d.value),
                "normalized": float(d.normalized),
                "contribution": float(d.contribution),
            }
            for d in mine.itertuples()
        ]
        details = {
            "evaluation": config.id,
            "name_zh": config.name_zh,
            "name_en": config.name_en,
            "normalization": config.normalization,
            "scale": config.scale,
            "rank": int(row.rank),
            "indicators": indicators,
            "indicators_used": used_ids,
            "indicators_absent": absent,
            "synthetic": account.synthetic,
            "data_note_zh": note_zh,
            "data_note_en": note_en,
            "account": {"id": account.id, "name": account.name, "year": account.year, "profile": account.profile},
            "source": config.source,
            "tag": config.tag,
        }
        stored.append(
            repo.add_evaluation(
                session,
                region_code=str(row.region_code),
                year=account.year,
                method=method,
                score=float(row.score),
                grade="",
                account_id=account.id,
                details=details,
            )
        )
    return stored, notes


# --------------------------------------------------------------------------------------------- both


def seed_analytics(
    session: Session,
    account: models.Account,
    indicator_set: ind.IndicatorSet | None = None,
    *,
    indicators: bool = True,
    evaluation: bool = True,
) -> SeedReport:
    """Seed plan indicators (when ``indicators``) and the county evaluation (when ``evaluation``) from
    a stored account. Flushes, does not commit."""
    report = SeedReport()
    if indicators:
        report.series, report.forecasts = seed_indicators(session, account, indicator_set)
        if not report.forecasts:
            report.notes.append(
                "no forecasts: no indicator has "
                f"{fc.MIN_POINTS_FIT['ses']} consecutive observed years (targets and observations only)"
            )
    if evaluation:
        report.evaluations, notes = seed_evaluation(session, account)
        report.notes += notes
    session.flush()
    return report
