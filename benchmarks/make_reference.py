"""Run InVEST 3.20 on the committed fixtures and store its outputs as the reference for the tests.

    python benchmarks/make_reference.py --invest-venv /work/invest-venv

For every ``*.json`` datastack of a model listed in :data:`CASES` under ``tests/fixtures/invest``, runs
``invest run MODEL --datastack DS --workspace TMP`` from the InVEST venv and copies the outputs that
InVEST documents (no intermediates, logs, reports, metadata or task-graph cache) to
``tests/fixtures/invest/reference/<datastack stem>/``, keeping InVEST's relative paths.
InVEST is never imported by gep; this script only calls its command line.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "invest"

# datastack stem -> (InVEST model id, output paths relative to the workspace, "{s}" = results suffix)
CARBON_OUT = ("c_storage_bas{s}.tif", "c_storage_alt{s}.tif", "c_change_bas_alt{s}.tif", "npv_alt{s}.tif",
              "raster_values_summary{s}.csv")  # fmt: skip
AWY_OUT = tuple(f"output/per_pixel/{n}{{s}}.tif" for n in ("fractp", "aet", "wyield")) + tuple(
    f"output/{kind}_results_wyield{{s}}.{ext}"
    for kind in ("watershed", "subwatershed")
    for ext in ("csv", "shp", "shx", "dbf", "prj")
)
CASES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "carbon": ("carbon", CARBON_OUT, ""),
    "carbon_bas_only": ("carbon", CARBON_OUT, "_bas"),
    "annual_water_yield": ("annual_water_yield", AWY_OUT, ""),
    "annual_water_yield_basic": ("annual_water_yield", AWY_OUT, "_basic"),
}


def run_invest(invest_venv: Path, model: str, datastack: Path, workspace: Path) -> None:
    """``invest run`` from ``invest_venv``; raises CalledProcessError with InVEST's output on failure."""
    cmd = [str(invest_venv / "bin" / "invest"), "run", model, "--datastack", str(datastack), "--workspace",
           str(workspace)]  # fmt: skip
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invest-venv", type=Path, required=True)
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated datastack stems")
    args = parser.parse_args(argv)
    reference = args.fixtures / "reference"
    for stem in args.cases.split(","):
        model, outputs, suffix = CASES[stem]
        target = reference / stem
        shutil.rmtree(target, ignore_errors=True)
        with tempfile.TemporaryDirectory() as tmp:
            workspace = Path(tmp) / "ws"
            run_invest(args.invest_venv, model, args.fixtures / f"{stem}.json", workspace)
            copied = 0
            for pattern in outputs:
                rel = pattern.format(s=suffix)
                src = workspace / rel
                if src.exists():
                    (target / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target / rel)
                    copied += 1
        print(f"{stem}: {copied} files -> {target.relative_to(ROOT)}", file=sys.stderr)
    # GDAL (through InVEST) leaves statistics side-car files next to the inputs; they are not fixtures
    for aux in args.fixtures.glob("*.aux.xml"):
        aux.unlink()


if __name__ == "__main__":
    main()
