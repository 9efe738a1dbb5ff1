"""GEP-based procurement and purchase of ecological products: payment schedules.

Two schemes from Lishui (realization-and-seea.md §4.4) share one model:

- **Yunhe (云和县, 2020)**, government procurement: the county buys four regulating services of two
  townships at a share (0.2 %) of their GEP, paid in tranches (70 % in year 1, 30 % in year 2), the
  later tranche conditional on eco-environmental quality.
- **Dayang (缙云县大洋镇, 2020)**, market purchase: a company pays a share (5 %) of a site's GEP plus a
  share (12 %) of an "ecological premium", in equal instalments over N (25) years.

A scheme file (TOML) gives the *basis* (one or more figures, each a share × a value in yuan, the value
either written in the file or summed from an account's items and regions), the *payment plan*
(explicit tranches or N equal instalments) and named *conditions* (an indicator compared with a
threshold in an evaluation year). The contract total is ``Σ share_f × value_f``; tranche ``t`` is
scheduled at ``total × share_t``; a conditional tranche is paid in full when its condition is met,
``on_fail_share`` of it when it is not (default 0), and listed as pending when no observation exists.

File layout (all money in yuan)::

    [scheme]        id, kind, name_zh, name_en, buyer, seller, first_year, reported_total_yuan?, source, tag
    [[basis]]       id, label_zh, label_en, share, share_source, share_tag, and either value_yuan (+ value_source,
                    value_tag) or items / category with regions (summed from an account), year?
    [[tranches]]    year_offset, share, condition?          (or)
    [installments]  years, condition?, first_offset?
    [conditions.X]  indicator, operator ("<=", "<", ">=", ">", "=="), threshold (number or water class
                    "II"), evaluation_lag?, on_fail_share?, description_zh, description_en, source, tag
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gep.i18n import Text
from gep.problems import GepInputError, Problem, error, warning
from gep.realization.io import read_toml, validation_problems

Operator = Literal["<=", "<", ">=", ">", "=="]
Tag = Literal["verified", "secondary", "unverified", "synthetic", "user"]
SHARE_TOLERANCE = 1e-9
REPORTED_TOTAL_TOLERANCE = 0.005
"""Relative gap between the computed contract total and ``reported_total_yuan`` that gives a warning."""

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "劣V": 6, "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5, "劣Ⅴ": 6}
"""Surface-water quality classes (GB 3838-2002 I–V, 劣V = worse than V) as numbers 1–6."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchemeHeader(_Strict):
    id: str
    kind: Literal["procurement", "purchase"] = "procurement"
    name_zh: str = ""
    name_en: str = ""
    buyer: str = ""
    seller: str = ""
    first_year: int = Field(ge=1900, le=2200)
    reported_total_yuan: float | None = Field(default=None, ge=0)
    source: str = ""
    tag: Tag = "unverified"
    notes: str = ""


class BasisFigure(_Strict):
    """One figure of the price basis: ``share × value_yuan``."""

    id: str
    label_zh: str = ""
    label_en: str = ""
    share: float = Field(ge=0)
    share_source: str = ""
    share_tag: Tag = "unverified"
    value_yuan: float | None = None
    value_source: str = ""
    value_tag: Tag = "unverified"
    items: tuple[str, ...] = ()
    category: Literal["material", "regulating", "cultural"] | None = None
    regions: tuple[str, ...] = ()
    year: int | None = None


class Tranche(_Strict):
    year_offset: int = Field(ge=0)
    share: float = Field(gt=0, le=1)
    condition: str | None = None
    source: str = ""
    tag: Tag = "unverified"


class Installments(_Strict):
    years: int = Field(ge=1, le=200)
    condition: str | None = None
    first_offset: int = Field(default=0, ge=0)


class Condition(_Strict):
    indicator: str
    operator: Operator = "<="
    threshold: float | str
    evaluation_lag: int = Field(default=0, ge=0)
    on_fail_share: float = Field(default=0.0, ge=0, le=1)
    description_zh: str = ""
    description_en: str = ""
    source: str = ""
    tag: Tag = "unverified"

    @field_validator("threshold")
    @classmethod
    def _threshold_is_number(cls, value: float | str) -> float | str:
        indicator_number(value)  # raises ValueError naming the value
        return value

    @property
    def threshold_value(self) -> float:
        return indicator_number(self.threshold)


class Scheme(_Strict):
    """A parsed scheme file (see the module docstring for the layout)."""

    scheme: SchemeHeader
    basis: tuple[BasisFigure, ...] = Field(min_length=1)
    tranches: tuple[Tranche, ...] = ()
    installments: Installments | None = None
    conditions: dict[str, Condition] = Field(default_factory=dict)

    def plan(self) -> tuple[Tranche, ...]:
        """The payment plan as tranches (instalments become N equal tranches)."""
        if self.installments is None:
            return self.tranches
        n = self.installments.years
        return tuple(
            Tranche(
                year_offset=self.installments.first_offset + k, share=1.0 / n, condition=self.installments.condition
            )
            for k in range(n)
        )


@dataclass(frozen=True)
class ScheduleResult:
    """A payment schedule and the basis it was priced on.

    Attributes:
        schedule: one row per tranche: scheme_id, year, tranche, share, scheduled_yuan, amount_yuan,
            condition, evaluation_year, indicator_value, condition_met (True/False/None), status
            (unconditional, met, not_met, pending), basis.
        basis: one row per basis figure: id, label_zh, label_en, share, value_yuan, amount_yuan, sources, tags.
        total_yuan: the contract total Σ share × value.
        problems: warnings (e.g. the total differs from the reported one).
    """

    schedule: pd.DataFrame
    basis: pd.DataFrame
    total_yuan: float
    problems: tuple[Problem, ...] = ()


def indicator_number(value: float | int | str) -> float:
    """A number, or a water-quality class written ``II``, ``Ⅲ类`` or ``劣V`` (I–V → 1–5, 劣V → 6)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number or a water-quality class (I–V, 劣V)")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().removesuffix("类").strip()
    upper = text.upper()
    if upper in _ROMAN:
        return float(_ROMAN[upper])
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number or a water-quality class (I–V, 劣V)") from None


def parse_scheme(raw: Mapping, source: str) -> tuple[Scheme | None, list[Problem]]:
    """Validate a scheme mapping (already read from TOML); returns (scheme or None, problems)."""
    try:
        scheme = Scheme.model_validate(dict(raw))
    except ValidationError as exc:
        return None, validation_problems(exc, source)
    problems = _check_scheme(scheme, source)
    return (None if problems else scheme), problems


def load_scheme(path: str | Path) -> Scheme:
    """Read and check a scheme file; raises :class:`GepInputError` listing every problem."""
    path = Path(path)
    raw, problems = read_toml(path, Text("采购方案文件（TOML）", "scheme file (TOML)"))
    if raw is None:
        raise GepInputError(problems)
    scheme, problems = parse_scheme(raw, str(path))
    if scheme is None:
        raise GepInputError(problems)
    return scheme


def _check_scheme(scheme: Scheme, source: str) -> list[Problem]:
    problems: list[Problem] = []
    if bool(scheme.tranches) == (scheme.installments is not None):
        problems.append(error("realization_plan_choice", source, "tranches"))
        return problems
    ids = [b.id for b in scheme.basis]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(error("realization_duplicate", source, "basis.id", value=dup))
    for n, figure in enumerate(scheme.basis):
        if figure.items and figure.category:
            problems.append(error("realization_items_or_category", source, f"basis.{n}", value=figure.id))
        if figure.value_yuan is None and not (figure.items or figure.category):
            problems.append(error("realization_basis_value_missing", source, f"basis.{n}.value_yuan", value=figure.id))
    plan = scheme.plan()
    total_share = sum(t.share for t in plan)
    if abs(total_share - 1.0) > SHARE_TOLERANCE:
        problems.append(error("realization_shares_sum", source, "tranches.share", value=round(total_share, 12)))
    for n, tranche in enumerate(plan):
        if tranche.condition is not None and tranche.condition not in scheme.conditions:
            problems.append(
                error(
                    "realization_unknown_condition",
                    source,
                    "installments.condition" if scheme.installments else f"tranches.{n}.condition",
                    value=tranche.condition,
                    known=", ".join(sorted(scheme.conditions)) or "-",
                )
            )
    return problems


def basis_from_account(scheme: Scheme, account, source: str = "account") -> tuple[Scheme, list[Problem]]:
    """Fill ``value_yuan`` of the figures that name items (or a category) from an account.

    ``account`` is a :class:`gep.account.Account`; the value is the sum of ``value_yuan`` of the items'
    main rows over the figure's regions (all root regions when ``regions`` is empty). Returns the
    updated scheme and problems (errors for unknown regions or items not in the account, a warning when
    the figure's ``year`` differs from the account year)."""
    problems: list[Problem] = []
    items = account.items()
    known_regions = set(items["region_code"])
    figures = []
    for n, figure in enumerate(scheme.basis):
        if not (figure.items or figure.category):
            figures.append(figure)
            continue
        field = f"basis.{n}"
        wanted_items = figure.items or tuple(sorted(set(items.loc[items["category"] == figure.category, "item"])))
        missing_items = [i for i in wanted_items if i not in set(items["item"])]
        if missing_items:
            problems.append(
                error("realization_item_not_in_account", source, f"{field}.items", value=", ".join(missing_items))
            )
        regions = figure.regions or tuple(_root_regions(account))
        unknown = [r for r in regions if r not in known_regions]
        if unknown:
            problems.append(
                error(
                    "realization_region_not_in_account",
                    source,
                    f"{field}.regions",
                    value=", ".join(unknown),
                    known=", ".join(sorted(known_regions)[:20]),
                )
            )
        nested = _nested(tuple(regions), _parents(account))
        if nested:
            problems.append(error("realization_regions_nested", source, f"{field}.regions", value=", ".join(nested)))
        if figure.year is not None and figure.year != account.year:
            problems.append(
                warning("realization_year_differs", source, f"{field}.year", value=figure.year, expected=account.year)
            )
        rows = items[items["region_code"].isin(regions) & items["item"].isin(wanted_items)]
        value = float(pd.to_numeric(rows["value_yuan"], errors="coerce").fillna(0.0).sum())
        figures.append(
            figure.model_copy(
                update={
                    "items": tuple(wanted_items),
                    "regions": tuple(regions),
                    "value_yuan": value,
                    "value_source": f"account {source} ({account.year}, {account.profile})",
                    "value_tag": "synthetic" if account.synthetic else "user",
                }
            )
        )
    return scheme.model_copy(update={"basis": tuple(figures)}), problems


def _parents(account) -> dict[str, str | None]:
    """Region code -> parent code, from the account's ``regions.json`` (empty when absent)."""
    try:
        regions = json.loads((account.directory / "regions.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(r["code"]): r.get("parent") for r in regions}


def _root_regions(account) -> list[str]:
    regions = [r["region_code"] for r in account.regions() if r.get("level") != "zone"]
    parents = _parents(account)
    if not parents:
        return regions[:1]
    return [c for c in regions if not parents.get(c)]


def _nested(regions: tuple[str, ...], parents: Mapping[str, str | None]) -> list[str]:
    """Regions of ``regions`` that have an ancestor in ``regions`` too (they would be counted twice)."""
    listed = set(regions)
    nested = []
    for code in regions:
        seen, parent = set(), parents.get(code)
        while parent and parent not in seen:
            if parent in listed:
                nested.append(code)
                break
            seen.add(parent)
            parent = parents.get(parent)
    return nested


def with_figures(scheme: Scheme, values: Mapping[str, float], source: str = "command line") -> Scheme:
    """A copy with ``value_yuan`` of the named basis figures replaced (unknown ids raise KeyError)."""
    known = {b.id for b in scheme.basis}
    unknown = sorted(set(values) - known)
    if unknown:
        raise KeyError(f"unknown basis figure(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    figures = tuple(
        b.model_copy(update={"value_yuan": float(values[b.id]), "value_source": source, "value_tag": "user"})
        if b.id in values
        else b
        for b in scheme.basis
    )
    return scheme.model_copy(update={"basis": figures})


def read_indicators(path: str | Path) -> dict[tuple[str, int], float]:
    """Read observed indicators (CSV/XLSX columns ``indicator, year, value``; value a number or a
    water class such as ``II``). Raises :class:`GepInputError` naming the file, row and value."""
    from gep.inputs.tables import check_columns, read_table

    path = Path(path)
    frame, problems = read_table(path)
    if frame is None:
        raise GepInputError(problems)
    problems = check_columns(frame, ("indicator", "year", "value"), str(path))
    if problems:
        raise GepInputError(problems)
    out: dict[tuple[str, int], float] = {}
    for row, (indicator, year, value) in enumerate(zip(frame["indicator"], frame["year"], frame["value"], strict=True)):
        line = row + 2
        try:
            year_int = int(year)
            if year_int != float(year):
                raise ValueError
        except (TypeError, ValueError):
            problems.append(error("realization_bad_cell", str(path), "year", value=year, row=line, expected="a year"))
            continue
        try:
            number = indicator_number(value)
            if math.isnan(number):
                raise ValueError
        except ValueError:
            problems.append(
                error(
                    "realization_bad_cell",
                    str(path),
                    "value",
                    value=value,
                    row=line,
                    expected="a number or a water class (I-V, 劣V)",
                )
            )
            continue
        key = (str(indicator).strip(), year_int)
        if key in out:
            problems.append(error("realization_duplicate_observation", str(path), "indicator", value=key[0], row=line))
        out[key] = number
    if problems:
        raise GepInputError(problems)
    return out


def _compare(value: float, operator: Operator, threshold: float) -> bool:
    return {
        "<=": value <= threshold,
        "<": value < threshold,
        ">=": value >= threshold,
        ">": value > threshold,
        "==": value == threshold,
    }[operator]


def payment_schedule(
    scheme: Scheme,
    indicators: Mapping[tuple[str, int], float] | None = None,
    *,
    first_year: int | None = None,
    source: str = "scheme",
) -> ScheduleResult:
    """The payment schedule of ``scheme``.

    Args:
        scheme: a checked scheme whose basis figures all have ``value_yuan`` (use
            :func:`basis_from_account` or :func:`with_figures` first for figures taken from an account).
        indicators: observed indicators, ``(indicator, year) -> value``; conditions without an
            observation in their evaluation year leave their tranche pending.
        first_year: overrides ``scheme.first_year`` (the year of ``year_offset = 0``).
        source: the scheme file, for messages.

    Amounts are in yuan.
    """
    missing = [b.id for b in scheme.basis if b.value_yuan is None]
    if missing:
        raise GepInputError(
            [error("realization_basis_value_missing", source, f"basis.{m}.value_yuan", value=m) for m in missing]
        )
    observed = dict(indicators or {})
    start = scheme.scheme.first_year if first_year is None else int(first_year)
    basis_rows = []
    basis_text = []
    for figure in scheme.basis:
        amount = figure.share * float(figure.value_yuan)  # type: ignore[arg-type]
        basis_rows.append(
            {
                "id": figure.id,
                "label_zh": figure.label_zh,
                "label_en": figure.label_en,
                "share": figure.share,
                "share_source": figure.share_source,
                "share_tag": figure.share_tag,
                "value_yuan": float(figure.value_yuan),  # type: ignore[arg-type]
                "value_source": figure.value_source,
                "value_tag": figure.value_tag,
                "year": figure.year if figure.year is not None else "",
                "items": ", ".join(figure.items) or (figure.category or ""),
                "regions": ", ".join(figure.regions),
                "amount_yuan": amount,
            }
        )
        basis_text.append(f"{figure.share:.6g} × {figure.id} {float(figure.value_yuan):.12g} yuan [{figure.value_tag}]")  # type: ignore[arg-type]
    total = sum(r["amount_yuan"] for r in basis_rows)
    total_text = " + ".join(basis_text) + f" = {total:.12g} yuan"
    rows = []
    for n, tranche in enumerate(scheme.plan(), start=1):
        year = start + tranche.year_offset
        scheduled = total * tranche.share
        row = {
            "scheme_id": scheme.scheme.id,
            "year": year,
            "tranche": n,
            "share": tranche.share,
            "scheduled_yuan": scheduled,
            "amount_yuan": scheduled,
            "condition": "",
            "evaluation_year": "",
            "indicator_value": "",
            "condition_met": None,
            "status": "unconditional",
            "basis": f"{tranche.share:.6g} of total ({total_text})",
        }
        if tranche.condition is not None:
            condition = scheme.conditions[tranche.condition]
            threshold = condition.threshold_value
            evaluation_year = year - condition.evaluation_lag
            row["condition"] = f"{condition.indicator} {condition.operator} {condition.threshold} in {evaluation_year}"
            row["evaluation_year"] = evaluation_year
            value = observed.get((condition.indicator, evaluation_year))
            if value is None:
                row["status"] = "pending"
            else:
                met = _compare(value, condition.operator, threshold)
                row["indicator_value"] = value
                row["condition_met"] = met
                row["status"] = "met" if met else "not_met"
                row["amount_yuan"] = scheduled if met else scheduled * condition.on_fail_share
        rows.append(row)
    problems: list[Problem] = []
    reported = scheme.scheme.reported_total_yuan
    if reported and abs(total - reported) > REPORTED_TOTAL_TOLERANCE * reported:
        problems.append(
            warning("realization_total_differs", source, "scheme.reported_total_yuan", value=total, expected=reported)
        )
    return ScheduleResult(pd.DataFrame(rows), pd.DataFrame(basis_rows), total, tuple(problems))
