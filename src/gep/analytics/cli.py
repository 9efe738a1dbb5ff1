"""Commands ``indicators``, ``realization``, ``evaluate`` and ``audit`` (a typer app the main CLI mounts).

Each reads accounts (folders written by ``gep account``) and/or CSV/XLSX tables and writes CSV files
and one Excel workbook to ``--out``. Bad input stops with exit code 1 and messages naming the file,
column and value. Given ``--account`` folders, a command also records its result in each of them
(``uses/<command>.json``) and refreshes their ``report.html`` (section "uses"); ``--no-attach`` skips
that (see :mod:`gep.reports.uses`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from gep.i18n import check_lang
from gep.problems import GepInputError, Problem, error

app = typer.Typer(
    help="Put accounts to work: plan indicators, realization rate, county evaluation, departure audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")
LangOption = Annotated[str, typer.Option("--lang", help="zh (default) or en")]
OutOption = Annotated[Path, typer.Option("--out", help="output folder (CSV files and an Excel workbook)")]
AccountOption = Annotated[
    list[Path] | None,
    typer.Option("--account", help="account folder written by `gep account` (repeat for several years)"),
]
GepTableOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--gep-table", help="GEP table CSV/XLSX: region_code, year, category, value_yuan [, item, region_name, level]"
    ),
]
DeflatorOption = Annotated[Path | None, typer.Option("--deflator", help="price index CSV/XLSX: year, index")]
NoAttachOption = Annotated[
    bool,
    typer.Option("--no-attach", help="do not record the result in the --account folders (uses/) and their report.html"),
]


def _lang(lang: str) -> str:
    try:
        return check_lang(lang)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None


def _print(problems: list[Problem], lang: str, console: Console) -> None:
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(problem.render(lang), style=style, highlight=False, markup=False, soft_wrap=True)


def _run(lang: str, work: Callable[[], T]) -> T:
    """Run ``work``; on GepInputError print its problems and exit 1."""
    try:
        return work()
    except GepInputError as exc:
        _print(list(exc.problems), lang, Console(stderr=True))
        raise typer.Exit(1) from None


def _written(paths: list[Path], lang: str, console: Console) -> None:
    label = "输出" if lang == "zh" else "output"
    for path in paths:
        console.print(f"{label}: {path}", markup=False, highlight=False)


def _attach(
    accounts: list[Path] | None,
    command: str,
    tables: dict[str, pd.DataFrame],
    inputs: dict[str, Path | list[Path] | None],
    out: Path,
    paths: list[Path],
    lang: str,
    console: Console,
) -> None:
    """Record the result in each account folder (``uses/<command>.json``) and refresh its report."""
    if not accounts:
        return
    from gep.reports.uses import record_use, use_payload

    payload = use_payload(command, tables, inputs=inputs, output_dir=out, files=paths)
    written, problems = record_use(accounts, command, payload)
    _print(problems, lang, Console(stderr=True))
    label = "已记录到核算结果" if lang == "zh" else "recorded in account"
    for path in written:
        console.print(f"{label}: {path}", markup=False, highlight=False)


def _top_region(totals: pd.DataFrame) -> str:
    """The region with the largest GEP among non-zone regions (the top of a nested hierarchy)."""
    regions = totals[totals["level"] != "zone"] if "level" in totals.columns else totals
    latest = regions[regions["year"] == regions["year"].max()]
    return str(latest.sort_values("gep_yuan", ascending=False)["region_code"].iloc[0])


@app.command()
def indicators(
    out: OutOption,
    observed: Annotated[
        list[Path] | None,
        typer.Option(
            "--observed",
            help="observed values CSV/XLSX: indicator_id, year, value (long) or year + one column per indicator",
        ),
    ] = None,
    account: AccountOption = None,
    realized: Annotated[
        Path | None,
        typer.Option("--realized", help="realized-value table, to compute the realization rate from accounts"),
    ] = None,
    definition: Annotated[
        Path | None, typer.Option("--definition", help="realization definition TOML (default: packaged)")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="region code for account values (default: the account's top region)")
    ] = None,
    indicator_set: Annotated[
        Path | None, typer.Option("--set", help="indicator set TOML (default: Lishui 2025, 表3-1)")
    ] = None,
    targets: Annotated[
        Path | None, typer.Option("--targets", help="TOML overriding targets/bases: [indicator.<id>] target = ...")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="assess as of this year (default: latest observation)")
    ] = None,
    ses_alpha: Annotated[
        float | None, typer.Option("--ses-alpha", help="smoothing a in [0, 1] (default: least squares)")
    ] = None,
    holt_alpha: Annotated[
        float | None, typer.Option("--holt-alpha", help="Holt level α (default: least squares)")
    ] = None,
    holt_beta: Annotated[
        float | None, typer.Option("--holt-beta", help="Holt trend β (default: least squares)")
    ] = None,
    on_track_tolerance: Annotated[
        float | None, typer.Option("--on-track-tolerance", help="default 0 (share of planned change)")
    ] = None,
    at_risk_tolerance: Annotated[
        float | None, typer.Option("--at-risk-tolerance", help="default 0.10 (share of planned change)")
    ] = None,
    lang: LangOption = "zh",
    no_attach: NoAttachOption = False,
) -> None:
    """Plan indicators (表3-1): progress to the 2025 targets, status, SES and Holt forecasts."""
    from gep.analytics import indicators as ind
    from gep.analytics import io
    from gep.analytics.realization import load_definition, realization_rates

    lang = _lang(lang)
    console = Console()

    def work() -> tuple[ind.IndicatorReport, list[Problem]]:
        for name, value in (("--ses-alpha", ses_alpha), ("--holt-alpha", holt_alpha), ("--holt-beta", holt_beta)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise GepInputError([error("analytics_parameter_range", "command line", name, name=name, value=value)])
        try:
            iset = ind.with_status_rule(
                ind.load_indicator_set(indicator_set, targets), on_track_tolerance, at_risk_tolerance
            )
        except ValueError as exc:
            raise GepInputError(
                [error("analytics_config_invalid", "command line", "--on-track-tolerance", reason=str(exc))]
            ) from None
        tables = [io.read_observed(path, iset.ids()) for path in observed or []]
        from_accounts = None
        if account:
            items = io.gep_items_from(account)
            totals = io.gep_totals(items)
            code = region or _top_region(totals)
            if code not in set(totals["region_code"]):
                known = ", ".join(sorted(set(totals["region_code"]))[:10])
                raise GepInputError(
                    [error("analytics_region_unknown", "--region", "region_code", value=code, expected=known)]
                )
            rates = None
            if realized is not None:
                result = realization_rates(totals, io.read_realized(realized), load_definition(definition))
                rates = result.rates
            from_accounts = ind.values_from_accounts(totals, code, rates, source=", ".join(map(str, account)))
        if not tables and from_accounts is None:
            raise GepInputError(
                [error("analytics_no_input", "command line", None, expected="--observed FILE and/or --account DIR")]
            )
        data, problems = ind.combine_observed(tables, from_accounts)
        options = ind.ForecastOptions(ses_alpha, holt_alpha, holt_beta)
        report = ind.evaluate_indicators(iset, data, year=year, options=options)
        return report, problems + report.problems

    report, problems = _run(lang, work)
    _print(problems, lang, Console(stderr=True))
    paths = io.write_outputs(
        out, {"indicators": report.table, "forecasts": report.forecasts, "observed": report.observed}, "indicators"
    )
    table = Table("#", "indicator", "year", "value", "target", "status", "SES", "Holt")
    name = "name_zh" if lang == "zh" else "name_en"
    for _, row in report.table.iterrows():
        table.add_row(
            str(row["number"]),
            str(row[name]),
            "" if pd.isna(row["year"]) else str(int(row["year"])),
            _fmt(row["value"]),
            _target_text(row),
            str(row["status"]),
            _fmt(row["ses_forecast_target_year"]),
            _fmt(row["holt_forecast_target_year"]),
        )
    console.print(table)
    _written(paths, lang, console)
    if not no_attach:
        inputs = {
            "--observed": observed,
            "--account": account,
            "--realized": realized,
            "--definition": definition,
            "--set": indicator_set,
            "--targets": targets,
        }
        _attach(account, "indicators", {"indicators": report.table}, inputs, out, paths, lang, console)


def _target_text(row: pd.Series) -> str:
    if row["target"] is None or pd.isna(row["target"]):
        return str(row["target_text"])
    if row["target_upper"] is not None and not pd.isna(row["target_upper"]):
        return f"{row['target']:g}-{row['target_upper']:g}"
    return f"{row['target']:g}"


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):.4g}"  # type: ignore[arg-type]


@app.command()
def realization(
    out: OutOption,
    realized: Annotated[
        Path,
        typer.Option("--realized", help="realized values CSV/XLSX: region_code, year, component, value_yuan, source"),
    ],
    account: AccountOption = None,
    gep_table: GepTableOption = None,
    definition: Annotated[
        Path | None, typer.Option("--definition", help="what counts as realized (TOML; default: packaged)")
    ] = None,
    lang: LangOption = "zh",
    no_attach: NoAttachOption = False,
) -> None:
    """Realization rate (生态产品价值实现率) = realized value / GEP, overall and per category."""
    from gep.analytics import io
    from gep.analytics.realization import definition_table, load_definition, realization_rates

    lang = _lang(lang)
    console = Console()

    def work():
        if not account and not gep_table:
            raise GepInputError(
                [error("analytics_no_input", "command line", None, expected="--account DIR or --gep-table FILE")]
            )
        rule = load_definition(definition)
        totals = io.gep_totals(io.gep_items_from(account or [], gep_table or []))
        return rule, realization_rates(totals, io.read_realized(realized), rule)

    rule, result = _run(lang, work)
    _print(result.problems, lang, Console(stderr=True))
    paths = io.write_outputs(
        out,
        {
            "realization_rates": result.rates,
            "realization_components": result.components,
            "realization_definition": definition_table(rule),
        },
        "realization",
    )
    table = Table("region", "year", "category", "GEP (yuan)", "realized (yuan)", "rate")
    for _, row in result.rates.iterrows():
        table.add_row(
            str(row["region_code"]),
            str(row["year"]),
            str(row["category"]),
            _fmt(row["gep_yuan"]),
            _fmt(row["realized_yuan"]),
            f"{row['rate']:.2%}",
        )
    console.print(table)
    _written(paths, lang, console)
    if not no_attach:
        inputs = {"--realized": realized, "--account": account, "--gep-table": gep_table, "--definition": definition}
        _attach(account, "realization", {"realization_rates": result.rates}, inputs, out, paths, lang, console)


@app.command()
def evaluate(
    out: OutOption,
    values: Annotated[
        Path | None,
        typer.Option(
            "--values",
            help="county indicator values CSV/XLSX: region_code [, region_name, year] + indicator columns, or long",
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="evaluation TOML (default: the plan's 3 groups of 5)")
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", help="minmax, zscore or target (default: from the config)")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="use rows of this year of --values; award year (default: latest)")
    ] = None,
    award_pool: Annotated[
        float | None, typer.Option("--award-pool", help="award pool in yuan, split 40 % GEP level / 60 % GEP growth")
    ] = None,
    account: AccountOption = None,
    gep_table: GepTableOption = None,
    deflator: DeflatorOption = None,
    level: Annotated[
        str,
        typer.Option("--level", help="regions sharing the award: this level (rows without a level always take part)"),
    ] = "county",
    lang: LangOption = "zh",
    no_attach: NoAttachOption = False,
) -> None:
    """County evaluation (GEP综合考评): normalized, weighted scores and ranks; and the GEP award split."""
    from gep.analytics import evaluation as ev
    from gep.analytics import io

    lang = _lang(lang)
    console = Console()

    def work():
        if values is None and award_pool is None:
            raise GepInputError(
                [error("analytics_no_input", "command line", None, expected="--values FILE and/or --award-pool YUAN")]
            )
        cfg = ev.load_evaluation_config(config)
        sheets: dict[str, pd.DataFrame] = {}
        problems: list[Problem] = []
        if values is not None:
            frame, found = io.read_county_values(values, cfg.ids(), year)
            result = ev.evaluate_counties(frame, cfg, method, source=str(values))  # type: ignore[arg-type]
            sheets["evaluation_scores"] = result.scores
            sheets["evaluation_details"] = result.details
            problems += found + result.problems
        if award_pool is not None:
            if not account and not gep_table:
                raise GepInputError(
                    [
                        error(
                            "analytics_no_input",
                            "command line",
                            None,
                            expected="--account DIR (two years) or --gep-table FILE for --award-pool",
                        )
                    ]
                )
            totals = io.gep_totals(io.gep_items_from(account or [], gep_table or []))
            totals = totals[(totals["level"] == level) | (totals["level"] == "")]
            if totals.empty:
                source = ", ".join(map(str, [*(account or []), *(gep_table or [])]))
                raise GepInputError(
                    [error("analytics_no_gep", source, "level", region=f"level={level}", year=year or "*")]
                )
            award_year = year if year is not None else int(totals["year"].max())
            deflators = io.read_deflators(deflator) if deflator else None
            source = ", ".join(map(str, [*(account or []), *(gep_table or [])]))
            award, found = ev.split_award(totals, award_year, award_pool, cfg.award, deflators, source)
            sheets["award"] = award
            problems += found
        return sheets, problems

    sheets, problems = _run(lang, work)
    _print(problems, lang, Console(stderr=True))
    paths = io.write_outputs(out, sheets, "evaluation")
    if "evaluation_scores" in sheets:
        table = Table("rank", "region", "score")
        for _, row in sheets["evaluation_scores"].iterrows():
            table.add_row(str(row["rank"]), f"{row['region_code']} {row['region_name']}", f"{row['score']:.2f}")
        console.print(table)
    if "award" in sheets:
        table = Table("region", "GEP growth", "award (yuan)")
        for _, row in sheets["award"].iterrows():
            table.add_row(
                f"{row['region_code']} {row['region_name']}", f"{row['growth_rate']:.2%}", f"{row['award_yuan']:,.0f}"
            )
        console.print(table)
    _written(paths, lang, console)
    if not no_attach:
        inputs = {
            "--values": values,
            "--config": config,
            "--account": account,
            "--gep-table": gep_table,
            "--deflator": deflator,
        }
        _attach(account, "evaluate", sheets, inputs, out, paths, lang, console)


@app.command()
def audit(
    out: OutOption,
    region: Annotated[str | None, typer.Option("--region", help="region code of the tenure")] = None,
    start: Annotated[int | None, typer.Option("--start", help="first year of the tenure")] = None,
    end: Annotated[int | None, typer.Option("--end", help="last year of the tenure")] = None,
    official: Annotated[str, typer.Option("--official", help="name or id of the official (reported only)")] = "",
    tenures: Annotated[
        Path | None,
        typer.Option("--tenures", help="CSV/XLSX of tenures: region_code, start_year, end_year [, official]"),
    ] = None,
    account: AccountOption = None,
    gep_table: GepTableOption = None,
    deflator: DeflatorOption = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="flag a fall larger than this fraction (default 0.05)")
    ] = None,
    rule_file: Annotated[Path | None, typer.Option("--rule", help="audit TOML (default: packaged)")] = None,
    lang: LangOption = "zh",
    no_attach: NoAttachOption = False,
) -> None:
    """Departure audit: GEP change over a tenure at comparable prices, flag, and the items that drove it."""
    from gep.analytics import audit as au
    from gep.analytics import io

    lang = _lang(lang)
    console = Console()

    def work():
        if tenures is not None:
            periods = io.read_tenures(tenures)
        elif region is not None and start is not None and end is not None:
            periods = [au.Tenure(region, start, end, official)]
        else:
            raise GepInputError(
                [
                    error(
                        "analytics_no_input",
                        "command line",
                        None,
                        expected="--region, --start and --end, or --tenures FILE",
                    )
                ]
            )
        if not account and not gep_table:
            raise GepInputError(
                [
                    error(
                        "analytics_no_input",
                        "command line",
                        None,
                        expected="--account DIR (start and end years) or --gep-table FILE",
                    )
                ]
            )
        rule = au.load_audit_rule(rule_file)
        if threshold is not None:
            if not 0.0 <= threshold < 1.0:
                raise GepInputError(
                    [
                        error(
                            "analytics_parameter_range",
                            "command line",
                            "--threshold",
                            name="--threshold",
                            value=threshold,
                        )
                    ]
                )
            rule = au.AuditRule(threshold, "command line")
        items = io.gep_items_from(account or [], gep_table or [])
        deflators = io.read_deflators(deflator) if deflator else None
        source = ", ".join(map(str, [*(account or []), *(gep_table or [])]))
        results = [au.audit_tenure(items, t, rule, deflators, source) for t in periods]
        return results

    results = _run(lang, work)
    unique: dict[str, Problem] = {}
    for result in results:
        for problem in result.problems:
            unique.setdefault(problem.render("en"), problem)
    _print(list(unique.values()), lang, Console(stderr=True))
    summary = pd.DataFrame([r.summary for r in results])
    items_table = pd.concat(
        [r.items.assign(start_year=r.summary["start_year"], end_year=r.summary["end_year"]) for r in results],
        ignore_index=True,
    )
    paths = io.write_outputs(out, {"audit_summary": summary, "audit_items": items_table}, "audit")
    table = Table("region", "tenure", "GEP change (comparable)", "flagged", "main driver")
    for r in results:
        s = r.summary
        table.add_row(
            s["region_code"],
            f"{s['start_year']}-{s['end_year']}",
            f"{s['change_rate']:.2%}",
            "YES" if s["flagged"] else "no",
            s["main_driver"],
        )
    console.print(table)
    _written(paths, lang, console)
    if not no_attach:
        inputs = {
            "--tenures": tenures,
            "--account": account,
            "--gep-table": gep_table,
            "--deflator": deflator,
            "--rule": rule_file,
        }
        tables = {"audit_summary": summary, "audit_items": items_table}
        _attach(account, "audit", tables, inputs, out, paths, lang, console)
