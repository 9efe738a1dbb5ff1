"""``gep demo``: build (or reuse) the Lishui demo inputs, run the account, print a summary.

Generated inputs are cached per generator version and resolution under ``$GEP_CACHE`` (default
``~/.cache/gep``), built in a temporary folder and renamed when complete, so an interrupted build is
never reused. The output folder gets the account plus ``spec.toml`` with absolute paths to the
inputs, ready to copy as the template for one's own region.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
from pathlib import Path

import tomli_w
from rich.console import Console
from rich.table import Table

from gep import __version__
from gep.units import WAN, YI

DEMO_NAME = "lishui-demo"


def cache_root(cache: Path | None) -> Path:
    if cache is not None:
        return Path(cache)
    env = os.environ.get("GEP_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "gep"


def demo_inputs(resolution: float, cache: Path | None = None, progress=None) -> Path:
    """Path of the demo's ``spec.toml`` in the cache, building the inputs first if needed."""
    from gep.demo.build import build_demo_inputs
    from gep.demo.synth import GENERATOR_VERSION

    root = cache_root(cache)
    folder = root / f"{DEMO_NAME}-v{__version__}-g{GENERATOR_VERSION}-{resolution:g}m"
    if (folder / ".complete").is_file():
        return folder / "spec.toml"
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=root))
    try:
        built = build_demo_inputs(staging, resolution, progress=progress)
        (staging / ".complete").write_text("complete\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder / built.spec_path.name


def output_spec_text(cached_spec: Path) -> str:
    """The demo spec rewritten with absolute input paths and ``output = "."``, for the output folder."""
    raw = tomllib.loads(cached_spec.read_text(encoding="utf-8"))
    base = cached_spec.parent

    def absolute(section: dict) -> None:
        section["path"] = str((base / section["path"]).resolve())

    absolute(raw["regions"])
    for zone in raw.get("zones", []):
        absolute(zone)
    for section in (*raw.get("layers", {}).values(), *raw.get("tables", {}).values()):
        absolute(section)
    raw["account"]["output"] = "."
    header = (
        "# gep account spec written by `gep demo`. Copy it as the template for your own region:\n"
        "# point [regions], [layers.*] and [tables.*] at your files, set year/profile, then run\n"
        "#   gep validate spec.toml && gep account spec.toml --out my-account\n"
        "# The demo's rasters and tables are SYNTHETIC (illustrative, not statistics).\n\n"
    )
    return header + tomli_w.dumps(raw)


def run_demo(
    out: Path, resolution: float, lang: str, quiet: bool, cache: Path | None = None, scheduler: str | None = None
) -> int:
    """Run the demo end to end; returns the process exit code."""
    from gep.engine.run import run_account
    from gep.problems import GepInputError
    from gep.progress import progress_bar
    from gep.spec import parse_spec

    console = Console()
    zh = lang == "zh"
    with progress_bar("演示数据" if zh else "demo inputs", quiet) as progress:
        cached_spec = demo_inputs(resolution, cache, progress)
    text = output_spec_text(cached_spec)
    out = out.resolve()
    spec, problems = parse_spec(tomllib.loads(text), out / "spec.toml")
    if spec is None:  # the generator wrote a spec gep cannot read: a bug, say so plainly
        raise RuntimeError("demo spec is invalid: " + "; ".join(p.render("en") for p in problems))
    try:
        with progress_bar("核算" if zh else "account", quiet) as progress:
            result = run_account(
                spec, out, progress=progress, extra_files={"spec.toml": text}, lang=lang, scheduler=scheduler
            )
    except GepInputError as exc:
        console.print(exc.render(lang), style="red", markup=False)
        return 1
    except FileExistsError as exc:
        console.print(str(exc), style="red", markup=False)
        return 1
    print_summary(result.out_dir, lang, console)
    return 0


def print_summary(out_dir: Path, lang: str, console: Console) -> None:
    import json

    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    zh = lang == "zh"
    table = Table(title=("丽水市 GEP 演示核算（合成数据）" if zh else "Lishui GEP demo account (synthetic data)"))
    table.add_column("区域" if zh else "Region")
    for label_zh, label_en in (
        ("GEP（亿元）", "GEP (100 M yuan)"),
        ("物质产品", "Material"),
        ("调节服务", "Regulating"),
        ("文化服务", "Cultural"),
        ("GEP/面积（万元/km²）", "GEP/area (10k yuan/km²)"),
    ):
        table.add_column(label_zh if zh else label_en, justify="right")
    for region in summary["regions"]:
        if region["level"] == "zone":
            continue
        gep = region.get("gep_yuan", region.get("regulating_yuan", 0.0))
        material = region.get("material_yuan", 0.0)
        cultural = region.get("cultural_yuan", 0.0)
        per_km2 = gep / region["area_km2"] / WAN if region.get("area_km2") else float("nan")
        table.add_row(
            region["region_name"],
            f"{gep / YI:,.2f}",
            f"{material / YI:,.2f}",
            f"{region.get('regulating_yuan', 0.0) / YI:,.2f}",
            f"{cultural / YI:,.2f}",
            f"{per_km2:,.1f}",
        )
    console.print(table)
    console.print(("输出目录" if zh else "Output folder") + f": {out_dir}", markup=False)
