"""Commands ``procure``, ``compensate`` and ``impact`` (mounted by the lead as ``gep procure ...``).

Each writes its tables as CSV (UTF-8 with BOM) and one Excel workbook into ``--out``, prints a short
summary, and exits 1 with every problem listed (file, field, value, expected) on bad input.
``procure --account DIR`` and ``impact`` (with ``--account DIR``, or when the spec's output folder
holds an account) also record their result in the account folder (``uses/<command>.json``) and
refresh its ``report.html``; ``--no-attach`` skips that (see :mod:`gep.reports.uses`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gep.i18n import Text, check_lang
from gep.problems import GepInputError, Problem, error

app = typer.Typer(
    help="Uses of the account: procurement schedules, eco-compensation, project impact.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LangOption = Annotated[str, typer.Option("--lang", help="zh (default) or en")]
OutOption = Annotated[Path, typer.Option("--out", help="output folder (CSV + Excel)")]
NoAttachOption = Annotated[
    bool,
    typer.Option("--no-attach", help="do not record the result in the account folder (uses/) and its report.html"),
]


def _lang(lang: str) -> str:
    try:
        return check_lang(lang)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None


def _fail(problems: list[Problem] | tuple[Problem, ...], lang: str, console: Console) -> None:
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(problem.render(lang), style=style, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(1)


def _warn(problems, lang: str, console: Console) -> None:
    for problem in problems:
        console.print(problem.render(lang), style="yellow", highlight=False, markup=False, soft_wrap=True)


def _written(paths: list[Path], lang: str, console: Console) -> None:
    label = "输出" if lang == "zh" else "output"
    for path in paths:
        console.print(f"{label}: {path}", markup=False, highlight=False)


def _attach(
    account: Path,
    command: str,
    tables: dict,
    inputs: dict,
    out: Path,
    paths: list[Path],
    lang: str,
    console: Console,
    extra: dict | None = None,
) -> None:
    """Record the result in the account folder (``uses/<command>.json``) and refresh its report."""
    from gep.reports.uses import record_use, use_payload

    payload = use_payload(command, tables, inputs=inputs, output_dir=out, files=paths, extra=extra)
    written, problems = record_use([account], command, payload)
    _warn(problems, lang, console)
    label = "已记录到核算结果" if lang == "zh" else "recorded in account"
    for path in written:
        console.print(f"{label}: {path}", markup=False, highlight=False)


def _pairs(values: list[str], option: str) -> tuple[dict[str, float], list[Problem]]:
    """Parse repeated ``NAME=NUMBER`` options."""
    out: dict[str, float] = {}
    problems = []
    for text in values:
        name, sep, number = text.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(number)
        except ValueError:
            problems.append(error("realization_bad_pair_option", "command line", option, value=text, option=option))
    return out, problems


@app.command()
def procure(
    scheme: Annotated[Path, typer.Argument(help="scheme file (TOML), e.g. gep/realization/data/yunhe_2020.toml")],
    out: OutOption = Path("procurement-output"),
    account: Annotated[
        Path | None, typer.Option("--account", help="account folder: basis figures with items are summed from it")
    ] = None,
    indicators: Annotated[
        Path | None, typer.Option("--indicators", help="observed indicators (CSV/XLSX: indicator, year, value)")
    ] = None,
    figure: Annotated[
        list[str] | None, typer.Option("--figure", help="set a basis figure: ID=YUAN (repeatable)")
    ] = None,
    first_year: Annotated[int | None, typer.Option("--first-year", help="year of the first tranche")] = None,
    lang: LangOption = "zh",
    no_attach: NoAttachOption = False,
) -> None:
    """Payment schedule of a GEP-based procurement or purchase scheme (云和 / 大洋 style)."""
    from gep.realization.io import write_tables
    from gep.realization.procurement import basis_from_account, load_scheme, payment_schedule, read_indicators
    from gep.realization.procurement import with_figures as set_figures

    lang = _lang(lang)
    console = Console()
    try:
        parsed = load_scheme(scheme)
        warnings: list[Problem] = []
        if account is not None:
            from gep.account import Account

            try:
                loaded = Account.load(account)
            except (FileNotFoundError, ValueError, KeyError) as exc:
                raise GepInputError(
                    [
                        error(
                            "file_unreadable",
                            str(account),
                            what=Text("核算结果目录", "account folder"),
                            reason=str(exc),
                        )
                    ]
                ) from None
            parsed, found = basis_from_account(parsed, loaded, str(account))
            if any(p.severity == "error" for p in found):
                raise GepInputError(found)
            warnings += found
        values, problems = _pairs(figure or [], "--figure")
        if problems:
            raise GepInputError(problems)
        if values:
            try:
                parsed = set_figures(parsed, values)
            except KeyError as exc:
                raise GepInputError(
                    [error("realization_field", str(scheme), "--figure", reason=str(exc.args[0]), value=values)]
                ) from None
        observed = read_indicators(indicators) if indicators is not None else None
        result = payment_schedule(parsed, observed, first_year=first_year, source=str(scheme))
    except GepInputError as exc:
        _fail(exc.problems, lang, console)
        return
    _warn([*warnings, *result.problems], lang, console)
    paths = write_tables(
        out, "procurement", {"procurement_schedule": result.schedule, "procurement_basis": result.basis}
    )
    schedule = result.schedule
    pending = float(schedule.loc[schedule["status"] == "pending", "amount_yuan"].sum())
    payable = float(schedule["amount_yuan"].sum()) - pending
    if lang == "zh":
        text = f"合同总额 {result.total_yuan:,.2f} 元；应付 {payable:,.2f} 元；待考核 {pending:,.2f} 元"
    else:
        text = f"contract total {result.total_yuan:,.2f} yuan; payable {payable:,.2f}; pending {pending:,.2f}"
    console.print(text, highlight=False, markup=False)
    _written(paths, lang, console)
    if account is not None and not no_attach:
        tables = {"procurement_schedule": result.schedule, "procurement_basis": result.basis}
        inputs = {"scheme": scheme, "--account": account, "--indicators": indicators}
        extra = {"total_yuan": result.total_yuan}
        _attach(account, "procure", tables, inputs, out, paths, lang, console, extra)


@app.command()
def compensate(
    agreement: Annotated[Path, typer.Argument(help="compensation agreement (TOML)")],
    monitoring: Annotated[
        Path, typer.Argument(help="monitoring table (CSV/XLSX: section, year or date, pollutant, concentration)")
    ],
    out: OutOption = Path("compensation-output"),
    year: Annotated[list[int] | None, typer.Option("--year", help="assess only this year (repeatable)")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="sheet of an XLSX monitoring table")] = None,
    lang: LangOption = "zh",
) -> None:
    """Upstream-downstream eco-compensation from a cross-section (交接断面) index."""
    from gep.realization.compensation import assess, load_agreement, read_monitoring
    from gep.realization.io import write_tables

    lang = _lang(lang)
    console = Console()
    try:
        parsed = load_agreement(agreement)
        data = read_monitoring(monitoring, sheet)
        result = assess(parsed, data, year or None, source=str(monitoring))
    except GepInputError as exc:
        _fail(exc.problems, lang, console)
        return
    paths = write_tables(out, "compensation", {"compensation": result.results, "compensation_terms": result.terms})
    for row in result.results.itertuples():
        head = f"{row.section} {row.year}: P={row.index:.4g} R={row.ratio:.4g} → "
        if lang == "zh":
            text = f"{row.payer} 向 {row.payee} 支付 {row.amount_yuan:,.0f} 元"
        else:
            text = f"{row.payer} pays {row.payee} {row.amount_yuan:,.0f} yuan"
        console.print(head + text, markup=False, highlight=False)
    _written(paths, lang, console)


@app.command()
def impact(
    spec: Annotated[Path, typer.Argument(help="account spec (TOML)")],
    footprint: Annotated[Path, typer.Option("--footprint", help="project footprint polygons (any vector file)")],
    out: OutOption = Path("impact-output"),
    to_class: Annotated[
        int | None, typer.Option("--to-class", help="new land-cover class inside the footprint")
    ] = None,
    class_field: Annotated[
        str | None, typer.Option("--class-field", help="footprint attribute holding each feature's new class")
    ] = None,
    from_class: Annotated[
        list[int] | None, typer.Option("--from-class", help="change only pixels of this class (repeatable)")
    ] = None,
    layer: Annotated[str | None, typer.Option("--layer", help="layer of a multi-layer footprint file")] = None,
    ratio: Annotated[float, typer.Option("--ratio", help="compensation ratio (yuan per yuan of annual loss)")] = 1.0,
    years: Annotated[int, typer.Option("--years", help="years the loss lasts")] = 1,
    discount_rate: Annotated[float, typer.Option("--discount-rate", help="annual discount rate, 0.03 = 3 %")] = 0.0,
    gross: Annotated[bool, typer.Option("--gross", help="count only losses: gains do not offset them")] = False,
    all_touched: Annotated[bool, typer.Option("--all-touched", help="burn every pixel the footprint touches")] = False,
    set_layer: Annotated[
        list[str] | None,
        typer.Option("--set-layer", help="set a layer on the changed pixels: NAME=VALUE, e.g. nep=0 (repeatable)"),
    ] = None,
    lang: LangOption = "zh",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="hide progress bars")] = False,
    account: Annotated[
        Path | None,
        typer.Option("--account", help="account folder to record the result in (default: the spec's output folder)"),
    ] = None,
    no_attach: NoAttachOption = False,
) -> None:
    """GEP lost by a land-cover change in a project footprint (生态占补平衡) and the compensation."""
    from gep.progress import progress_bar
    from gep.realization.impact import CompensationTerms, Scenario, impact_from_files
    from gep.realization.io import write_tables

    lang = _lang(lang)
    console = Console()
    layer_values, problems = _pairs(set_layer or [], "--set-layer")
    if problems:
        _fail(problems, lang, console)
    scenario = Scenario(to_class, class_field, tuple(from_class or ()), all_touched, layer_values)
    terms = CompensationTerms(ratio, years, discount_rate, net_gains=not gross)
    try:
        with progress_bar("impact", quiet) as progress:
            result, warnings = impact_from_files(spec, footprint, scenario, terms, layer=layer, progress=progress)
    except GepInputError as exc:
        _fail(exc.problems, lang, console)
        return
    _warn([*warnings, *result.problems], lang, console)
    paths = write_tables(
        out,
        "impact",
        {
            "impact_items": result.items,
            "impact_compensation": result.compensation,
            "impact_schedule": result.schedule,
        },
    )
    summary_path = Path(out) / "impact_summary.json"
    summary_path.write_text(json.dumps(result.summary, ensure_ascii=False, indent=2), encoding="utf-8")
    s = result.summary
    if lang == "zh":
        text = (
            f"变化像元 {s['changed_pixels']} 个；GEP 年损失 {s['value_loss_yuan']:,.2f} 元；"
            f"年补偿 {s['annual_compensation_yuan']:,.2f} 元；{terms.years} 年现值 {s['present_value_yuan']:,.2f} 元"
        )
    else:
        text = (
            f"{s['changed_pixels']} pixels changed; annual GEP loss {s['value_loss_yuan']:,.2f} yuan; "
            f"annual compensation {s['annual_compensation_yuan']:,.2f} yuan; "
            f"present value over {terms.years} years {s['present_value_yuan']:,.2f} yuan"
        )
    console.print(text, markup=False, highlight=False)
    _written([*paths, summary_path], lang, console)
    if no_attach:
        return
    from gep.reports.uses import spec_account_dir

    target = account if account is not None else spec_account_dir(spec)
    if target is not None:
        tables = {"impact_compensation": result.compensation, "impact_schedule": result.schedule}
        inputs = {"spec": spec, "--footprint": footprint, "--account": account}
        extra = {"summary": result.summary}
        _attach(target, "impact", tables, inputs, out, [*paths, summary_path], lang, console, extra)
