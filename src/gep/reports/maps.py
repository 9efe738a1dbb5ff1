"""Maps of an account: the GEP density COG and PNG previews of every COG in ``maps/``.

``maps/gep_density.tif`` is the sum of all item value maps (yuan per pixel) divided by the pixel
area in hectares: yuan/hm² (元/公顷), NaN where every item map is NaN. The previews are drawn with
matplotlib's Agg renderer (no display, no pyplot state) and saved without a ``Software`` stamp or
time, so the same COG gives the same PNG bytes on every run.

Speed (the 30 m demo has 32 M pixels per map): the density is summed by a numba kernel while the next
COG is read on another thread (or handed in by the engine, see :class:`DensitySum`). For the
previews, the region outlines are reprojected once per :func:`write_previews` call; the next COG is
read (and its colour scale worked out) on a thread while the current one is drawn; maps on the same
grid are drawn on one re-used figure (only data, colours, title and colour bar change); the tight
bounding box is measured without drawing the map image, so the image is drawn once (matplotlib's
``bbox_inches="tight"`` draws the whole figure twice); the PNG is encoded on a thread, exactly as
matplotlib would encode it. The PNG bytes are the same as drawing each preview on its own figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import rasterio
from numba import njit
from rasterio.enums import Resampling

from gep.account import Account
from gep.catalog import load_catalog
from gep.engine.array_pool import adopt_retained_arrays
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
PREVIEW_PAD_INCHES = 0.15
"""White margin around the tight bounding box of a preview (inches)."""
READ_AHEAD = 2
"""Value COGs decoded ahead of the one being summed into the density (one reader thread each)."""
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


class DensitySum:
    """The GEP density summed one item value map at a time: the numbers of :func:`density_array`
    without keeping every map in memory (the engine can feed it while it writes the value COGs).

    ``add`` each item's value array (yuan per pixel, NaN = no value) in catalogue order (the order of
    :func:`gep.reports.data.computed_value_items`), then call :meth:`density`. Values are rounded to
    float32 first, as the COGs store them, and widened to float64 for the sum, so the result is
    bit-for-bit what :func:`density_array` reads back from the COGs; another order changes only the
    last bits of some sums.
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self._total = np.zeros(self.shape[0] * self.shape[1], dtype=np.float64)
        self._seen = np.zeros(self._total.size, dtype=np.bool_)
        self.items = 0
        """How many maps were added."""

    def add(self, values: np.ndarray) -> None:
        """Add one item's value map (yuan per pixel, shape ``shape``); NaN and ±inf pixels are skipped."""
        values = np.asarray(values)
        if values.dtype != np.float64 or values.shape != self.shape:
            self._add(np.asarray(values, dtype=np.float32))  # rounded as write_cog stores it
            return
        # float64 maps are rounded to float32 pixel by pixel inside the kernel (no float32 copy)
        _add_finite_rounded(self._total, self._seen, np.ascontiguousarray(values).ravel())
        self.items += 1

    def _add(self, values: np.ndarray) -> None:
        """Add a map as it is (e.g. as read from a COG): float values widened to float64."""
        if values.shape != self.shape:
            raise ValueError(f"value map of shape {values.shape} is not the density's grid {self.shape}")
        if values.dtype.kind != "f":
            values = values.astype(np.float64)
        _add_finite(self._total, self._seen, np.ascontiguousarray(values).ravel())
        self.items += 1

    def density(self, pixel_area_m2: float) -> np.ndarray:
        """yuan/hm² (float64, ``shape``): the sum / (pixel area m² / 10,000), NaN where no map had a
        finite value. Call once: the running sum becomes the result."""
        total = self._total
        _divide_seen(total, self._seen, float(pixel_area_m2 / M2_PER_HA))
        return total.reshape(self.shape)


def density_array(account: Account) -> tuple[np.ndarray, AccountGrid]:
    """GEP density per pixel in yuan/hm² (float64) and its grid, computed from the item value COGs.

    density = Σ_items value (yuan per pixel) / (pixel area m² / 10,000 m² per hm²). A pixel where one
    item is NaN and another is not counts the finite ones; a pixel NaN in every item map is NaN. Items
    are added in catalogue order, each value widened to float64 first (see :class:`DensitySum`);
    the next COG is decoded on a thread while one is added.
    """
    paths = value_map_paths(account)
    if not paths:
        raise FileNotFoundError(f"{account.directory / 'maps'}: no <item>_value.tif map to sum")
    grid = grid_from_cog(paths[0])
    for path in paths[1:]:
        if grid_from_cog(path) != grid:
            raise ValueError(f"{path}: not on the grid of {paths[0].name}; every item map must share one grid")
    total = DensitySum(grid.shape)
    for data in _read_ahead(_read_value_band, paths, READ_AHEAD):
        total._add(data)  # as stored: float32 from the engine
    return total.density(grid.pixel_area_m2), grid


def _read_value_band(path: Path) -> np.ndarray:
    """Band 1 of a value COG, in its own type (float32 as the engine writes it)."""
    with rasterio.open(path) as src:
        return src.read(1)


_T = TypeVar("_T")
_R = TypeVar("_R")


def _read_ahead(read: Callable[[_T], _R], items: Iterable[_T], ahead: int) -> Iterator[_R]:
    """``read(item)`` for each item, in order, with up to ``ahead`` items read on threads ahead of
    the one being used (GDAL decodes without holding the GIL)."""
    items = list(items)
    with ThreadPoolExecutor(
        max_workers=max(1, ahead), thread_name_prefix="gep-map-read", initializer=adopt_retained_arrays
    ) as pool:
        pending: list[Future] = []
        try:
            for item in items:
                pending.append(pool.submit(read, item))
                if len(pending) > ahead:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()
        finally:
            for job in pending:
                job.cancel()


@njit(cache=True, nogil=True)
def _add_finite(total, seen, values):  # pragma: no cover - numba
    """total += float64(values) and seen |= True where ``values`` is finite (flat arrays)."""
    for i in range(total.size):
        v = values[i]
        if np.isfinite(v):
            total[i] += np.float64(v)
            seen[i] = True


@njit(cache=True, nogil=True)
def _add_finite_rounded(total, seen, values):  # pragma: no cover - numba
    """As :func:`_add_finite` for float64 ``values``, each rounded to float32 first (as the COGs)."""
    for i in range(total.size):
        v = np.float64(np.float32(values[i]))
        if np.isfinite(v):
            total[i] += v
            seen[i] = True


@njit(cache=True, nogil=True)
def _divide_seen(total, seen, divisor):  # pragma: no cover - numba
    """In place: total / divisor where seen, NaN elsewhere (flat arrays)."""
    for i in range(total.size):
        total[i] = total[i] / divisor if seen[i] else np.nan


def write_density_map(
    account: Account | str | Path, path: Path | None = None, density: np.ndarray | None = None
) -> Path:
    """Write the GEP density COG (yuan/hm², float32, NaN outside) to ``path`` (default
    ``maps/gep_density.tif``) and return its path. The grid comes from the item value COGs.

    ``density``: the density already computed by the caller (e.g. the engine, which holds every
    item's value array while it writes the maps): yuan/hm² on the grid of the value COGs (same
    shape), float, NaN where no item has a value; see :func:`density_array` for the formula. It is
    written as it is, without reading the value COGs back. None: computed from the value COGs.
    """
    account = as_account(account)
    if density is None:
        density, grid = density_array(account)
    else:
        paths = value_map_paths(account)
        if not paths:
            raise FileNotFoundError(f"{account.directory / 'maps'}: no <item>_value.tif map for the density's grid")
        grid = grid_from_cog(paths[0])
        density = np.asarray(density)
        if density.shape != grid.shape:
            raise ValueError(f"density array of shape {density.shape} is not the value maps' grid {grid.shape}")
        if density.dtype.kind != "f":
            raise ValueError(f"density array must be float (yuan/hm², NaN = no value), not {density.dtype}")
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
    if cog.stem == DENSITY:
        return _preview_text(cog.stem, "", lang)
    with rasterio.open(cog) as src:
        unit_tag = src.tags().get("UNIT", "")
    return _preview_text(cog.stem, unit_tag, lang)


def _preview_text(stem: str, unit_tag: str, lang: str) -> tuple[str, str]:
    """(title, colour-bar label) of the map ``stem`` (e.g. ``soil_retention_value``) whose COG has
    the ``UNIT`` tag ``unit_tag``."""
    if stem == DENSITY:
        return label("map_density", lang), label("yuan_per_ha", lang)
    item_id, _, kind = stem.rpartition("_")
    try:
        name = load_catalog().item(item_id).name(lang)
    except (KeyError, ValueError):
        name = item_id
    unit = unit_tag.removesuffix(" per pixel") or ("yuan" if kind == "value" else "")
    key = "map_value" if kind == "value" else "map_physical"
    return label(key, lang, item=name), label("per_pixel", lang, unit=unit_label(unit, lang))


def _read_preview_band(src, max_pixels: int) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Band 1 of the open dataset ``src`` averaged down to at most ``max_pixels`` cells on its longest
    side (float64), and its extent (left, right, bottom, top) in the dataset's CRS."""
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


class _Outlines:
    """The outlines of the region boundaries as line vertex arrays, reprojected once per map CRS."""

    def __init__(self, boundaries: gpd.GeoDataFrame | None) -> None:
        self.boundaries = boundaries if boundaries is not None and len(boundaries) else None
        self._lines: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def lines(self, crs) -> list[tuple[np.ndarray, np.ndarray]]:
        """(xs, ys) of every boundary line in ``crs`` (a rasterio CRS or None: as given)."""
        if self.boundaries is None:
            return []
        key = crs.to_wkt() if crs is not None else ""
        if key not in self._lines:
            shapes = self.boundaries
            if shapes.crs is not None and crs is not None and not shapes.crs.equals(crs):
                shapes = shapes.to_crs(crs.to_string())
            lines = []
            for geometry in shapes.geometry.boundary:
                if geometry is None or geometry.is_empty:
                    continue
                for line in getattr(geometry, "geoms", [geometry]):
                    xs, ys = line.xy
                    lines.append((np.asarray(xs), np.asarray(ys)))
            self._lines[key] = lines
        return self._lines[key]


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
    painter = _PreviewPainter(lang, _Outlines(boundaries))
    return painter.paint(_read_preview_source(cog, max_pixels), png)


@dataclass(frozen=True)
class _PreviewSource:
    """What a preview shows of one COG, read in one go (possibly on a reader thread)."""

    cog: Path
    unit_tag: str
    crs: object
    data: np.ndarray
    """The map averaged down (float64, NaN = nodata; matplotlib masks what is not finite)."""
    extent: tuple[float, float, float, float]
    colours: tuple[str, float, float]
    """(colour map, vmin, vmax), see :func:`_colour_scale`."""


def _read_preview_source(cog: Path, max_pixels: int = PREVIEW_MAX_PIXELS) -> _PreviewSource:
    with rasterio.open(cog) as src:
        unit_tag = src.tags().get("UNIT", "")
        crs = src.crs
        data, extent = _read_preview_band(src, max_pixels)
    kind = "density" if cog.stem == DENSITY else cog.stem.rpartition("_")[2]
    return _PreviewSource(cog, unit_tag, crs, data, extent, _colour_scale(data, kind))


class _PreviewPainter:
    """Draws previews, re-using one matplotlib figure for maps of the same shape, extent and CRS.

    Building a figure (axes, colour bar, outlines) costs as much as drawing it; maps of one account
    share the grid, so only the image data, colours, title and colour-bar ticks and label change
    from one preview to the next. The output is the same as from a fresh figure."""

    def __init__(self, lang: str, outlines: _Outlines, writer: ThreadPoolExecutor | None = None) -> None:
        self.lang = lang
        self.text_lang = preview_lang(lang)
        self.outlines = outlines
        self.writer = writer
        """When given, PNG files are encoded and written on this executor (see :meth:`finish`)."""
        self._writes: list[Future] = []
        self._figure = None
        self._key: tuple | None = None

    def finish(self) -> None:
        """Wait until every PNG handed to the writer is on disk (re-raising its error, if any)."""
        writes, self._writes = self._writes, []
        for job in writes:
            job.result()

    def _rc(self) -> dict[str, object]:
        font = cjk_font()
        return {
            "font.family": "sans-serif",
            "font.sans-serif": ([font] if font else []) + ["DejaVu Sans"],
            "axes.unicode_minus": False,
            "svg.hashsalt": "gep",
            "path.simplify": True,
        }

    def paint(self, source: _PreviewSource, png: Path) -> Path:
        """Write the preview of ``source`` to ``png`` and return ``png``."""
        import matplotlib
        from matplotlib.ticker import StrMethodFormatter

        title, unit = _preview_text(source.cog.stem, source.unit_tag, self.text_lang)
        cmap_name, vmin, vmax = source.colours
        cmap = matplotlib.colormaps[cmap_name].with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
        with matplotlib.rc_context(self._rc()):
            key = (source.data.shape, source.extent, source.crs.to_wkt() if source.crs is not None else "")
            if key != self._key:
                self._figure = self._build(source, cmap, vmin, vmax)
                self._key = key
            fig, ax, image, bar = self._figure
            image.set_data(source.data)
            with image.norm.callbacks.blocked():  # the colour bar is redrawn once, by set_cmap
                image.set_clim(vmin, vmax)
            image.set_cmap(cmap)
            ax.set_title(title, fontsize=12)
            bar.formatter = StrMethodFormatter(_tick_format(max(abs(vmin), abs(vmax))))
            bar.update_ticks()
            bar.set_label(unit)
            # What savefig(bbox_inches="tight") does, without drawing the map image in the measuring
            # pass: a clipped image never counts in the tight box, so hiding it leaves the box
            # unchanged, and the image is drawn once, when the PNG is written.
            image.set_visible(False)
            fig.draw_without_rendering()
            tight = fig.get_tightbbox().padded(PREVIEW_PAD_INCHES)
            image.set_visible(True)
            png.parent.mkdir(parents=True, exist_ok=True)
            rgba = self._pixels(fig, tight) if self.writer is not None else None
            if rgba is None:
                fig.savefig(
                    png,
                    format="png",
                    dpi=PREVIEW_DPI,
                    metadata={"Software": None},
                    facecolor="white",
                    bbox_inches=tight,
                )
            else:
                self._writes.append(self.writer.submit(_write_png, png, rgba))
        return png

    @staticmethod
    def _pixels(fig, tight) -> np.ndarray | None:
        """The RGBA pixels (rows, columns, 4) that ``savefig(format="png", bbox_inches=tight)`` would
        encode, drawn the same way; None when their size cannot be told (then savefig as usual)."""
        import io

        buffer = io.BytesIO()
        fig.savefig(buffer, format="rgba", dpi=PREVIEW_DPI, facecolor="white", bbox_inches=tight)
        raw = buffer.getbuffer()
        # the canvas of a figure cut to ``tight`` is int(size in inches × dpi) pixels (RendererAgg)
        columns, rows = int(tight.width * PREVIEW_DPI), int(tight.height * PREVIEW_DPI)
        if rows <= 0 or columns <= 0 or len(raw) != rows * columns * 4:
            return None
        return np.frombuffer(raw, dtype=np.uint8).reshape(rows, columns, 4)

    def _build(self, source: _PreviewSource, cmap, vmin: float, vmax: float):
        """A new figure for maps like ``source``: (figure, map axes, image, colour bar)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        rows, cols = source.data.shape
        extent = source.extent
        width = 7.0
        height = min(9.0, max(3.0, width * rows / max(cols, 1) * 0.85 + 0.9))
        fig = Figure(figsize=(width, height), dpi=PREVIEW_DPI, facecolor="white")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        image = ax.imshow(
            source.data,
            extent=extent,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        for xs, ys in self.outlines.lines(source.crs):
            ax.plot(xs, ys, color="#333333", linewidth=0.7)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect("equal")
        ax.set_axis_off()
        # With the axes off their tick labels are never drawn, but matplotlib still lays them out on
        # every draw (to keep the title clear of the y offset text "1e6"); hidden axes skip that.
        ax.xaxis.set_visible(False)
        ax.yaxis.set_visible(False)
        bar = fig.colorbar(image, ax=ax, shrink=0.8, pad=0.02)
        return fig, ax, image, bar


def _write_png(png: Path, rgba: np.ndarray) -> None:
    """Encode ``rgba`` into ``png`` exactly as matplotlib's Agg ``print_png`` does (``imsave`` of the
    canvas buffer, no ``Software`` stamp); safe to run on a worker thread."""
    from matplotlib.image import imsave

    imsave(png, memoryview(rgba), format="png", origin="upper", dpi=PREVIEW_DPI, metadata={"Software": None})


class PreviewQueue:
    """Draws the previews of COGs as they are written, one at a time on a background thread, with the
    painter :func:`write_previews` uses (same PNG bytes). The engine hands it each item's maps once
    they are on disk, so the previews are drawn while later items compute instead of after them.

    Use as a context manager; :meth:`finish` waits for every preview and returns the PNG paths."""

    def __init__(self, lang: str = "zh", boundaries: gpd.GeoDataFrame | None = None) -> None:
        check_lang(lang)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gep-png")
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="gep-preview", initializer=adopt_retained_arrays
        )
        self._painter = _PreviewPainter(lang, _Outlines(boundaries), self._writer)
        self._jobs: list[Future] = []

    def add(self, cog: Path) -> None:
        """Draw the preview of ``cog`` (a COG already on disk) beside it, as ``.png``."""
        self._jobs.append(self._pool.submit(self._paint, Path(cog)))

    def _paint(self, cog: Path) -> Path:
        return self._painter.paint(_read_preview_source(cog), cog.with_suffix(".png"))

    def finish(self) -> list[Path]:
        """Wait until every preview is written; the PNG paths, in the order the COGs were added."""
        pngs = [job.result() for job in self._jobs]
        self._painter.finish()
        return pngs

    def close(self) -> None:
        """Stop: previews not started are dropped, the threads end."""
        for job in self._jobs:
            job.cancel()
        self._pool.shutdown(wait=True)
        self._writer.shutdown(wait=True)

    def __enter__(self) -> PreviewQueue:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
    the PNG paths. The boundaries are reprojected once for all previews."""
    account = as_account(account)
    check_lang(lang)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gep-png", initializer=adopt_retained_arrays) as writer:
        painter = _PreviewPainter(lang, _Outlines(boundaries), writer)
        sources = _read_ahead(_read_preview_source, cogs or cog_paths(account), 1)
        pngs = [painter.paint(source, source.cog.with_suffix(".png")) for source in sources]
        painter.finish()
    return pngs
