"""Exponential smoothing (the plan's formula) and Holt's linear trend, checked by hand and by brute force."""

from __future__ import annotations

import numpy as np
import pytest

from gep.analytics.forecast import fit_holt, fit_ses, holt_sse, ses_predictions, ses_sse


def test_ses_given_alpha_by_hand():
    # a = 0.5 on y = [10, 12, 14], started with y'(1) = y(1) = 10:
    # y'(2) = 0.5*10 + 0.5*10 = 10
    # y'(3) = 0.5*12 + 0.5*10 = 11
    # y'(4) = 0.5*14 + 0.5*11 = 12.5   (forecast of every later period)
    # SSE = (12 - 10)^2 + (14 - 11)^2 = 4 + 9 = 13
    fit = fit_ses([10, 12, 14], alpha=0.5)
    assert fit.fitted == pytest.approx((10.0, 10.0, 11.0))
    assert fit.level == pytest.approx(12.5)
    assert fit.forecast(3) == pytest.approx([12.5, 12.5, 12.5])
    assert fit.sse == pytest.approx(13.0)
    assert fit.rmse == pytest.approx(np.sqrt(13.0 / 2))
    assert not fit.estimated
    assert ses_predictions([10, 12, 14], 0.5) == pytest.approx([10, 10, 11, 12.5])


def test_ses_least_squares_interior_minimum_by_hand():
    # y = [10, 14, 12]: y'(2) = 10, y'(3) = a*14 + (1-a)*10 = 10 + 4a
    # SSE(a) = (14 - 10)^2 + (12 - 10 - 4a)^2 = 16 + (2 - 4a)^2 -> minimum at a = 0.5, SSE = 16
    # forecast y'(4) = 0.5*12 + 0.5*12 = 12
    fit = fit_ses([10, 14, 12])
    assert fit.estimated
    assert fit.alpha == pytest.approx(0.5, abs=1e-5)
    assert fit.sse == pytest.approx(16.0)
    assert fit.level == pytest.approx(12.0, abs=1e-4)


def test_ses_least_squares_boundary_minimum_by_hand():
    # y = [10, 12, 14]: SSE(a) = (12 - 10)^2 + (14 - 10 - 2a)^2 = 4 + (4 - 2a)^2, decreasing on [0, 1]
    # -> a = 1 (the unconstrained minimum a = 2 is outside [0, 1]); forecast y'(4) = y(3) = 14
    fit = fit_ses([10, 12, 14])
    assert fit.alpha == pytest.approx(1.0)
    assert fit.sse == pytest.approx(8.0)
    assert fit.level == pytest.approx(14.0)


def _brute_ses(y, step=1e-4):
    best = (np.inf, None)
    for a in np.arange(0.0, 1.0 + step / 2, step):
        pred, sse = y[0], 0.0
        for t in range(1, len(y)):
            pred = a * y[t - 1] + (1 - a) * pred
            sse += (y[t] - pred) ** 2
        best = min(best, (sse, a), key=lambda p: p[0])
    return best


def test_ses_least_squares_matches_brute_force():
    y = [3.0, 7.0, 4.0, 9.0, 6.0, 11.0]
    sse, alpha = _brute_ses(y)
    fit = fit_ses(y)
    assert fit.sse <= sse + 1e-9
    assert fit.alpha == pytest.approx(alpha, abs=2e-4)
    assert ses_sse(y, fit.alpha) == pytest.approx(fit.sse)


def test_holt_by_hand():
    # y = [1, 3, 4], alpha = beta = 0.5; l(1) = 1, b(1) = 3 - 1 = 2
    # t=2: forecast 1 + 2 = 3; l = 0.5*3 + 0.5*3 = 3; b = 0.5*(3 - 1) + 0.5*2 = 2
    # t=3: forecast 3 + 2 = 5; l = 0.5*4 + 0.5*5 = 4.5; b = 0.5*(4.5 - 3) + 0.5*2 = 1.75
    # forecasts: 4.5 + 1.75 = 6.25, 4.5 + 2*1.75 = 8.0; SSE = (4 - 5)^2 = 1
    fit = fit_holt([1, 3, 4], alpha=0.5, beta=0.5)
    assert fit.fitted == pytest.approx((1, 3, 5))
    assert (fit.level, fit.trend) == pytest.approx((4.5, 1.75))
    assert fit.forecast(2) == pytest.approx([6.25, 8.0])
    assert fit.sse == pytest.approx(1.0)


@pytest.mark.parametrize("params", [{}, {"alpha": 0.3, "beta": 0.7}, {"alpha": 0.0, "beta": 1.0}])
def test_holt_on_a_line_forecasts_the_line(params):
    # y = 5 + 2t for t = 0..5: level follows the data and the trend stays 2 for any alpha, beta
    y = 5.0 + 2.0 * np.arange(6)
    fit = fit_holt(y, **params)
    assert fit.sse == pytest.approx(0.0, abs=1e-18)
    assert fit.forecast(4) == pytest.approx([17.0, 19.0, 21.0, 23.0])


def test_holt_least_squares_at_least_as_good_as_brute_grid():
    y = np.array([2.0, 4.0, 5.0, 8.0, 9.0, 13.0, 12.0])
    best = np.inf
    for a in np.linspace(0, 1, 101):
        for b in np.linspace(0, 1, 101):
            level, trend, sse = y[0], y[1] - y[0], 0.0
            for t in range(1, len(y)):
                forecast = level + trend
                if t >= 2:
                    sse += (y[t] - forecast) ** 2
                new = a * y[t] + (1 - a) * forecast
                trend = b * (new - level) + (1 - b) * trend
                level = new
            best = min(best, sse)
    fit = fit_holt(y)
    assert fit.estimated
    assert fit.sse <= best + 1e-9
    assert holt_sse(y, fit.alpha, fit.beta) == pytest.approx(fit.sse)


def test_holt_fits_one_parameter_when_the_other_is_given():
    y = [2.0, 4.0, 5.0, 8.0, 9.0, 13.0]
    fit = fit_holt(y, alpha=0.4)
    assert fit.alpha == 0.4
    grid = np.linspace(0, 1, 1001)
    assert fit.sse <= holt_sse(y, 0.4, grid).min() + 1e-9


def test_parameters_and_lengths_checked():
    with pytest.raises(ValueError, match="outside"):
        fit_ses([1, 2, 3], alpha=1.5)
    with pytest.raises(ValueError, match="at least 3"):
        fit_ses([1, 2])
    with pytest.raises(ValueError, match="at least 4"):
        fit_holt([1, 2, 3])
    with pytest.raises(ValueError, match="non-finite"):
        fit_ses([1, float("nan"), 3], alpha=0.5)


def test_holt_cross_check_with_statsmodels():
    holtwinters = pytest.importorskip("statsmodels.tsa.holtwinters")
    y = np.array([2.0, 4.0, 5.0, 8.0, 9.0, 13.0, 12.0, 15.0])
    d = y[1] - y[0]
    # statsmodels' known initial states l(0), b(0) come before y(1). With l(0) = y(1) - d and b(0) = d the
    # first step gives l(1) = y(1), b(1) = d: our start, so every later state and forecast must agree.
    model = holtwinters.Holt(y, initialization_method="known", initial_level=y[0] - d, initial_trend=d)
    result = model.fit(smoothing_level=0.6, smoothing_trend=0.3, optimized=False)
    ours = fit_holt(y, alpha=0.6, beta=0.3)
    assert np.asarray(result.fittedvalues) == pytest.approx(ours.fitted)
    assert np.asarray(result.forecast(3)) == pytest.approx(ours.forecast(3))
