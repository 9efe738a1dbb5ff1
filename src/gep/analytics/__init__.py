"""Putting accounts to work: plan indicators and targets with forecasts, the realization rate, county
evaluation with the GEP award split, and the departure audit.

Modules: :mod:`~gep.analytics.indicators` (progress, status, forecasts of the plan's indicators),
:mod:`~gep.analytics.forecast` (exponential smoothing and Holt, numpy), :mod:`~gep.analytics.realization`
(realized value / GEP), :mod:`~gep.analytics.evaluation` (county scores, award split),
:mod:`~gep.analytics.audit` (GEP change over a tenure), :mod:`~gep.analytics.io` (inputs and
CSV/Excel outputs), :mod:`~gep.analytics.cli` (the ``indicators``, ``realization``, ``evaluate`` and
``audit`` commands). Rules and targets are data in ``gep/analytics/data/*.toml``.
"""

from gep.analytics.audit import AuditResult, AuditRule, Tenure, audit_tenure, load_audit_rule
from gep.analytics.evaluation import (
    AwardRule,
    EvaluationConfig,
    EvaluationResult,
    evaluate_counties,
    load_evaluation_config,
    normalize,
    split_award,
)
from gep.analytics.forecast import SmoothingFit, fit_holt, fit_ses
from gep.analytics.indicators import (
    ForecastOptions,
    Indicator,
    IndicatorReport,
    IndicatorSet,
    StatusRule,
    assess,
    classify,
    evaluate_indicators,
    load_indicator_set,
)
from gep.analytics.realization import RealizationDefinition, RealizationResult, load_definition, realization_rates

__all__ = [
    "AuditResult",
    "AuditRule",
    "AwardRule",
    "EvaluationConfig",
    "EvaluationResult",
    "ForecastOptions",
    "Indicator",
    "IndicatorReport",
    "IndicatorSet",
    "RealizationDefinition",
    "RealizationResult",
    "SmoothingFit",
    "StatusRule",
    "Tenure",
    "assess",
    "audit_tenure",
    "classify",
    "evaluate_counties",
    "evaluate_indicators",
    "fit_holt",
    "fit_ses",
    "load_audit_rule",
    "load_definition",
    "load_evaluation_config",
    "load_indicator_set",
    "normalize",
    "realization_rates",
    "split_award",
]
