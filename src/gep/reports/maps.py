"""Maps of an account: the GEP density COG and PNG previews of every COG in ``maps/``.

``maps/gep_density.tif`` is the sum of all item value maps (yuan per pixel) divided by the pixel
area in hectares: yuan/hm² (元/公顷), NaN where every item map is NaN. The previews are drawn with
matplotlib's Agg renderer (no display, no pyplot state) and saved without a ``Software`` stamp or
time, so the same COG gives the same PNG bytes on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.enums import Resampling

from gep.account import Account
from gep.catalog import load_catalog
from gep.engine.cog import write_cog
from gep.grid import AccountGrid
from gep.i18n import check_lang
from gep.reports.data import as_account, computed_value_items
from gep.reports.labels import label, unit_label
from gep.units import M2_PER_HA

if TYPE_CHECKING:
    import geopandas as gpd

DENSITY = "gep_density"
DENSITY_UNIT = "yuan/hm2"
PREVIEW_MAX_PIXELS = 900
"""Longest side, in raster cells, of the data drawn in a preview (larger maps are averaged down)."""
PREVIEW_DPI = 100
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Sarasa Gothic SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
)
"""Font families, in order of preference, that can draw Chinese map titles."""
_CJK_FILE_HINTS = ("notosanscjk", "notosanssc", "sourcehansans", "wqy", "msyh", "simhei", "droidsansfallback")


def grid_from_cog(path: str | Path) -> AccountGrid:
    """The account grid (CRS, transform, size) of a GeoTIFF, e.g. one of the item COGs."""
    with rasterio.open(path) as src:
        if src.crs is None:
            raise ValueError(f"{path}: the raster has no CRS; expected a COG written by the engine")
        return AccountGrid(src.crs.to_string(), src.transform, src.width, src.height)


def value_map_paths(account: Account) -> list[Path]:
    """The item value COGs of ``maps/`` (``<item>_value.tif``), in catalogue order."""
    return [account.map_path(item, "value") for item in computed_value_items(account)]


def density_array(account: Account) -> tuple[np.ndarray, AccountGrid]:
    """GEP density per pixel in yuan/hm² (float64) and its grid.

    density = Σ_items value (yuan per pixel) / (pixel area m² / 10,000 m² per hm²). A pixel where one
    item is NaN and another is not counts the finite ones; a pixel NaN in every item map is NaN.
    """
    paths = value_map_paths(account)
    if not paths:
        raise FileNotFoundError(f"{account.directory / 'maps'}: no <item>_value.tif map to sum")
    grid = grid_from_cog(paths[0])
    total = np.zeros(grid.shape, dtype=np.float64)
    seen = np.zeros(grid.shape, dtype=bool)
    for path in paths:
        if grid_from_cog(path) != grid:
            raise ValueError(f"{path}: not on the grid of {paths[0].name}; every item map must share one grid")
        with rasterio.open(path) as src:
            data = src.read(1).astype(np.float64)
        finite = np.isfinite(data)
        total[finite] += data[finite]
        seen |= finite
    pixel_ha = grid.pixel_area_m2 / M2_PER_HA
    density = np.where(seen, total / pixel_ha, np.nan)
    return density, grid


def write_density_map(account: Account | str | Path, path: Path | None = None) -> Path:
    """Write the GEP density COG (yuan/hm², float32, NaN outside) to ``path`` (default
    ``maps/gep_density.tif``) and return its path. The grid comes from the item value COGs."""
    account = as_account(account)
    density, grid = density_array(account)
    target = Path(path) if path is not None else account.map_path(DENSITY)
    target.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(value_map_paths(account)[0]) as src:
        inherited = {k: v for k, v in src.tags().items() if k in ("PROFILE", "YEAR", "GEP_VERSION", "SYNTHETIC")}
    tags = {
        **inherited,
        "ITEM": DENSITY,
        "UNIT": DENSITY_UNIT,
        "ITEMS": ",".join(computed_value_items(account)),
    }
    write_cog(target, density, grid, tags)
    return target


@cache
def cjk_font() -> str | None:
    """The name of an installed font family that can draw Chinese, or None."""
    from matplotlib import font_manager

    names = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    # Fonts installed after matplotlib built its font cache: look for known files and register them.
    for file in sorted(font_manager.findSystemFonts()):
        lowered = Path(file).name.lower().replace("-", "").replace("_", "")
        if any(hint in lowered for hint in _CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(file)
            except (OSError, RuntimeError, ValueError):
                continue
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in names), None)


def preview_lang(lang: str) -> str:
    """The language the PNG text can be drawn in: ``lang``, or English when ``lang`` is Chinese and no
    Chinese font is installed (the HTML report still captions each map in Chinese)."""
    lang = check_lang(lang)
    return "en" if lang == "zh" and cjk_font() is None else lang


def preview_text(cog: Path, lang: str) -> tuple[str, str]:
    """(title, colour-bar label) of the preview of ``cog`` in ``lang``."""
    stem = cog.stem
    if stem == DENSITY:
        return label("map_density", lang), label("yuan_per_ha", lang)
    item_id, _, kind = stem.rpartition("_")
    try:
        name = load_catalog().item(item_id).name(lang)
    except (KeyError, ValueError):
        name = item_id
    with rasterio.open(cog) as src:
        unit_tag = src.tags().get("UNIT", "")
    unit = unit_tag.removesuffix(" per pixel") or ("yuan" if kind == "value" else "")
    key = "map_value" if kind == "value" else "map_physical"
    return label(key, lang, item=name), label("per_pixel", lang, unit=unit_label(unit, lang))


def _read_preview_data(cog: Path, max_pixels: int) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    with rasterio.open(cog) as src:
        scale = max(1.0, max(src.width, src.height) / max_pixels)
        shape = (max(1, round(src.height / scale)), max(1, round(src.width / scale)))
        data = src.read(1, out_shape=shape, resampling=Resampling.average, masked=False).astype(np.float64)
        left, bottom, right, top = src.bounds
    return data, (left, right, bottom, top)


def _colour_scale(data: np.ndarray, kind: str) -> tuple[str, float, float]:
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return "viridis", 0.0, 1.0
    low, high = (float(v) for v in np.percentile(finite, [2.0, 98.0]))
    if low < 0.0 < high:
        bound = max(abs(low), abs(high))
        return "RdYlGn", -bound, bound
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    return ("viridis" if kind == "physical" else "YlGn"), low, high


def _tick_format(largest: float) -> str:
    """Colour-bar tick format: thousands separators, or scientific notation for huge values."""
    if largest >= 1e9:
        return "{x:.2e}"
    return "{x:,.0f}" if largest >= 100 else "{x:,.3g}"


def render_preview(
    cog: Path,
    png: Path,
    lang: str = "zh",
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    max_pixels: int = PREVIEW_MAX_PIXELS,
) -> Path:
    """Draw ``cog`` into ``png``: the map (NaN transparent), a colour bar with the unit, the title in
    ``lang`` (see :func:`preview_lang`) and the outlines of ``boundaries`` (in any CRS; reprojected to
    the map's) when given."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    text_lang = preview_lang(lang)
    title, unit = preview_text(cog, text_lang)
    data, extent = _read_preview_data(cog, max_pixels)
    kind = "density" if cog.stem == DENSITY else cog.stem.rpartition("_")[2]
    cmap_name, vmin, vmax = _colour_scale(data, kind)
    font = cjk_font()
    families = ([font] if font else []) + ["DejaVu Sans"]
    rc = {
        "font.family": "sans-serif",
        "font.sans-serif": families,
        "axes.unicode_minus": False,
        "svg.hashsalt": "gep",
        "path.simplify": True,
    }
    with matplotlib.rc_context(rc):
        rows, cols = data.shape
        width = 7.0
        height = min(9.0, max(3.0, width * rows / max(cols, 1) * 0.85 + 0.9))
        fig = Figure(figsize=(width, height), dpi=PREVIEW_DPI, facecolor="white")
        ax = fig.add_subplot()
        cmap = matplotlib.colormaps[cmap_name].with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
        image = ax.imshow(
            np.ma.masked_invalid(data), extent=extent, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
        )
        if boundaries is not None and len(boundaries):
            _draw_boundaries(ax, boundaries, cog)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(title, fontsize=12)
        bar = fig.colorbar(image, ax=ax, shrink=0.8, pad=0.02)
        bar.formatter = StrMethodFormatter(_tick_format(max(abs(vmin), abs(vmax))))
        bar.update_ticks()
        bar.set_label(unit)
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(
            png,
            format="png",
            dpi=PREVIEW_DPI,
            metadata={"Software": None},
            facecolor="white",
            bbox_inches="tight",
            pad_inches=0.15,
        )
    return png


def _draw_boundaries(ax, boundaries: gpd.GeoDataFrame, cog: Path) -> None:
    with rasterio.open(cog) as src:
        crs = src.crs
    shapes = boundaries
    if shapes.crs is not None and crs is not None and not shapes.crs.equals(crs):
        shapes = shapes.to_crs(crs.to_string())
    for geometry in shapes.geometry.boundary:
        if geometry is None or geometry.is_empty:
            continue
        lines = getattr(geometry, "geoms", [geometry])
        for line in lines:
            xs, ys = line.xy
            ax.plot(xs, ys, color="#333333", linewidth=0.7)


def cog_paths(account: Account) -> list[Path]:
    """Every COG in ``maps/``, sorted by name."""
    return sorted((account.directory / "maps").glob("*.tif"))


def write_previews(
    account: Account | str | Path,
    lang: str = "zh",
    boundaries: gpd.GeoDataFrame | None = None,
    cogs: Sequence[Path] | None = None,
) -> list[Path]:
    """A PNG preview (same name, ``.png``) beside every COG in ``maps/`` (or of ``cogs``); returns
    the PNG paths."""
    account = as_account(account)
    check_lang(lang)
    return [render_preview(cog, cog.with_suffix(".png"), lang, boundaries) for cog in (cogs or cog_paths(account))]
