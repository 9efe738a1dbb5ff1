"""Command-line interface: ``gep catalog``, ``gep validate``, ``gep account``, ``gep demo``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from gep.i18n import check_lang
from gep.problems import Problem, has_errors

app = typer.Typer(
    help="gep: Gross Ecosystem Product (GEP, 生态系统生产总值) accounting.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LangOption = Annotated[str, typer.Option("--lang", help="zh (default) or en")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="hide progress bars")]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="dask.distributed scheduler address tcp://host:port (default: the spec's; none = local)"
    ),
]


def _lang(lang: str) -> str:
    try:
        return check_lang(lang)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None


@app.command()
def catalog(
    lang: LangOption = "zh",
    profile: Annotated[str | None, typer.Option("--profile", help="only the items of this method profile")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Print the ecological product catalogue (物质产品 / 调节服务 / 文化服务)."""
    from gep.catalog.render import render_catalog

    try:
        text = render_catalog(lang=_lang(lang), profile=profile, fmt=fmt)
    except ValueError as exc:
        typer.echo(f"gep catalog: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(text)


def print_problems(problems: list[Problem], lang: str, console: Console) -> None:
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(problem.render(lang), style=style, highlight=False, markup=False, soft_wrap=True)


@app.command()
def validate(
    spec: Annotated[Path, typer.Argument(help="account spec (TOML)")],
    lang: LangOption = "zh",
    quiet: QuietOption = False,
    json_out: Annotated[bool, typer.Option("--json", help="print problems as JSON")] = False,
) -> None:
    """Check every input of an account spec; exit 1 if any error is found."""
    from gep.inputs.prepare import prepare_inputs
    from gep.progress import progress_bar
    from gep.spec import load_spec

    lang = _lang(lang)
    console = Console(stderr=False)
    parsed, problems = load_spec(spec)
    if parsed is not None:
        with progress_bar("validate", quiet or json_out) as progress:
            prepared = prepare_inputs(parsed, progress)
        problems = prepared.problems
    if json_out:
        typer.echo(json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2))
    else:
        print_problems(problems, lang, console)
        errors = sum(p.severity == "error" for p in problems)
        warnings = len(problems) - errors
        summary = f"{errors} 个错误，{warnings} 个警告" if lang == "zh" else f"{errors} error(s), {warnings} warning(s)"
        console.print(summary, style="bold red" if errors else "bold green", highlight=False)
    if has_errors(problems):
        raise typer.Exit(1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("gep-output"),
    resolution: Annotated[float, typer.Option("--resolution", help="pixel size in metres (30 = full size)")] = 100.0,
    lang: LangOption = "zh",
    quiet: QuietOption = False,
    cache: Annotated[Path | None, typer.Option("--cache", help="where generated demo inputs are kept")] = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Run gep on the bundled Lishui (丽水) demo: real boundaries, synthetic rasters and tables."""
    from gep.demo.runner import run_demo
    from gep.engine.array_pool import avoid_numpy_huge_pages

    avoid_numpy_huge_pages()  # building the demo inputs runs outside the account's allocator

    code = run_demo(out=out, resolution=resolution, lang=_lang(lang), quiet=quiet, cache=cache, scheduler=scheduler)
    raise typer.Exit(code)


@app.command()
def account(
    spec: Annotated[Path, typer.Argument(help="account spec (TOML)")],
    out: Annotated[Path | None, typer.Option("--out", help="output folder (default: the spec's output)")] = None,
    lang: LangOption = "zh",
    quiet: QuietOption = False,
    scheduler: SchedulerOption = None,
) -> None:
    """Compute the GEP account of a spec: item maps (COG), account.csv, methods.csv, summary.json."""
    from gep.engine.run import run_account
    from gep.problems import GepInputError
    from gep.progress import progress_bar
    from gep.spec import load_spec

    lang = _lang(lang)
    console = Console()
    parsed, problems = load_spec(spec)
    if parsed is None:
        print_problems(problems, lang, console)
        raise typer.Exit(1)
    try:
        with progress_bar("account", quiet) as progress:
            result = run_account(parsed, out, progress=progress, lang=lang, scheduler=scheduler)
    except GepInputError as exc:
        print_problems(list(exc.problems), lang, console)
        raise typer.Exit(1) from None
    except FileExistsError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from None
    print_problems([p for p in result.prepared.problems if p.severity == "warning"], lang, console)
    console.print(f"{'输出' if lang == 'zh' else 'output'}: {result.out_dir}", markup=False)


@app.command()
def compare(
    accounts: Annotated[list[Path], typer.Argument(help="account folders of two or more years")],
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("gep-comparison"),
    deflators: Annotated[
        Path | None, typer.Option("--deflators", help="CSV/XLSX: year, index [, item|category]")
    ] = None,
    base_year: Annotated[int | None, typer.Option("--base-year", help="price base year (default: first year)")] = None,
    quiet: QuietOption = False,
) -> None:
    """GEP over years: comparable prices, change, and quantity and price effects per item."""
    from gep.account import Account
    from gep.compare import compare_accounts, gep_series, read_deflators
    from gep.inputs.tables import read_table

    console = Console()
    try:
        loaded = [Account.load(path) for path in accounts]
        table = None
        if deflators is not None:
            frame, problems = read_table(deflators)
            if frame is None:
                print_problems(problems, "en", console)
                raise typer.Exit(1)
            table = read_deflators(frame, str(deflators))
        comparison = compare_accounts(loaded, table, base_year)
    except (FileNotFoundError, ValueError) as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from None
    series = gep_series(comparison)
    out.mkdir(parents=True, exist_ok=True)
    comparison.to_csv(out / "comparison.csv", index=False, float_format="%.12g", encoding="utf-8-sig")
    series.to_csv(out / "gep_series.csv", index=False, float_format="%.12g", encoding="utf-8-sig")
    with pd.ExcelWriter(out / "comparison.xlsx") as writer:
        series.to_excel(writer, sheet_name="GEP", index=False)
        comparison.to_excel(writer, sheet_name="items", index=False)
    if not quiet:
        console.print(f"output: {out}", markup=False)


def _mount_subcommands() -> None:
    """Commands that live with their modules: analytics (indicators, realization, evaluate, audit),
    realization (procure, compensate, impact), the platform (serve, token, db) and InVEST-compatible
    models (invest)."""
    from gep.analytics.cli import app as analytics_app
    from gep.api.cli import app as platform_app
    from gep.invest.cli import app as invest_app
    from gep.realization.cli import app as realization_app

    app.add_typer(analytics_app)
    app.add_typer(realization_app)
    app.add_typer(platform_app)
    app.add_typer(invest_app)


_mount_subcommands()
