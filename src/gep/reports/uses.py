"""Uses of an account (生态产品价值实现与应用): analysis results recorded in the account folder.

When an analysis command (``gep indicators``, ``realization``, ``evaluate``, ``audit``, ``procure``,
``impact``) works from an account folder, it records its result there as ``uses/<command>.json``
and the account's ``report.html`` is re-rendered with a section ``id="uses"`` showing every recorded
use. Nothing else in the folder is touched: ``account.csv``, ``summary.json``, the maps and the
other tables stay byte-identical. A later run of the same command replaces its file.

A use file (``format = "gep-use/1"``) holds: ``command``; ``title`` ({zh, en}); ``run_time`` (UTC,
ISO 8601); ``gep_version``; ``inputs`` (option, absolute path, SHA-256 of the file, or of
``account.csv`` for an account folder); ``output`` (folder and file names written); ``headline``
(figures with zh/en labels, a value and a display format); and ``tables`` (name, zh/en title,
display columns and every row of the result table as a record). Money is yuan; rates and shares
are fractions (0.055 = 5.5 %) and shown as percentages.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gep import __version__
from gep.problems import Problem, warning

USES_DIR = "uses"
FORMAT = "gep-use/1"
FORMATS = ("text", "int", "number", "yuan", "percent", "bool", "status", "category", "item", "unit")
"""Display formats of headline figures and table columns (see :func:`gep.reports.html.format_use_value`)."""
_COMMAND = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Column:
    """A displayed column: ``key`` in the records (``{lang}`` in it is replaced by the report
    language, e.g. ``name_{lang}``), its zh/en header and display format."""

    key: str
    zh: str
    en: str
    fmt: str = "text"


@dataclass(frozen=True)
class TableView:
    """How a result table is recorded and shown. ``total`` columns are summed in a total row;
    columns whose name starts with ``extra_prefix`` are shown too (as numbers, header = name)."""

    name: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    total: tuple[str, ...] = ()
    extra_prefix: str | None = None


@dataclass(frozen=True)
class UseView:
    command: str
    zh: str
    en: str
    tables: tuple[TableView, ...]


def _c(key: str, zh: str, en: str, fmt: str = "text") -> Column:
    return Column(key, zh, en, fmt)


REGION = (_c("region_code", "区域代码", "Region code"), _c("region_name", "区域名称", "Region"))

VIEWS: dict[str, UseView] = {
    "indicators": UseView(
        "indicators",
        "规划指标进展与预测",
        "Plan indicators: progress and forecasts",
        (
            TableView(
                "indicators",
                "指标进展",
                "Indicator progress",
                (
                    _c("number", "序号", "No.", "int"),
                    _c("name_{lang}", "指标", "Indicator"),
                    _c("unit", "单位", "Unit"),
                    _c("target_text", "目标值", "Target"),
                    _c("year", "最新年份", "Latest year", "int"),
                    _c("value", "最新值", "Latest value", "number"),
                    _c("progress", "目标进度（%）", "Progress (%)", "percent"),
                    _c("expected_progress", "计划进度（%）", "Expected progress (%)", "percent"),
                    _c("status", "状态", "Status", "status"),
                    _c(
                        "ses_forecast_target_year", "目标年预测（指数平滑）", "Forecast for target year (SES)", "number"
                    ),
                    _c("holt_forecast_target_year", "目标年预测（Holt）", "Forecast for target year (Holt)", "number"),
                ),
            ),
        ),
    ),
    "realization": UseView(
        "realization",
        "生态产品价值实现率",
        "Realization rate of ecological product value",
        (
            TableView(
                "realization_rates",
                "分类别实现率",
                "Rates by category",
                (
                    *REGION,
                    _c("year", "年份", "Year", "int"),
                    _c("category", "类别", "Category", "category"),
                    _c("gep_yuan", "GEP（元）", "GEP (yuan)", "yuan"),
                    _c("realized_yuan", "已实现价值（元）", "Realized value (yuan)", "yuan"),
                    _c("rate", "实现率（%）", "Realization rate (%)", "percent"),
                    _c("components", "计入的实现途径", "Components counted"),
                ),
            ),
        ),
    ),
    "evaluate": UseView(
        "evaluate",
        "县（市、区）GEP 综合考评",
        "County evaluation",
        (
            TableView(
                "evaluation_scores",
                "得分与排名",
                "Scores and ranking",
                (
                    _c("rank", "排名", "Rank", "int"),
                    *REGION,
                    _c("score", "综合得分", "Score", "number"),
                    _c("normalization", "标准化方法", "Normalization"),
                ),
                extra_prefix="score_",
            ),
            TableView(
                "award",
                "GEP 奖励分配",
                "GEP award split",
                (
                    *REGION,
                    _c("year", "年份", "Year", "int"),
                    _c("gep_previous_yuan", "上年 GEP（元）", "Previous GEP (yuan)", "yuan"),
                    _c("gep_yuan", "GEP（元）", "GEP (yuan)", "yuan"),
                    _c("growth_rate", "GEP 增长率（%）", "GEP growth (%)", "percent"),
                    _c("level_award_yuan", "总量奖励（元）", "Level award (yuan)", "yuan"),
                    _c("growth_award_yuan", "增量奖励（元）", "Growth award (yuan)", "yuan"),
                    _c("award_yuan", "奖励合计（元）", "Award (yuan)", "yuan"),
                ),
                total=("level_award_yuan", "growth_award_yuan", "award_yuan"),
            ),
        ),
    ),
    "audit": UseView(
        "audit",
        "领导干部自然资源资产离任审计：GEP 变化",
        "Departure audit: GEP change over the tenure",
        (
            TableView(
                "audit_summary",
                "任期 GEP 变化与预警",
                "GEP change and flag",
                (
                    *REGION,
                    _c("official", "领导干部", "Official"),
                    _c("start_year", "起始年", "Start", "int"),
                    _c("end_year", "结束年", "End", "int"),
                    _c("gep_start_yuan", "起始 GEP（元）", "GEP at start (yuan)", "yuan"),
                    _c("gep_end_comparable_yuan", "结束 GEP（可比价，元）", "GEP at end, comparable (yuan)", "yuan"),
                    _c("change_rate", "变化率（%）", "Change (%)", "percent"),
                    _c("threshold", "预警阈值（%）", "Threshold (%)", "percent"),
                    _c("flagged", "预警", "Flagged", "bool"),
                    _c("main_driver", "主要影响指标", "Main driver", "item"),
                ),
            ),
            TableView(
                "audit_items",
                "分指标变化（驱动因素）",
                "Change by item (drivers)",
                (
                    _c("region_code", "区域代码", "Region code"),
                    _c("rank", "排序", "Rank", "int"),
                    _c("item", "指标", "Item", "item"),
                    _c("start_yuan", "起始（元）", "Start (yuan)", "yuan"),
                    _c("end_comparable_yuan", "结束（可比价，元）", "End, comparable (yuan)", "yuan"),
                    _c("change_yuan", "变化（元）", "Change (yuan)", "yuan"),
                    _c("change_rate", "变化率（%）", "Change (%)", "percent"),
                    _c("share_of_change", "占总变化（%）", "Share of change (%)", "percent"),
                ),
            ),
        ),
    ),
    "procure": UseView(
        "procure",
        "生态产品政府采购 / 购买：付款计划",
        "Procurement of ecological products: payment schedule",
        (
            TableView(
                "procurement_schedule",
                "付款计划",
                "Payment schedule",
                (
                    _c("scheme_id", "方案", "Scheme"),
                    _c("year", "年份", "Year", "int"),
                    _c("tranche", "批次", "Tranche", "int"),
                    _c("share", "比例（%）", "Share (%)", "percent"),
                    _c("scheduled_yuan", "计划金额（元）", "Scheduled (yuan)", "yuan"),
                    _c("amount_yuan", "应付金额（元）", "Amount (yuan)", "yuan"),
                    _c("condition", "考核条件", "Condition"),
                    _c("status", "状态", "Status", "status"),
                ),
                total=("scheduled_yuan", "amount_yuan"),
            ),
            TableView(
                "procurement_basis",
                "采购基数",
                "Basis",
                (
                    _c("id", "基数", "Basis"),
                    _c("label_{lang}", "说明", "Description"),
                    _c("year", "年份", "Year", "int"),
                    _c("value_yuan", "GEP 基数（元）", "GEP basis (yuan)", "yuan"),
                    _c("share", "比例（%）", "Share (%)", "percent"),
                    _c("amount_yuan", "金额（元）", "Amount (yuan)", "yuan"),
                ),
            ),
        ),
    ),
    "impact": UseView(
        "impact",
        "建设项目生态影响（生态占补平衡）",
        "Project impact on GEP and compensation",
        (
            TableView(
                "impact_compensation",
                "分指标 GEP 损失与补偿",
                "GEP loss by item and compensation",
                (
                    _c("item_name_{lang}", "指标", "Item"),
                    _c("physical_loss", "功能量损失", "Physical loss", "number"),
                    _c("physical_unit", "单位", "Unit", "unit"),
                    _c("footprint_loss_yuan", "占地范围内损失（元/年）", "Loss in footprint (yuan/a)", "yuan"),
                    _c("offsite_loss_yuan", "范围外损失（元/年）", "Loss off site (yuan/a)", "yuan"),
                    _c("value_loss_yuan", "价值损失（元/年）", "Value loss (yuan/a)", "yuan"),
                    _c("counted_loss_yuan", "计入补偿的损失（元/年）", "Loss counted (yuan/a)", "yuan"),
                    _c("annual_compensation_yuan", "年补偿（元）", "Annual compensation (yuan)", "yuan"),
                ),
            ),
            TableView(
                "impact_schedule",
                "补偿年度计划",
                "Compensation schedule",
                (
                    _c("year", "年", "Year", "int"),
                    _c("annual_compensation_yuan", "年补偿（元）", "Annual compensation (yuan)", "yuan"),
                    _c("discount_factor", "折现系数", "Discount factor", "number"),
                    _c("present_value_yuan", "现值（元）", "Present value (yuan)", "yuan"),
                ),
                total=("annual_compensation_yuan", "present_value_yuan"),
            ),
        ),
    ),
}


# --- building a use record ---------------------------------------------------------------------------------------


def _figure(key: str, zh: str, en: str, value: object, fmt: str) -> dict[str, Any]:
    return {"key": key, "zh": zh, "en": en, "value": _plain(value), "format": fmt}


def _head_indicators(tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    table = tables.get("indicators")
    if table is None or "status" not in table:
        return []
    names = {
        "on_track": ("按计划推进的指标", "Indicators on track"),
        "at_risk": ("存在风险的指标", "Indicators at risk"),
        "off_track": ("滞后的指标", "Indicators off track"),
        "no_data": ("无数据的指标", "Indicators without data"),
    }
    counts = table["status"].value_counts()
    return [_figure(f"n_{s}", zh, en, int(counts.get(s, 0)), "int") for s, (zh, en) in names.items()]


def _head_realization(tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    rates = tables.get("realization_rates")
    if rates is None or rates.empty:
        return []
    totals = rates[rates["category"] == "total"].head(4)
    return [
        _figure(
            f"rate_{row['region_code']}_{row['year']}",
            f"{row['region_name']} {row['year']} 年实现率",
            f"Realization rate, {row['region_name']} {row['year']}",
            row["rate"],
            "percent",
        )
        for _, row in totals.iterrows()
    ]


def _head_evaluate(tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    scores = tables.get("evaluation_scores")
    if scores is not None and not scores.empty:
        first = scores[scores["rank"] == scores["rank"].min()]
        names = "、".join(f"{r['region_code']} {r['region_name']}" for _, r in first.iterrows())
        out.append(_figure("first", "排名第一", "Ranked first", names, "text"))
    award = tables.get("award")
    if award is not None and not award.empty:
        out.append(
            _figure("award_pool", "奖励总额（元）", "Award pool (yuan)", float(award["award_yuan"].sum()), "yuan")
        )
    return out


def _head_audit(tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    summary = tables.get("audit_summary")
    if summary is None or summary.empty:
        return []
    out = [_figure("n_flagged", "触发预警的任期", "Tenures flagged", int(summary["flagged"].astype(bool).sum()), "int")]
    for _, row in summary.head(3).iterrows():
        tenure = f"{row['region_name']} {row['start_year']}-{row['end_year']}"
        out.append(
            _figure(
                f"change_{row['region_code']}_{row['start_year']}_{row['end_year']}",
                f"{tenure} GEP 变化率",
                f"GEP change, {tenure}",
                row["change_rate"],
                "percent",
            )
        )
    return out


def _head_procure(tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    schedule = tables.get("procurement_schedule")
    if schedule is None:
        return []
    pending = float(schedule.loc[schedule["status"] == "pending", "amount_yuan"].sum())
    payable = float(schedule["amount_yuan"].sum()) - pending
    total = extra.get("total_yuan", float(schedule["scheduled_yuan"].sum()))
    return [
        _figure("total_yuan", "合同总额（元）", "Contract total (yuan)", total, "yuan"),
        _figure("payable_yuan", "应付（元）", "Payable (yuan)", payable, "yuan"),
        _figure("pending_yuan", "待考核（元）", "Pending (yuan)", pending, "yuan"),
    ]


def _head_impact(tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    s = extra.get("summary") or {}
    names = {
        "changed_pixels": ("变化像元数", "Pixels changed", "int"),
        "value_loss_yuan": ("GEP 年损失（元）", "Annual GEP loss (yuan)", "yuan"),
        "annual_compensation_yuan": ("年补偿（元）", "Annual compensation (yuan)", "yuan"),
        "present_value_yuan": ("补偿现值（元）", "Present value of compensation (yuan)", "yuan"),
    }
    return [_figure(k, zh, en, s[k], fmt) for k, (zh, en, fmt) in names.items() if k in s]


HEADLINES: dict[str, Callable[[Mapping[str, pd.DataFrame], Mapping[str, Any]], list[dict[str, Any]]]] = {
    "indicators": _head_indicators,
    "realization": _head_realization,
    "evaluate": _head_evaluate,
    "audit": _head_audit,
    "procure": _head_procure,
    "impact": _head_impact,
}


def use_payload(
    command: str,
    tables: Mapping[str, pd.DataFrame],
    *,
    inputs: Mapping[str, str | Path | Sequence[str | Path] | None] | None = None,
    output_dir: str | Path | None = None,
    files: Sequence[str | Path] = (),
    extra: Mapping[str, Any] | None = None,
    run_time: datetime | None = None,
) -> dict[str, Any]:
    """The use record of ``command`` (one of :data:`VIEWS`) from its result ``tables`` (name ->
    DataFrame, as written to CSV). ``inputs`` maps an option (``--realized``) to a path or paths
    (None skipped); ``files`` are the outputs written into ``output_dir``; ``extra`` carries figures
    not in the tables (``total_yuan`` of a procurement, ``summary`` of an impact)."""
    view = VIEWS.get(command)
    if view is None:
        raise ValueError(f"unknown use {command!r}; expected one of {', '.join(VIEWS)}")
    extra = dict(extra or {})
    recorded = []
    for table in view.tables:
        frame = tables.get(table.name)
        if frame is None:
            continue
        columns = [c for c in table.columns if _has_column(frame, c.key)]
        if table.extra_prefix:
            known = {c.key for c in columns}
            columns += [
                Column(str(k), str(k), str(k), "number")
                for k in frame.columns
                if str(k).startswith(table.extra_prefix) and str(k) not in known
            ]
        recorded.append(
            {
                "name": table.name,
                "zh": table.zh,
                "en": table.en,
                "columns": [{"key": c.key, "zh": c.zh, "en": c.en, "format": c.fmt} for c in columns],
                "total": [k for k in table.total if k in frame.columns],
                "records": records(frame),
            }
        )
    when = (run_time or datetime.now(UTC)).astimezone(UTC)
    return {
        "format": FORMAT,
        "command": command,
        "title": {"zh": view.zh, "en": view.en},
        "run_time": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "gep_version": __version__,
        "inputs": input_records(inputs or {}),
        "output": {
            "folder": str(Path(output_dir).resolve()) if output_dir is not None else None,
            "files": [Path(f).name for f in files],
        },
        "headline": HEADLINES[command](tables, extra),
        "tables": recorded,
    }


def _has_column(frame: pd.DataFrame, key: str) -> bool:
    if "{lang}" in key:
        return all(key.format(lang=lang) in frame.columns for lang in ("zh", "en"))
    return key in frame.columns


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts: numpy scalars as Python numbers, NaN/NA/inf as None."""
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: object) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, TypeError):
            value = item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def input_records(inputs: Mapping[str, str | Path | Sequence[str | Path] | None]) -> list[dict[str, Any]]:
    """One record per input path: option, absolute path, SHA-256 (of ``account.csv`` for an account
    folder, with ``file`` naming it; None for a path that is not there)."""
    out = []
    for option, value in inputs.items():
        if value is None:
            continue
        paths = [value] if isinstance(value, str | Path) else list(value)
        for raw in paths:
            path = Path(raw).resolve()
            entry: dict[str, Any] = {"option": option, "path": str(path), "sha256": None}
            if path.is_file():
                entry["sha256"] = sha256(path)
            elif (path / "account.csv").is_file():
                entry["sha256"] = sha256(path / "account.csv")
                entry["file"] = "account.csv"
            out.append(entry)
    return out


# --- the account folder ------------------------------------------------------------------------------------------


def is_account_dir(path: str | Path) -> bool:
    """Whether ``path`` is an account folder written by gep (``account.csv`` and ``summary.json``)."""
    path = Path(path)
    return (path / "account.csv").is_file() and (path / "summary.json").is_file()


def spec_account_dir(spec_path: str | Path) -> Path | None:
    """The output folder of the account spec ``spec_path`` if it holds an account, else None."""
    from gep.spec import load_spec

    spec, _ = load_spec(spec_path)
    if spec is None:
        return None
    folder = spec.output_dir
    return folder if is_account_dir(folder) else None


def _atomic_write(path: Path, text: str) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def attach_use(account_dir: str | Path, command: str, payload: Mapping[str, Any], *, refresh: bool = True) -> Path:
    """Record ``payload`` (see :func:`use_payload`) as ``<account_dir>/uses/<command>.json``,
    atomically, replacing an earlier record of the same command; then, if the account folder has a
    ``report.html`` (and ``refresh``), re-render it in its own language so it shows the section
    "uses". Only
    ``uses/`` and ``report.html`` are written. Returns the JSON path. Raises ValueError for a
    command name that is not a plain identifier or a folder that is not an account, OSError when
    the folder cannot be written."""
    if not _COMMAND.match(command):
        raise ValueError(f"use name {command!r} is not a plain lower-case identifier")
    folder = Path(account_dir)
    if not is_account_dir(folder):
        raise ValueError(f"{folder}: not an account folder (no account.csv and summary.json)")
    text = json.dumps({**payload, "command": command}, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    uses = folder / USES_DIR
    uses.mkdir(exist_ok=True)
    path = uses / f"{command}.json"
    _atomic_write(path, text)
    if refresh:
        refresh_report(folder)
    return path


def refresh_report(account_dir: str | Path) -> Path | None:
    """Re-render ``report.html`` of the account folder in the language it was written in (its
    ``<html lang>``); returns its path, or None when the folder has no report."""
    from gep.account import Account
    from gep.reports.html import render_html

    report = Path(account_dir) / "report.html"
    if not report.is_file():
        return None
    html = render_html(Account.load(account_dir), report_lang(report), previews=True)
    _atomic_write(report, html)
    return report


def report_lang(report: Path) -> str:
    """The language of a written report: "en" if its ``<html lang>`` is English, else "zh"."""
    with report.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(400)
    found = re.search(r'<html lang="([^"]+)"', head)
    return "en" if found and found.group(1).lower().startswith("en") else "zh"


def record_use(
    account_dirs: Sequence[str | Path], command: str, payload: Mapping[str, Any]
) -> tuple[list[Path], list[Problem]]:
    """:func:`attach_use` for each account folder (duplicates once). A folder that cannot take the
    record, or whose report cannot be re-rendered, yields a warning instead of stopping: the
    command's own outputs are already written."""
    written: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for raw in account_dirs:
        folder = Path(raw).resolve()
        if folder in seen:
            continue
        seen.add(folder)
        try:
            written.append(attach_use(folder, command, payload, refresh=False))
        except (OSError, ValueError) as exc:
            problems.append(warning("uses_attach_failed", str(raw), None, reason=str(exc)))
            continue
        try:
            refresh_report(folder)
        except (OSError, ValueError, KeyError) as exc:
            problems.append(warning("uses_report_failed", str(folder / "report.html"), None, reason=str(exc)))
    return written, problems


def read_uses(account_dir: str | Path) -> list[dict[str, Any]]:
    """The recorded uses of an account folder, sorted by file name. A file that cannot be read
    gives ``{"command": <name>, "error": <reason>}``."""
    folder = Path(account_dir) / USES_DIR
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json"), key=lambda p: p.name):
        try:
            use = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(use, dict) or not isinstance(use.get("tables", []), list):
                raise ValueError(f"expected a {FORMAT} object")
        except (OSError, ValueError) as exc:
            out.append({"command": path.stem, "error": str(exc)})
            continue
        use.setdefault("command", path.stem)
        out.append(use)
    return out
