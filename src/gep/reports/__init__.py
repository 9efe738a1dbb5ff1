"""Reports of a computed account: the Excel workbook, the printable HTML report, the GEP density
map and PNG previews of the maps.

Everything reads a :class:`gep.account.Account` (the folder the engine wrote) and writes into that
folder: ``report.xlsx``, ``report.html``, ``maps/gep_density.tif`` and ``maps/*.png``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gep.account import Account
from gep.engine.array_pool import adopt_retained_arrays
from gep.i18n import check_lang
from gep.reports.data import as_account
from gep.reports.html import render_html, write_html_report
from gep.reports.maps import (
    DENSITY,
    DensitySum,
    PreviewQueue,
    cog_paths,
    grid_from_cog,
    value_map_paths,
    write_density_map,
    write_previews,
)
from gep.reports.xlsx import SHEETS, write_workbook

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "PreviewQueue",
    "SHEETS",
    "DensitySum",
    "ReportFiles",
    "grid_from_cog",
    "render_html",
    "write_density_map",
    "write_html_report",
    "write_previews",
    "write_reports",
    "write_workbook",
]


@dataclass(frozen=True)
class ReportFiles:
    """The files :func:`write_reports` wrote."""

    workbook: Path
    html: Path
    density: Path | None
    """``maps/gep_density.tif``; None when the account has no item value map."""
    previews: tuple[Path, ...]

    def all(self) -> list[Path]:
        return [self.workbook, self.html, *([self.density] if self.density else []), *self.previews]


def write_reports(
    account: Account | str | Path,
    lang: str = "zh",
    boundaries: gpd.GeoDataFrame | None = None,
    density: np.ndarray | None = None,
    drawn: Sequence[Path] = (),
) -> ReportFiles:
    """Write the density map, the map previews, ``report.xlsx`` and ``report.html`` into the account
    folder, in ``lang`` ("zh" or "en"). ``boundaries`` (regions as a GeoDataFrame, ideally in the grid
    CRS) are outlined on the previews when given.

    ``density``: the GEP density already computed by the caller, yuan/hm² (float64) on the grid of the
    item value COGs, NaN where no item has a value (see :func:`gep.reports.maps.density_array`; a
    :class:`DensitySum` fed every item's value array gives the very numbers read back from the COGs);
    it is written as ``maps/gep_density.tif`` without reading the value COGs back. None: summed from
    the value COGs. The density COG is written on a worker thread while the other previews are drawn;
    its own preview is drawn once it is on disk.

    ``drawn``: previews already drawn (by a :class:`PreviewQueue` while the maps were written); the
    COGs beside them are not drawn again."""
    lang = check_lang(lang)
    account = as_account(account)
    density_cog = account.map_path(DENSITY)
    later = [density_cog] if value_map_paths(account) else []
    # listed before the density COG (and the GDAL temporary files beside it) is being written
    done = {Path(png).with_suffix(".tif").name for png in drawn}
    first = [c for c in cog_paths(account) if c not in later and c.name not in done]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gep-density", initializer=adopt_retained_arrays) as pool:
        job = pool.submit(write_density_map, account, None, density) if later else None
        previews = write_previews(account, lang, boundaries, cogs=first) if first else []
        workbook = write_workbook(account, account.directory / "report.xlsx", lang)
        density_path = job.result() if job is not None else None
    if later:
        previews += write_previews(account, lang, boundaries, cogs=later)
    previews = sorted([*previews, *(account.directory / "maps" / Path(png).name for png in drawn)])
    html = write_html_report(account, account.directory / "report.html", lang, previews=True)
    return ReportFiles(workbook, html, density_path, tuple(previews))
