"""Upstream–downstream eco-compensation (流域上下游横向生态补偿) from a cross-section (交接断面) index.

The index follows the P-index of the Xin'an river pilot (realization-and-seea.md §4.2; the formula
there is from memory, [U]):

    P = Σ_i w_i × r_i,   r_i = C_i / C0_i  for pollutants (lower is better),
                         r_i = C0_i / C_i  for quantities where higher is better (e.g. flow, m³/s)

with C_i the annual mean at the section (mean of the samples of the year), C0_i the agreed baseline
and w_i the weight. ``P0`` is the baseline index (default Σ w_i, which is 1 when the weights sum to 1:
the value of P when every C_i equals its baseline). The stability coefficient k enters in one of two
forms, chosen in the agreement:

- ``threshold`` (default): the standard is met when P ≤ k × P0;
- ``index`` (Xin'an form as remembered in §4.2): P' = k × P, met when P' ≤ P0 (k < 1 tolerates some
  deterioration; later Xin'an rounds raised k to tighten it).

The *ratio* ``R = compared index / threshold`` is ≤ 1 when the standard is met. Met → the downstream
side pays the upstream side (the protector is paid, "谁受益，谁补偿"); not met → the upstream side pays
the downstream side. The amount is the agreed one: a flat ``amount_yuan`` or tiers on R (the first
tier with R ≤ ratio_max; a last tier without ratio_max takes everything above).

Agreement file (TOML)::

    [agreement]   id, name_zh, name_en, stability_coefficient, stability_form, baseline_index?, source, tag
    [indicators.NAME]   weight, baseline, unit, better ("lower" | "higher"), name_zh, name_en, source, tag
    [[sections]]  name, upstream, downstream, baselines? = {NAME = value}
    [payment.met]       amount_yuan  or  [[payment.met.tiers]] ratio_max?, amount_yuan
    [payment.not_met]   the same

Monitoring table (CSV/XLSX): ``section``, ``year`` or ``date``, ``pollutant``, ``concentration`` (or
``value``), optional ``unit`` (checked against the indicator's unit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gep.i18n import Text
from gep.inputs.tables import check_columns, read_table
from gep.inputs.units import same_unit
from gep.problems import GepInputError, Problem, error
from gep.realization.io import read_toml, validation_problems

Tag = Literal["verified", "secondary", "unverified", "synthetic", "user"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgreementHeader(_Strict):
    id: str
    name_zh: str = ""
    name_en: str = ""
    stability_coefficient: float = Field(default=1.0, gt=0, le=2)
    stability_form: Literal["threshold", "index"] = "threshold"
    baseline_index: float | None = Field(default=None, gt=0)
    source: str = ""
    tag: Tag = "unverified"
    notes: str = ""


class Indicator(_Strict):
    weight: float = Field(gt=0)
    baseline: float = Field(gt=0)
    unit: str = ""
    better: Literal["lower", "higher"] = "lower"
    name_zh: str = ""
    name_en: str = ""
    source: str = ""
    tag: Tag = "unverified"


class Section(_Strict):
    name: str
    upstream: str
    downstream: str
    baselines: dict[str, float] = Field(default_factory=dict)


class Tier(_Strict):
    ratio_max: float | None = Field(default=None, gt=0)
    amount_yuan: float = Field(ge=0)


class Side(_Strict):
    """What is paid on one side of the threshold: a flat amount or tiers on the ratio R."""

    amount_yuan: float | None = Field(default=None, ge=0)
    tiers: tuple[Tier, ...] = ()


class Payment(_Strict):
    met: Side
    not_met: Side


class Agreement(_Strict):
    """A parsed compensation agreement (see the module docstring for the layout)."""

    agreement: AgreementHeader
    indicators: dict[str, Indicator] = Field(min_length=1)
    sections: tuple[Section, ...] = Field(min_length=1)
    payment: Payment

    @property
    def baseline_index(self) -> float:
        """P0: given, else Σ w_i."""
        given = self.agreement.baseline_index
        return given if given is not None else sum(i.weight for i in self.indicators.values())


@dataclass(frozen=True)
class CompensationResult:
    """Per section and year: the index, the direction and the amount (``results``), and each
    indicator's term (``terms``). Columns are described in :func:`assess`."""

    results: pd.DataFrame
    terms: pd.DataFrame


def parse_agreement(raw: Mapping, source: str) -> tuple[Agreement | None, list[Problem]]:
    """Validate an agreement mapping (read from TOML); returns (agreement or None, problems)."""
    try:
        agreement = Agreement.model_validate(dict(raw))
    except ValidationError as exc:
        return None, validation_problems(exc, source)
    problems = _check_agreement(agreement, source)
    return (None if problems else agreement), problems


def load_agreement(path: str | Path) -> Agreement:
    """Read and check an agreement file; raises :class:`GepInputError` listing every problem."""
    path = Path(path)
    raw, problems = read_toml(path, Text("补偿协议文件（TOML）", "compensation agreement (TOML)"))
    if raw is None:
        raise GepInputError(problems)
    agreement, problems = parse_agreement(raw, str(path))
    if agreement is None:
        raise GepInputError(problems)
    return agreement


def _check_agreement(agreement: Agreement, source: str) -> list[Problem]:
    problems: list[Problem] = []
    names = [s.name for s in agreement.sections]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(error("realization_duplicate", source, "sections.name", value=dup))
    for n, section in enumerate(agreement.sections):
        for name, value in section.baselines.items():
            if name not in agreement.indicators:
                problems.append(
                    error(
                        "realization_unknown_indicator",
                        source,
                        f"sections.{n}.baselines",
                        value=name,
                        known=", ".join(agreement.indicators),
                    )
                )
            elif not value > 0:
                problems.append(
                    error("realization_baseline_not_positive", source, f"sections.{n}.baselines.{name}", value=value)
                )
    for side in ("met", "not_met"):
        problems.extend(_check_side(getattr(agreement.payment, side), side, source))
    return problems


def _check_side(side: Side, name: str, source: str) -> list[Problem]:
    field = f"payment.{name}"
    if (side.amount_yuan is None) == (not side.tiers):
        return [error("realization_amount_or_tiers", source, field)]
    problems = []
    bounds = [t.ratio_max for t in side.tiers]
    for n, bound in enumerate(bounds):
        if bound is None and n != len(bounds) - 1:
            problems.append(error("realization_tier_open_not_last", source, f"{field}.tiers.{n}.ratio_max"))
        if bound is not None and ((name == "met" and bound > 1.0) or (name == "not_met" and bound <= 1.0)):
            problems.append(
                error(f"realization_tier_bound_{name}", source, f"{field}.tiers.{n}.ratio_max", value=bound)
            )
    closed = [b for b in bounds if b is not None]
    if any(b2 <= b1 for b1, b2 in zip(closed, closed[1:], strict=False)):
        problems.append(error("realization_tiers_not_ascending", source, f"{field}.tiers", value=closed))
    return problems


def compensation_index(
    means: Mapping[str, float], indicators: Mapping[str, Indicator], baselines: Mapping[str, float] | None = None
) -> tuple[float, dict[str, float]]:
    """P = Σ w_i r_i and each term w_i r_i; ``means`` are annual means in the indicators' units,
    ``baselines`` overrides the indicators' baselines (per section)."""
    terms = {}
    for name, indicator in indicators.items():
        c0 = (baselines or {}).get(name, indicator.baseline)
        c = float(means[name])
        ratio = c / c0 if indicator.better == "lower" else c0 / c
        terms[name] = indicator.weight * ratio
    return float(sum(terms.values())), terms


def select_tier(side: Side, ratio: float) -> tuple[float, str]:
    """(amount in yuan, tier label) for ``ratio`` on one side; 0 when no tier covers it."""
    if side.amount_yuan is not None:
        return float(side.amount_yuan), "flat"
    for n, tier in enumerate(side.tiers, start=1):
        if tier.ratio_max is None or ratio <= tier.ratio_max:
            bound = "∞" if tier.ratio_max is None else f"{tier.ratio_max:g}"
            return float(tier.amount_yuan), f"tier {n} (R ≤ {bound})"
    return 0.0, "no tier"


def read_monitoring(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """Read a monitoring table into columns section, year, pollutant, concentration (, unit).

    Raises :class:`GepInputError` naming the file, column, row and value of every bad cell."""
    path = Path(path)
    source = str(path)
    frame, problems = read_table(path, sheet)
    if frame is None:
        raise GepInputError(problems)
    frame = frame.rename(columns={"value": "concentration"}) if "concentration" not in frame.columns else frame
    time_column = "year" if "year" in frame.columns else "date"
    problems = check_columns(frame, ("section", time_column, "pollutant", "concentration"), source)
    if problems:
        raise GepInputError(problems)
    out = pd.DataFrame(
        {
            "section": frame["section"].astype(str).str.strip(),
            "pollutant": frame["pollutant"].astype(str).str.strip(),
        }
    )
    if time_column == "year":
        years = pd.to_numeric(frame["year"], errors="coerce")
        bad_years = years.isna() | (years != years.round())
    else:
        dates = pd.to_datetime(frame["date"], errors="coerce")
        years = dates.dt.year
        bad_years = dates.isna()
    for row in frame.index[bad_years][:10]:
        problems.append(
            error(
                "realization_bad_cell",
                source,
                time_column,
                value=frame.at[row, time_column],
                row=int(row) + 2,
                expected="a year" if time_column == "year" else "a date (YYYY-MM-DD)",
            )
        )
    values = pd.to_numeric(frame["concentration"], errors="coerce")
    bad_values = values.isna() | (values < 0)
    for row in frame.index[bad_values][:10]:
        problems.append(
            error(
                "realization_bad_cell",
                source,
                "concentration",
                value=frame.at[row, "concentration"],
                row=int(row) + 2,
                expected="a number ≥ 0",
            )
        )
    if problems:
        raise GepInputError(problems)
    out["year"] = years.astype(int)
    out["concentration"] = values.astype(float)
    if "unit" in frame.columns:
        out["unit"] = frame["unit"].fillna("").astype(str).str.strip()
    return out


def assess(
    agreement: Agreement,
    monitoring: pd.DataFrame,
    years: Iterable[int] | None = None,
    *,
    source: str = "monitoring",
) -> CompensationResult:
    """Index, direction and amount for every section of ``agreement`` and every year.

    Args:
        agreement: a checked agreement.
        monitoring: columns section, year, pollutant, concentration (, unit) as from :func:`read_monitoring`.
        years: the years to assess (default: every year with data for an agreement section).
        source: the monitoring file, for messages.

    Returns ``results`` with columns agreement_id, section, year, upstream, downstream, index (P),
    stability_coefficient (k), stability_form, baseline_index (P0), compared_index, threshold, ratio,
    met, payer, payee, amount_yuan, tier, basis; and ``terms`` with section, year, indicator, unit,
    samples, mean, baseline, weight, better, term. Raises :class:`GepInputError` when an indicator has
    no data for a section and year, a unit differs or a higher-is-better mean is 0.
    """
    names = list(agreement.indicators)
    sections = {s.name: s for s in agreement.sections}
    data = monitoring[monitoring["section"].isin(sections) & monitoring["pollutant"].isin(names)]
    problems = _unit_problems(agreement, data, source)
    wanted = sorted(set(data["year"])) if years is None else sorted({int(y) for y in years})
    means = data.groupby(["section", "year", "pollutant"])["concentration"].agg(["mean", "count"])
    k = agreement.agreement.stability_coefficient
    p0 = agreement.baseline_index
    rows, term_rows = [], []
    for section in agreement.sections:
        for year in wanted:
            found = {n: means.loc[(section.name, year, n)] for n in names if (section.name, year, n) in means.index}
            missing = [n for n in names if n not in found]
            if missing:
                problems.append(
                    error(
                        "realization_monitoring_missing",
                        source,
                        "pollutant",
                        section=section.name,
                        year=year,
                        value=", ".join(missing),
                    )
                )
                continue
            zero = [n for n in names if agreement.indicators[n].better == "higher" and found[n]["mean"] == 0]
            if zero:
                problems.append(
                    error(
                        "realization_quantity_zero",
                        source,
                        "concentration",
                        section=section.name,
                        year=year,
                        value=", ".join(zero),
                    )
                )
                continue
            annual = {n: float(found[n]["mean"]) for n in names}
            index, terms = compensation_index(annual, agreement.indicators, section.baselines)
            rows.append(_result_row(agreement, section, year, index, terms, annual, k, p0))
            for n in names:
                indicator = agreement.indicators[n]
                term_rows.append(
                    {
                        "agreement_id": agreement.agreement.id,
                        "section": section.name,
                        "year": year,
                        "indicator": n,
                        "unit": indicator.unit,
                        "samples": int(found[n]["count"]),
                        "mean": annual[n],
                        "baseline": section.baselines.get(n, indicator.baseline),
                        "weight": indicator.weight,
                        "better": indicator.better,
                        "term": terms[n],
                    }
                )
    if problems:
        raise GepInputError(problems)
    return CompensationResult(pd.DataFrame(rows), pd.DataFrame(term_rows))


def _unit_problems(agreement: Agreement, data: pd.DataFrame, source: str) -> list[Problem]:
    if "unit" not in data.columns:
        return []
    problems = []
    for name, indicator in agreement.indicators.items():
        if not indicator.unit:
            continue
        units = {u for u in data.loc[data["pollutant"] == name, "unit"] if u}
        for unit in sorted(u for u in units if not same_unit(u, indicator.unit)):
            problems.append(
                error("realization_unit_mismatch", source, "unit", indicator=name, value=unit, expected=indicator.unit)
            )
    return problems


def _result_row(agreement, section, year, index, terms, annual, k, p0) -> dict:
    if agreement.agreement.stability_form == "threshold":
        compared, threshold = index, k * p0
        rule = f"P {index:.6g} vs k {k:g} × P0 {p0:g} = {threshold:.6g}"
    else:
        compared, threshold = k * index, p0
        rule = f"k {k:g} × P {index:.6g} = {compared:.6g} vs P0 {p0:g}"
    ratio = compared / threshold
    met = bool(ratio <= 1.0)
    side = agreement.payment.met if met else agreement.payment.not_met
    amount, tier = select_tier(side, ratio)
    payer, payee = (section.downstream, section.upstream) if met else (section.upstream, section.downstream)
    parts = " + ".join(
        f"{agreement.indicators[n].weight:g}×"
        + (
            f"{annual[n]:.6g}/{section.baselines.get(n, agreement.indicators[n].baseline):g}"
            if agreement.indicators[n].better == "lower"
            else f"{section.baselines.get(n, agreement.indicators[n].baseline):g}/{annual[n]:.6g}"
        )
        for n in terms
    )
    direction = "downstream pays upstream" if met else "upstream pays downstream"
    basis = f"P = {parts} = {index:.6g}; {rule}; R = {ratio:.6g} → {direction}; {tier}: {amount:.12g} yuan"
    return {
        "agreement_id": agreement.agreement.id,
        "section": section.name,
        "year": year,
        "upstream": section.upstream,
        "downstream": section.downstream,
        "index": index,
        "stability_coefficient": k,
        "stability_form": agreement.agreement.stability_form,
        "baseline_index": p0,
        "compared_index": compared,
        "threshold": threshold,
        "ratio": float(np.float64(ratio)),
        "met": met,
        "payer": payer,
        "payee": payee,
        "amount_yuan": amount,
        "tier": tier,
        "basis": basis,
    }
