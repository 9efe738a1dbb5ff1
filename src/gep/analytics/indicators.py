"""Plan indicators and targets: progress, status against the straight path, and forecasts.

The indicator set is data (``data/indicators_lishui_2025.toml``: the 14 indicators of 表3-1 of the
Lishui 14th Five-Year Plan). For each indicator and its observed yearly values (in the indicator's
own unit):

- progress = (current − base) / (target − base): the share of the planned change achieved;
- expected progress = (year − base_year) / (target_year − base_year), clipped to [0, 1]: where the
  straight path from the base to the target stands in the current year;
- gap = progress − expected progress; status ``on_track`` if gap ≥ −on_track_tolerance,
  ``at_risk`` if gap ≥ −at_risk_tolerance, else ``off_track`` (defaults 0 and 0.10, i.e. up to 10 %
  of the planned change behind the path is "at risk"; comparisons allow 1e-9 for rounding);
- when the base already meets the target (e.g. PM2.5 21 against a ceiling of 23), progress is
  undefined and the status is ``on_track`` while the target is met, else ``off_track``;
- ``no_target`` for qualitative targets (达标) unless a number is given in a targets file;
  ``no_data`` without observations;
- forecasts to the target year by simple exponential smoothing (the plan's formula) and by Holt's
  linear trend (:mod:`gep.analytics.forecast`), with their parameters.

Without a base value in the data, the first observation is the base.

Years (checked when the set is loaded, handled when it is assessed):

- a base year must be before the target year: a set or targets file with base_year ≥ target_year is
  an error naming the file, the indicator and both years;
- missing years inside an observed series (e.g. 2019 and 2021 without 2020) do not affect progress
  and status, which use the base and the latest observation; smoothing needs consecutive years, so
  such a series is not forecast and a warning names the indicator and the missing years;
- observations before the plan's base year are history: they are used for forecasts but not for
  progress and status (warning); when all observations are before the base year the status is
  ``no_data``;
- an observation after the target year is assessed against the target with expected progress 1
  (the straight path ends at the target), and nothing is forecast (warning). With ``year`` the
  assessment is as of that year instead of the latest observation;
- without a plan base, a first observation in or after the target year leaves progress undefined;
  the status then says whether the target is met (warning).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from gep.analytics import forecast as fc
from gep.i18n import Text
from gep.problems import GepInputError, Problem, error, warning
from gep.units import yuan_to_yi

TargetKind = Literal["at_least", "at_most", "range", "qualitative"]
Status = Literal["on_track", "at_risk", "off_track", "no_target", "no_data"]
TARGET_KINDS = ("at_least", "at_most", "range", "qualitative")
ATTRIBUTES = {"binding": "约束性", "expected": "预期性"}
EPS = 1e-9
DEFAULT_SET = "indicators_lishui_2025.toml"
METHOD_NAMES = {
    "ses": Text("一次指数平滑法", "simple exponential smoothing"),
    "holt": Text("Holt 线性趋势法", "Holt's linear trend"),
}


@dataclass(frozen=True)
class StatusRule:
    """Tolerances, as fractions of the planned change (target − base), behind the straight path."""

    on_track_tolerance: float = 0.0
    at_risk_tolerance: float = 0.10

    def __post_init__(self) -> None:
        if not 0.0 <= self.on_track_tolerance <= self.at_risk_tolerance:
            raise ValueError(
                f"expected 0 <= on_track_tolerance ({self.on_track_tolerance})"
                f" <= at_risk_tolerance ({self.at_risk_tolerance})"
            )


@dataclass(frozen=True)
class Indicator:
    """One plan indicator. ``target`` and ``base_value`` are in ``unit``; ``direction`` says which way
    is better; ``account`` names a quantity computable from gep accounts (gep, realization_rate)."""

    id: str
    number: int
    name_zh: str
    name_en: str
    unit: str
    target_kind: TargetKind
    attribute: str
    direction: Literal["higher", "lower"]
    target_year: int
    source: str
    target: float | None = None
    target_upper: float | None = None
    target_text: str = ""
    unit_en: str = ""
    level1_zh: str = ""
    level1_en: str = ""
    level2_zh: str = ""
    level2_en: str = ""
    base_year: int | None = None
    base_value: float | None = None
    base_source: str = ""
    page: str = ""
    verified: bool = False
    account: str | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        if self.base_year is not None and self.base_year >= self.target_year:
            raise ValueError(
                f"indicator {self.id}: base year {self.base_year} is not before target year {self.target_year};"
                " expected base_year < target_year"
            )

    def meets(self, value: float) -> bool:
        """Whether ``value`` meets the target (the lower bound of a range)."""
        if self.target is None:
            return False
        if self.direction == "higher":
            return value >= self.target - EPS * max(1.0, abs(self.target))
        return value <= self.target + EPS * max(1.0, abs(self.target))


@dataclass(frozen=True)
class IndicatorSet:
    id: str
    plan_zh: str
    plan_en: str
    target_year: int
    source: str
    indicators: tuple[Indicator, ...]
    status: StatusRule = field(default_factory=StatusRule)

    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    def get(self, indicator_id: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(f"indicator {indicator_id!r} is not in set {self.id}; known: {', '.join(self.ids())}")


# --- loading ---------------------------------------------------------------------------------------------------

_INDICATOR_FIELDS = {f for f in Indicator.__dataclass_fields__}


def _data_text(name: str) -> str:
    return resources.files("gep.analytics").joinpath("data", name).read_text(encoding="utf-8")


def load_toml(path: str | Path | None, default: str) -> tuple[dict[str, Any], str]:
    """A TOML file (or the packaged ``data/<default>``) as a dict, and the source name for messages."""
    if path is None:
        return tomllib.loads(_data_text(default)), f"gep/analytics/data/{default}"
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise GepInputError([error("file_not_found", source, what=Text("TOML 配置文件", "TOML settings file"))])
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), source
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GepInputError([error("analytics_config_invalid", source, reason=str(exc))]) from None


def _is_year(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _indicator(
    raw: Mapping[str, Any], target_year: int, source: str, years_source: str | None = None
) -> tuple[Indicator | None, list[Problem]]:
    """One indicator from its TOML table; ``years_source`` names the file that set its base or target
    year (default ``source``), for the message when the base year is not before the target year."""
    where = f"indicator {raw.get('id', '?')}"
    problems = []
    unknown = sorted(set(raw) - _INDICATOR_FIELDS - {"attribute_zh"})
    if unknown:
        problems.append(error("analytics_config_invalid", source, where, reason=f"unknown keys {', '.join(unknown)}"))
    for key in ("id", "number", "name_zh", "name_en", "unit", "target_kind", "attribute", "direction", "source"):
        if key not in raw:
            problems.append(error("analytics_config_invalid", source, where, reason=f"missing key {key!r}"))
    if problems:
        return None, problems
    if raw["target_kind"] not in TARGET_KINDS:
        problems.append(
            error(
                "analytics_config_invalid",
                source,
                where,
                reason=f"target_kind {raw['target_kind']!r} is not one of {', '.join(TARGET_KINDS)}",
            )
        )
    if raw["attribute"] not in ATTRIBUTES:
        problems.append(
            error(
                "analytics_config_invalid",
                source,
                where,
                reason=f"attribute {raw['attribute']!r} is not binding or expected",
            )
        )
    if raw["direction"] not in ("higher", "lower"):
        problems.append(
            error(
                "analytics_config_invalid",
                source,
                where,
                reason=f"direction {raw['direction']!r} is not higher or lower",
            )
        )
    if raw["target_kind"] != "qualitative" and not isinstance(raw.get("target"), (int, float)):
        problems.append(
            error(
                "analytics_config_invalid",
                source,
                where,
                reason="a numeric target is required unless target_kind is qualitative",
            )
        )
    if (raw.get("base_year") is None) != (raw.get("base_value") is None):
        problems.append(
            error("analytics_config_invalid", source, where, reason="give both base_year and base_value, or neither")
        )
    for key in ("base_year", "target_year"):
        if raw.get(key) is not None and not _is_year(raw[key]):
            problems.append(
                error("analytics_config_invalid", source, where, reason=f"{key} {raw[key]!r} is not a whole year")
            )
    if problems:
        return None, problems
    values = {k: v for k, v in raw.items() if k in _INDICATOR_FIELDS}
    values.setdefault("target_year", target_year)
    if values.get("base_year") is not None and values["base_year"] >= values["target_year"]:
        return None, [
            error(
                "analytics_base_not_before_target",
                years_source or source,
                f"indicator.{raw['id']}",
                indicator=raw["id"],
                base_year=values["base_year"],
                target_year=values["target_year"],
            )
        ]
    for key in ("target", "target_upper", "base_value"):
        if values.get(key) is not None:
            values[key] = float(values[key])
    return Indicator(**values), []


def load_indicator_set(path: str | Path | None = None, targets: str | Path | None = None) -> IndicatorSet:
    """The indicator set (default: the packaged Lishui 2025 set), with optional overrides from a
    ``targets`` TOML file: ``[indicator.<id>]`` tables setting target, target_kind, base_year,
    base_value, target_year, direction, ...; ``[status]`` setting the tolerances.

    Raises :class:`GepInputError` listing every problem, among them an indicator whose base year is
    not before its target year (naming the file that set the year)."""
    data, source = load_toml(path, DEFAULT_SET)
    problems: list[Problem] = []
    meta = data.get("set", {})
    try:
        target_year = int(meta["target_year"])
    except (KeyError, TypeError, ValueError):
        raise GepInputError(
            [error("analytics_config_invalid", source, "set.target_year", reason="missing or not a year")]
        ) from None
    raws = [dict(r) for r in data.get("indicator", [])]
    status_raw = dict(data.get("status", {}))
    set_source = source
    years_from: dict[Any, str] = {}  # indicator id -> the file that set its base or target year
    if targets is not None:
        override, override_source = load_toml(targets, DEFAULT_SET)
        by_id = {r.get("id"): r for r in raws}
        for indicator_id, values in override.get("indicator", {}).items():
            if indicator_id not in by_id:
                problems.append(
                    error(
                        "analytics_unknown_indicator",
                        override_source,
                        f"indicator.{indicator_id}",
                        value=indicator_id,
                        row="-",
                        expected=", ".join(map(str, by_id)),
                    )
                )
                continue
            by_id[indicator_id].update(values)
            if {"base_year", "target_year"} & set(values):
                years_from[indicator_id] = override_source
            if (
                "target" in values
                and "target_kind" not in values
                and by_id[indicator_id]["target_kind"] == "qualitative"
            ):
                by_id[indicator_id]["target_kind"] = (
                    "at_most" if by_id[indicator_id]["direction"] == "lower" else "at_least"
                )
        status_raw.update(override.get("status", {}))
        source = f"{source} + {override_source}"
    indicators = []
    for raw in raws:
        indicator, found = _indicator(raw, target_year, source, years_from.get(raw.get("id"), set_source))
        problems += found
        if indicator is not None:
            indicators.append(indicator)
    ids = [i.id for i in indicators]
    if len(set(ids)) != len(ids):
        problems.append(error("analytics_config_invalid", source, None, reason="indicator ids are not unique"))
    try:
        rule = StatusRule(**{k: float(v) for k, v in status_raw.items()})
    except (TypeError, ValueError) as exc:
        problems.append(error("analytics_config_invalid", source, "status", reason=str(exc)))
        rule = StatusRule()
    if problems:
        raise GepInputError(problems)
    return IndicatorSet(
        id=str(meta.get("id", "")),
        plan_zh=str(meta.get("plan_zh", "")),
        plan_en=str(meta.get("plan_en", "")),
        target_year=target_year,
        source=str(meta.get("source", "")),
        indicators=tuple(indicators),
        status=rule,
    )


# --- progress and status ------------------------------------------------------------------------------------


def progress(base: float, current: float, target: float) -> float:
    """(current − base) / (target − base); NaN when target == base."""
    span = target - base
    return (current - base) / span if span != 0 else float("nan")


def expected_progress(year: int, base_year: int, target_year: int) -> float:
    """Where the straight path from base_year to target_year stands in ``year`` (0..1: 0 up to the
    base year, 1 from the target year on). Raises ValueError unless base_year < target_year."""
    if target_year <= base_year:
        raise ValueError(f"base year {base_year} is not before target year {target_year}; expected base < target")
    return min(1.0, max(0.0, (year - base_year) / (target_year - base_year)))


def classify(gap: float, rule: StatusRule = StatusRule()) -> Status:
    """on_track / at_risk / off_track from gap = progress − expected progress."""
    if gap >= -rule.on_track_tolerance - EPS:
        return "on_track"
    if gap >= -rule.at_risk_tolerance - EPS:
        return "at_risk"
    return "off_track"


@dataclass(frozen=True)
class Assessment:
    """Status of one indicator in its latest observed year (values in the indicator's unit)."""

    indicator: Indicator
    base_year: int | None
    base_value: float | None
    base_from: str
    year: int | None
    value: float | None
    progress: float
    expected: float
    gap: float
    status: Status
    target_met: bool | None
    note: str = ""


def _plan_base(indicator: Indicator) -> tuple[int, float] | None:
    if indicator.base_year is not None and indicator.base_value is not None:
        return indicator.base_year, indicator.base_value
    return None


def _years_text(years: Iterable[Any]) -> str:
    return ", ".join(str(int(y)) for y in years)


def assess(
    indicator: Indicator, series: pd.Series, rule: StatusRule = StatusRule(), year: int | None = None
) -> Assessment:
    """Assess ``indicator`` from ``series`` (index year, values in the indicator's unit), at ``year``
    (default: the latest observed year). Observations before the plan's base year are not used
    (status ``no_data`` when nothing else is left); an observation after the target year is compared
    with the target (expected progress 1). See the module docstring."""
    series = series.dropna().sort_index()
    if year is not None:
        series = series[series.index <= year]
    nan = float("nan")
    plan = _plan_base(indicator)
    earlier = series.iloc[:0]
    if plan is not None:
        (base_year, base_value), base_from = plan, "plan"
        earlier = series[series.index < base_year]
        series = series[series.index >= base_year]
    elif not series.empty:
        base_year, base_value, base_from = int(series.index[0]), float(series.iloc[0]), "first observation"
    else:
        base_year, base_value, base_from = None, None, ""
    if series.empty:
        note = (
            f"observations only before the base year {base_year} ({_years_text(earlier.index)}): not assessed"
            if not earlier.empty
            else ""
        )
        return Assessment(indicator, base_year, base_value, base_from, None, None, nan, nan, nan, "no_data", None, note)
    current_year, current = int(series.index[-1]), float(series.iloc[-1])
    notes = []
    if not earlier.empty:
        notes.append(f"observations before the base year {base_year} not used: {_years_text(earlier.index)}")
    if current_year > indicator.target_year:
        notes.append(f"latest observation {current_year} is after the target year {indicator.target_year}")

    def result(achieved: float, expected: float, gap: float, status: Status, met: bool | None) -> Assessment:
        return Assessment(
            indicator,
            base_year,
            base_value,
            base_from,
            current_year,
            current,
            achieved,
            expected,
            gap,
            status,
            met,
            "; ".join(notes),
        )

    if indicator.target is None:
        return result(nan, nan, nan, "no_target", None)
    met = indicator.meets(current)
    assert base_year is not None and base_value is not None
    if base_year >= indicator.target_year:  # only a first observation can be (the loader checks plan bases)
        notes.append(
            f"first observation {base_year} is not before the target year {indicator.target_year}: progress"
            " undefined; status = whether the target is met"
        )
        return result(nan, 1.0, nan, "on_track" if met else "off_track", met)
    span = indicator.target - base_value
    wrong_way = span == 0 or (span > 0) != (indicator.direction == "higher")
    expected = expected_progress(current_year, base_year, indicator.target_year)
    if wrong_way:
        notes.append("base already meets the target: progress undefined; status = whether the target is still met")
        return result(nan, expected, nan, "on_track" if met else "off_track", met)
    achieved = progress(base_value, current, indicator.target)
    gap = achieved - expected
    return result(achieved, expected, gap, "on_track" if met else classify(gap, rule), met)


def series_problems(
    indicator: Indicator, series: pd.Series, source: str = "observed", year: int | None = None
) -> list[Problem]:
    """Warnings about the years of an observed series (index year) as :func:`assess` uses it:
    observations before the plan's base year, a latest observation after the target year, and (without
    a plan base) a first observation that is not before the target year. Missing years inside the
    series are reported by :func:`forecast_indicator`."""
    series = series.dropna().sort_index()
    if year is not None:
        series = series[series.index <= year]
    if series.empty:
        return []
    problems = []
    plan = _plan_base(indicator)
    if plan is not None:
        earlier = series[series.index < plan[0]]
        if not earlier.empty:
            only = len(earlier) == len(series)
            problems.append(
                warning(
                    "analytics_only_before_base" if only else "analytics_before_base",
                    source,
                    indicator.id,
                    indicator=indicator.id,
                    years=_years_text(earlier.index),
                    base_year=plan[0],
                )
            )
            if only:
                return problems
    elif int(series.index[0]) >= indicator.target_year:
        problems.append(
            warning(
                "analytics_first_after_target",
                source,
                indicator.id,
                indicator=indicator.id,
                year=int(series.index[0]),
                target_year=indicator.target_year,
            )
        )
    last = int(series.index[-1])
    if last > indicator.target_year:
        problems.append(
            warning(
                "analytics_after_target",
                source,
                indicator.id,
                indicator=indicator.id,
                year=last,
                target_year=indicator.target_year,
            )
        )
    return problems


# --- forecasts ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastOptions:
    """Given smoothing parameters (None = least squares)."""

    ses_alpha: float | None = None
    holt_alpha: float | None = None
    holt_beta: float | None = None


def forecast_indicator(
    indicator: Indicator, series: pd.Series, options: ForecastOptions = ForecastOptions(), source: str = "observed"
) -> tuple[dict[str, fc.SmoothingFit], pd.DataFrame, list[Problem]]:
    """SES and Holt fits of an indicator's series and their forecasts to the target year.

    Returns (fits by method, rows indicator_id, method, year, kind (observed/fitted/forecast), value,
    warnings). A series with missing years is not forecast (warning); nor is one that already reaches
    the target year (nothing to forecast; :func:`series_problems` warns when it goes past it)."""
    series = series.dropna().sort_index()
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    fits: dict[str, fc.SmoothingFit] = {}
    if series.empty or int(series.index[-1]) >= indicator.target_year:
        return fits, pd.DataFrame(rows), problems
    first, last = int(series.index[0]), int(series.index[-1])
    missing = sorted(set(range(first, last + 1)) - {int(y) for y in series.index})
    if missing:
        problems.append(
            warning(
                "analytics_series_gap",
                source,
                indicator.id,
                indicator=indicator.id,
                missing=", ".join(map(str, missing)),
                first=first,
                last=last,
            )
        )
        return fits, pd.DataFrame(rows), problems
    y = series.to_numpy(dtype=float)
    params = {"ses": (options.ses_alpha, None), "holt": (options.holt_alpha, options.holt_beta)}
    for method, (alpha, beta) in params.items():
        estimate = alpha is None or (method == "holt" and beta is None)
        needed = (fc.MIN_POINTS_FIT if estimate else fc.MIN_POINTS_RUN)[method]
        if y.size < needed:
            task = Text("估计参数", "estimate its parameters") if estimate else Text("运行", "run")
            problems.append(
                warning(
                    "analytics_too_few_points",
                    source,
                    indicator.id,
                    indicator=indicator.id,
                    count=y.size,
                    method=METHOD_NAMES[method],
                    needed=needed,
                    task=task,
                )
            )
            continue
        result = fc.fit(y, method, alpha, beta)  # type: ignore[arg-type]
        fits[method] = result
        for year_, value, fitted in zip(series.index, y, result.fitted, strict=True):
            rows.append(
                {
                    "indicator_id": indicator.id,
                    "method": method,
                    "year": int(year_),
                    "kind": "observed",
                    "value": float(value),
                }
            )
            rows.append(
                {"indicator_id": indicator.id, "method": method, "year": int(year_), "kind": "fitted", "value": fitted}
            )
        steps = indicator.target_year - last
        for h, value in enumerate(result.forecast(steps), start=1):
            rows.append(
                {
                    "indicator_id": indicator.id,
                    "method": method,
                    "year": last + h,
                    "kind": "forecast",
                    "value": float(value),
                }
            )
    return fits, pd.DataFrame(rows), problems


def forecast_at(fit: fc.SmoothingFit, last_year: int, year: int) -> float:
    """The forecast of ``fit`` for ``year`` (> last_year); NaN if ``year`` is not after the data."""
    steps = year - last_year
    return float(fit.forecast(steps)[-1]) if steps >= 1 else float("nan")


# --- all indicators -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorReport:
    """Outputs of :func:`evaluate_indicators`: ``table`` (one row per indicator), ``forecasts`` (long),
    ``observed`` (the values used) and warnings."""

    table: pd.DataFrame
    forecasts: pd.DataFrame
    observed: pd.DataFrame
    problems: list[Problem]


def evaluate_indicators(
    indicator_set: IndicatorSet,
    observed: pd.DataFrame,
    *,
    year: int | None = None,
    options: ForecastOptions = ForecastOptions(),
    rule: StatusRule | None = None,
) -> IndicatorReport:
    """Progress, status and forecasts for every indicator of ``indicator_set``.

    ``observed``: columns indicator_id, year, value (the indicator's unit) and optionally source.
    ``year``: assess as of this year (default: each indicator's latest observation)."""
    rule = rule or indicator_set.status
    problems: list[Problem] = []
    rows = []
    forecast_frames = []
    for indicator in indicator_set.indicators:
        data = observed[observed["indicator_id"] == indicator.id]
        series = pd.Series(data["value"].to_numpy(dtype=float), index=data["year"].astype(int).to_numpy()).sort_index()
        source = str(data["source"].iloc[0]) if "source" in data.columns and not data.empty else "observed"
        a = assess(indicator, series, rule, year)
        problems += series_problems(indicator, series, source, year)
        used = series[series.index <= year] if year is not None else series
        fits, frame, found = forecast_indicator(indicator, used, options, source)
        problems += found
        forecast_frames.append(frame)
        row: dict[str, Any] = {
            "number": indicator.number,
            "indicator_id": indicator.id,
            "level1_zh": indicator.level1_zh,
            "level2_zh": indicator.level2_zh,
            "name_zh": indicator.name_zh,
            "name_en": indicator.name_en,
            "unit": indicator.unit,
            "attribute": indicator.attribute,
            "attribute_zh": ATTRIBUTES[indicator.attribute],
            "target_year": indicator.target_year,
            "target_text": indicator.target_text,
            "target": indicator.target,
            "target_upper": indicator.target_upper,
            "direction": indicator.direction,
            "base_year": a.base_year,
            "base_value": a.base_value,
            "base_from": a.base_from,
            "year": a.year,
            "value": a.value,
            "progress": a.progress,
            "expected_progress": a.expected,
            "gap": a.gap,
            "status": a.status,
            "target_met": a.target_met,
        }
        for method in ("ses", "holt"):
            f = fits.get(method)
            last = int(used.index[-1]) if f is not None else None
            target_forecast = (
                forecast_at(f, last, indicator.target_year) if f is not None and last is not None else float("nan")
            )
            row[f"{method}_alpha"] = f.alpha if f else None
            if method == "holt":
                row["holt_beta"] = f.beta if f else None
            row[f"{method}_estimated"] = f.estimated if f else None
            row[f"{method}_rmse"] = f.rmse if f else None
            row[f"{method}_forecast_target_year"] = target_forecast
            row[f"{method}_meets_target"] = (
                indicator.meets(target_forecast)
                if f is not None and indicator.target is not None and math.isfinite(target_forecast)
                else None
            )
        row["source"] = indicator.source
        row["verified"] = indicator.verified
        row["notes"] = "; ".join(n for n in (indicator.notes, a.note) if n)
        rows.append(row)
    forecasts = (
        pd.concat([f for f in forecast_frames if not f.empty], ignore_index=True)
        if any(not f.empty for f in forecast_frames)
        else pd.DataFrame(columns=["indicator_id", "method", "year", "kind", "value"])
    )
    return IndicatorReport(pd.DataFrame(rows), forecasts, observed.reset_index(drop=True), problems)


def combine_observed(
    tables: Iterable[pd.DataFrame], from_accounts: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Observed values from tables, plus values computed from accounts for indicator/years the tables
    do not give (a table value wins over an account value, with a warning when they differ)."""
    frames = [t for t in tables if not t.empty]
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["indicator_id", "year", "value", "source"])
    )
    problems: list[Problem] = []
    if from_accounts is None or from_accounts.empty:
        return table, problems
    given = {(i, int(y)): v for i, y, v in zip(table["indicator_id"], table["year"], table["value"], strict=True)}
    extra = []
    for _, row in from_accounts.iterrows():
        key = (row["indicator_id"], int(row["year"]))
        if key in given:
            if not np.isclose(given[key], row["value"], rtol=1e-6):
                problems.append(
                    warning(
                        "analytics_observed_twice",
                        str(row["source"]),
                        row["indicator_id"],
                        indicator=key[0],
                        year=key[1],
                        table_value=given[key],
                        account_value=row["value"],
                    )
                )
            continue
        extra.append(row)
    if extra:
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    return table, problems


def with_status_rule(indicator_set: IndicatorSet, on_track: float | None, at_risk: float | None) -> IndicatorSet:
    """A copy of the set with tolerances replaced where given."""
    rule = indicator_set.status
    rule = StatusRule(
        on_track_tolerance=rule.on_track_tolerance if on_track is None else on_track,
        at_risk_tolerance=rule.at_risk_tolerance if at_risk is None else at_risk,
    )
    return replace(indicator_set, status=rule)


def values_from_accounts(
    totals: pd.DataFrame, region_code: str, rates: pd.DataFrame | None = None, source: str = "accounts"
) -> pd.DataFrame:
    """Indicator values computable from accounts for one region: ``gep`` in 亿元 (from ``totals``, the
    output of :func:`gep.analytics.io.gep_totals`, yuan) and ``realization_rate`` in % (from ``rates``,
    the ``rates`` table of :func:`gep.analytics.realization.realization_rates`, category "total").
    Returns columns indicator_id, year, value, source."""
    rows = []
    mine = totals[totals["region_code"] == region_code]
    for _, row in mine.iterrows():
        rows.append(
            {
                "indicator_id": "gep",
                "year": int(row["year"]),
                "value": yuan_to_yi(float(row["gep_yuan"])),
                "source": source,
            }
        )
    if rates is not None and not rates.empty:
        total = rates[(rates["region_code"] == region_code) & (rates["category"] == "total")]
        for _, row in total.iterrows():
            if math.isfinite(row["rate"]):
                rows.append(
                    {
                        "indicator_id": "realization_rate",
                        "year": int(row["year"]),
                        "value": 100.0 * float(row["rate"]),
                        "source": source,
                    }
                )
    return pd.DataFrame(rows, columns=["indicator_id", "year", "value", "source"])
