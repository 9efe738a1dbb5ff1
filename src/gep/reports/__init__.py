"""Reports of a computed account: the Excel workbook, the printable HTML report, the GEP density
map and PNG previews of the maps.

Everything reads a :class:`gep.account.Account` (the folder the engine wrote) and writes into that
folder: ``report.xlsx``, ``report.html``, ``maps/gep_density.tif`` and ``maps/*.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gep.account import Account
from gep.i18n import check_lang
from gep.reports.data import as_account
from gep.reports.html import render_html, write_html_report
from gep.reports.maps import grid_from_cog, value_map_paths, write_density_map, write_previews
from gep.reports.xlsx import SHEETS, write_workbook

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "SHEETS",
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
    account: Account | str | Path, lang: str = "zh", boundaries: gpd.GeoDataFrame | None = None
) -> ReportFiles:
    """Write the density map, the map previews, ``report.xlsx`` and ``report.html`` into the account
    folder, in ``lang`` ("zh" or "en"). ``boundaries`` (regions as a GeoDataFrame, ideally in the grid
    CRS) are outlined on the previews when given."""
    lang = check_lang(lang)
    account = as_account(account)
    density = write_density_map(account) if value_map_paths(account) else None
    previews = write_previews(account, lang, boundaries)
    workbook = write_workbook(account, account.directory / "report.xlsx", lang)
    html = write_html_report(account, account.directory / "report.html", lang, previews=True)
    return ReportFiles(workbook, html, density, tuple(previews))
