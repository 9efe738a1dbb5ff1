"""Exponential smoothing forecasts, in numpy: the plan's simple smoothing and Holt's linear trend.

Simple exponential smoothing (SES), the plan's formula (附件1（三）1)::

    y'(t+1) = a·y(t) + (1 − a)·y'(t),   started with y'(1) = y(1)

y'(t+1) is the forecast for period t+1 and the smoothed value of period t. Every later period is
forecast with the last smoothed value y'(n+1) (SES has no trend, so the forecast is flat).

Holt's linear trend (level l, trend b), started with l(1) = y(1), b(1) = y(2) − y(1)::

    ŷ(t)  = l(t−1) + b(t−1)                                  one-step forecast
    l(t)  = α·y(t) + (1 − α)·ŷ(t)
    b(t)  = β·(l(t) − l(t−1)) + (1 − β)·b(t−1)
    ŷ(n+h) = l(n) + h·b(n)

Least squares: the parameters in [0, 1] that minimise the sum of squared one-step errors
y(t) − ŷ(t) over the periods whose forecast depends on them (t = 2..n for SES, t = 3..n for Holt;
the first forecasts equal the data by construction). The search is a grid over [0, 1] (step 0.001
for SES, 0.02 for Holt) refined three times around the best point (ten times finer each time), so
parameters are found to about 1e-5 and the global minimum on the grid is kept even when the
error surface has several minima. Ties go to the smallest parameter. Values are in the series' own
unit; periods are consecutive (years).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["ses", "holt"]
MIN_POINTS_FIT: dict[str, int] = {"ses": 3, "holt": 4}
"""Observations needed to estimate the parameters (with fewer, the error sum is constant or has one term)."""
MIN_POINTS_RUN: dict[str, int] = {"ses": 1, "holt": 2}
"""Observations needed to run the method with given parameters."""


@dataclass(frozen=True)
class SmoothingFit:
    """A smoothing model run over a series.

    Attributes:
        method: "ses" or "holt".
        alpha: smoothing parameter a (SES) or α (Holt level), in [0, 1].
        beta: Holt trend parameter β in [0, 1]; None for SES.
        estimated: True if least squares chose the parameters, False if they were given.
        sse: sum of squared one-step errors (series unit squared).
        rmse: sqrt(sse / number of errors); NaN when there are none.
        fitted: one-step forecasts ŷ(1..n) of the observed periods (ŷ(1) = y(1)).
        level: last smoothed level (SES: y'(n+1); Holt: l(n)).
        trend: last trend b(n) (0 for SES), per period.
    """

    method: str
    alpha: float
    beta: float | None
    estimated: bool
    sse: float
    rmse: float
    fitted: tuple[float, ...]
    level: float
    trend: float

    def forecast(self, steps: int) -> np.ndarray:
        """Forecasts for the ``steps`` periods after the last observation (h = 1..steps)."""
        h = np.arange(1, max(int(steps), 0) + 1, dtype=float)
        return self.level + h * self.trend


def _as_series(values: Sequence[float] | np.ndarray) -> np.ndarray:
    y = np.asarray(values, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"expected a 1-D series, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("the series has missing or non-finite values")
    return y


def _check_parameter(name: str, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} = {value} is outside [0, 1]")


# --- simple exponential smoothing ----------------------------------------------------------------------------


def ses_predictions(y: Sequence[float] | np.ndarray, alpha: float | np.ndarray) -> np.ndarray:
    """One-step forecasts y'(1..n+1) for one or many values of ``alpha`` (broadcast over the last axis
    is not used: the result has shape alpha.shape + (n + 1,))."""
    y = _as_series(y)
    a = np.asarray(alpha, dtype=float)
    out = np.empty(a.shape + (y.size + 1,))
    prediction = np.full(a.shape, y[0])
    out[..., 0] = prediction
    for t in range(y.size):
        prediction = a * y[t] + (1.0 - a) * prediction
        out[..., t + 1] = prediction
    return out


def ses_sse(y: Sequence[float] | np.ndarray, alpha: float | np.ndarray) -> np.ndarray:
    """Sum of squared one-step errors Σ_{t=2..n} (y(t) − y'(t))² for each ``alpha``."""
    y = _as_series(y)
    predictions = ses_predictions(y, alpha)
    errors = y[1:] - predictions[..., 1 : y.size]
    return np.sum(errors**2, axis=-1)


def fit_ses(y: Sequence[float] | np.ndarray, alpha: float | None = None) -> SmoothingFit:
    """Run SES on ``y``; with ``alpha`` None, choose it by least squares over [0, 1]."""
    y = _as_series(y)
    _check_parameter("alpha", alpha)
    estimated = alpha is None
    needed = MIN_POINTS_FIT["ses"] if estimated else MIN_POINTS_RUN["ses"]
    if y.size < needed:
        raise ValueError(
            f"SES needs at least {needed} observations{' to estimate a' if estimated else ''}, got {y.size}"
        )
    if alpha is None:
        (alpha,), _ = _minimize(lambda grid: ses_sse(y, grid[0]), fixed=[None], first_points=1001)
    predictions = ses_predictions(y, alpha)
    sse = float(ses_sse(y, alpha))
    count = y.size - 1
    return SmoothingFit(
        method="ses",
        alpha=float(alpha),
        beta=None,
        estimated=estimated,
        sse=sse,
        rmse=float(np.sqrt(sse / count)) if count else float("nan"),
        fitted=tuple(float(v) for v in predictions[: y.size]),
        level=float(predictions[y.size]),
        trend=0.0,
    )


# --- Holt's linear trend ----------------------------------------------------------------------------------


def holt_run(
    y: Sequence[float] | np.ndarray, alpha: float | np.ndarray, beta: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Holt's recursions for one or many (alpha, beta) (broadcast together).

    Returns (one-step forecasts ŷ(1..n) with shape params + (n,), last level l(n), last trend b(n))."""
    y = _as_series(y)
    a, b = np.broadcast_arrays(np.asarray(alpha, dtype=float), np.asarray(beta, dtype=float))
    level = np.full(a.shape, y[0])
    trend = np.full(a.shape, y[1] - y[0])
    predictions = np.empty(a.shape + (y.size,))
    predictions[..., 0] = y[0]
    for t in range(1, y.size):
        forecast = level + trend
        predictions[..., t] = forecast
        new_level = a * y[t] + (1.0 - a) * forecast
        trend = b * (new_level - level) + (1.0 - b) * trend
        level = new_level
    return predictions, level, trend


def holt_sse(y: Sequence[float] | np.ndarray, alpha: float | np.ndarray, beta: float | np.ndarray) -> np.ndarray:
    """Sum of squared one-step errors Σ_{t=3..n} (y(t) − ŷ(t))² for each (alpha, beta)."""
    y = _as_series(y)
    predictions, _, _ = holt_run(y, alpha, beta)
    errors = y[2:] - predictions[..., 2:]
    return np.sum(errors**2, axis=-1)


def fit_holt(y: Sequence[float] | np.ndarray, alpha: float | None = None, beta: float | None = None) -> SmoothingFit:
    """Run Holt's linear trend on ``y``; parameters left None are chosen by least squares over [0, 1]."""
    y = _as_series(y)
    _check_parameter("alpha", alpha)
    _check_parameter("beta", beta)
    estimated = alpha is None or beta is None
    needed = MIN_POINTS_FIT["holt"] if estimated else MIN_POINTS_RUN["holt"]
    if y.size < needed:
        purpose = " to estimate its parameters" if estimated else ""
        raise ValueError(f"Holt needs at least {needed} observations{purpose}, got {y.size}")
    if estimated:
        (alpha, beta), _ = _minimize(lambda grid: holt_sse(y, grid[0], grid[1]), fixed=[alpha, beta], first_points=51)
    predictions, level, trend = holt_run(y, alpha, beta)
    sse = float(holt_sse(y, alpha, beta))
    count = y.size - 2
    return SmoothingFit(
        method="holt",
        alpha=float(alpha),
        beta=float(beta),
        estimated=estimated,
        sse=sse,
        rmse=float(np.sqrt(sse / count)) if count > 0 else float("nan"),
        fitted=tuple(float(v) for v in predictions),
        level=float(level),
        trend=float(trend),
    )


def fit(
    y: Sequence[float] | np.ndarray, method: Method, alpha: float | None = None, beta: float | None = None
) -> SmoothingFit:
    """:func:`fit_ses` or :func:`fit_holt` by name."""
    if method == "ses":
        return fit_ses(y, alpha)
    if method == "holt":
        return fit_holt(y, alpha, beta)
    raise ValueError(f"unknown smoothing method {method!r}; expected ses or holt")


# --- least squares on [0, 1]^k ------------------------------------------------------------------------------


def _minimize(
    sse: Callable[[list[np.ndarray]], np.ndarray],
    fixed: list[float | None],
    first_points: int,
    refinements: int = 3,
    refine_points: int = 21,
) -> tuple[list[float], float]:
    """Grid search over [0, 1] for each free parameter (fixed ones stay at their value), then
    ``refinements`` finer grids around the best point. Returns (parameters, minimum)."""
    ranges = [(0.0, 1.0) if f is None else (f, f) for f in fixed]
    points = first_points
    best: list[float] = [0.0 if f is None else f for f in fixed]
    best_value = np.inf
    for _ in range(refinements + 1):
        axes = [np.linspace(lo, hi, points) if lo < hi else np.array([lo]) for lo, hi in ranges]
        grid = np.meshgrid(*axes, indexing="ij")
        values = sse(grid)
        index = np.unravel_index(int(np.argmin(values)), values.shape)
        if values[index] < best_value:
            best_value = float(values[index])
            best = [float(axis[i]) for axis, i in zip(axes, index, strict=True)]
        new_ranges = []
        for (lo, hi), axis, centre, f in zip(ranges, axes, best, fixed, strict=True):
            if f is not None or axis.size < 2:
                new_ranges.append((lo, hi))
                continue
            step = axis[1] - axis[0]
            new_ranges.append((max(0.0, centre - step), min(1.0, centre + step)))
        ranges = new_ranges
        points = refine_points
    return best, best_value
