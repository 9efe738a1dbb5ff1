"""``gep invest MODEL DATASTACK --out DIR``: run an InVEST 3.20-compatible model on an InVEST datastack.

The lead mounts :data:`app` on the main CLI (``app.add_typer(invest_app)``), so users type
``gep invest carbon ds.json --out DIR``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command("invest")
def invest(
    model: Annotated[str, typer.Argument(help="InVEST model id: carbon, annual_water_yield (awy), sdr, ndr")],
    datastack: Annotated[Path, typer.Argument(help="InVEST datastack JSON (paths relative to the file)")],
    out: Annotated[Path, typer.Option("--out", help="workspace directory for the outputs")],
    lang: Annotated[str, typer.Option("--lang", help="zh (default) or en")] = "zh",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no timing line")] = False,
    compress: Annotated[
        str, typer.Option("--compress", help="GeoTIFF compression: lzw (as InVEST), zstd, deflate or none")
    ] = "lzw",
) -> None:
    """Run an InVEST-compatible model (same inputs, output names, units and nodata as InVEST 3.20)."""
    # every input block is read once: a small GDAL block cache saves memory and costs no time
    # (set before GDAL first uses its cache; a GDAL_CACHEMAX set by the user wins)
    os.environ.setdefault("GDAL_CACHEMAX", "128")
    from gep.engine.array_pool import avoid_numpy_huge_pages
    from gep.i18n import check_lang
    from gep.invest import run_datastack
    from gep.invest.io import COMPRESSIONS, output_compression
    from gep.problems import GepInputError

    avoid_numpy_huge_pages()  # huge-page faults cost more than they save on VMs (see its docstring)
    if compress not in COMPRESSIONS:
        raise typer.BadParameter(f"expected one of {', '.join(COMPRESSIONS)}", param_hint="--compress")

    try:
        lang = check_lang(lang)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None
    start = time.perf_counter()
    try:
        with output_compression(compress):
            model_id = run_datastack(datastack, out, model)
    except GepInputError as exc:
        typer.echo(exc.render(lang), err=True)
        raise typer.Exit(1) from None
    if not quiet:
        typer.echo(f"{model_id}: {out} ({time.perf_counter() - start:.2f} s)", err=True)
