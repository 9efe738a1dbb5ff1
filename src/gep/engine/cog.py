"""Write arrays on the account grid as Cloud-Optimized GeoTIFFs.

The array is rounded to float32 into a reused buffer (a C-contiguous float32 array is used as it is),
its overviews are computed here (see
:func:`average_overview`), and GDAL's ``COG`` driver copies the lot once from an in-memory VRT that
points at the buffers (no copy of the data, no second compression pass). GDAL's own overview pass
(average resampling, then a temporary compressed overview file read back into the COG) cost about half
of the 2.2 CPU seconds a 30 m map took to write; computing the averages here cuts a map to about
1.3 s. The overviews are those GDAL makes: the levels of the COG driver (halving until the level fits
in one tile) and the same area-weighted average of each level from the one above, to within one float32
rounding (tested against GDAL).

Compression is DEFLATE (readable by every GeoTIFF reader) at level 1 with the floating-point predictor
(3): on the 30 m demo maps this is about as small as level 6 with the integer predictor and several
times faster to write. Tiles are compressed independently and written in order, so the bytes do not
depend on the number of threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import rasterio
from numba import njit
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.shutil import copy as raster_copy

from gep.grid import AccountGrid

BLOCK_SIZE = 256
"""Tile size of the COGs (pixels)."""
COG_OPTIONS: Mapping[str, str] = {
    "compress": "DEFLATE",
    "level": "1",
    "predictor": "3",
    "blocksize": str(BLOCK_SIZE),
    "overviews": "FORCE_USE_EXISTING",
    "num_threads": "ALL_CPUS",
}
"""Creation options of the GDAL COG driver used for every map (overviews come with the source)."""

_GDAL_CONFIG = {"GDAL_MEM_ENABLE_OPEN": "YES", "VRT_ALLOW_MEM_DRIVER": "YES"}
"""Let the in-memory VRT read the float32 buffers through GDAL's ``MEM:::DATAPOINTER`` syntax."""


def overview_shapes(shape: tuple[int, int], block_size: int = BLOCK_SIZE) -> list[tuple[int, int]]:
    """The overview levels GDAL's COG driver makes for a raster of ``shape`` (rows, cols): halved (rounded
    down, at least 1 pixel) until a level fits in one ``block_size`` tile; none for a raster that fits."""
    rows, cols = shape
    levels: list[tuple[int, int]] = []
    factor = 1
    level = (rows, cols)
    while max(level) > block_size:
        factor *= 2
        level = (max(1, rows // factor), max(1, cols // factor))
        levels.append(level)
    return levels


@njit(cache=True, nogil=True)
def average_overview(source: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out`` (float32) = area-weighted average of ``source`` (float32, NaN = nodata) over each output
    pixel's footprint, the two covering the same extent (GDAL's "average" resampling for a non-integer
    ratio); NaN where the footprint holds no valid pixel."""
    rows, cols = source.shape
    out_rows, out_cols = out.shape
    y_ratio = rows / out_rows
    x_ratio = cols / out_cols
    for r in range(out_rows):
        y0 = r * y_ratio
        y1 = (r + 1) * y_ratio
        i0 = int(y0)
        i1 = min(rows, int(np.ceil(y1)))
        for c in range(out_cols):
            x0 = c * x_ratio
            x1 = (c + 1) * x_ratio
            j0 = int(x0)
            j1 = min(cols, int(np.ceil(x1)))
            total = 0.0
            weight = 0.0
            for i in range(i0, i1):
                wy = min(i + 1.0, y1) - max(float(i), y0)
                for j in range(j0, j1):
                    v = source[i, j]
                    if not np.isnan(v):
                        w = wy * (min(j + 1.0, x1) - max(float(j), x0))
                        total += w * v
                        weight += w
            out[r, c] = total / weight if weight > 0.0 else np.nan


def write_cog(path: Path, array: np.ndarray, grid: AccountGrid, tags: Mapping[str, str] | None = None) -> None:
    """Write ``array`` (float, NaN = nodata) to ``path`` as a float32 COG with DEFLATE compression.

    The bytes depend only on the data, grid and tags, so the same account gives the same files.
    """
    with CogWriter(grid) as writer:
        writer.write(path, array, tags)


class CogWriter:
    """Writes many COGs on one grid, from several threads at once.

    Each write borrows a set of float32 buffers (the grid and its overview levels; made on first need,
    one set per concurrent write), so a run of maps does not allocate and fault in fresh full-grid
    buffers per map. The bytes of a file are those :func:`write_cog` writes.
    """

    def __init__(self, grid: AccountGrid):
        self.grid = grid
        self._lock = threading.Lock()
        self._free: list[list[np.ndarray]] = []
        self._georeferencing = _vrt_georeferencing(grid)

    def write(self, path: Path, array: np.ndarray, tags: Mapping[str, str] | None = None) -> None:
        """Write ``array`` (the grid's shape; float, NaN = nodata) to ``path`` with ``tags``."""
        values = np.asarray(array)
        if values.shape != self.grid.shape:
            raise ValueError(f"{path}: array of shape {values.shape}, expected the grid's {self.grid.shape}")
        borrowed = self._borrow()
        try:
            if values.dtype == np.float32 and values.flags.c_contiguous:
                levels = [values, *borrowed[1:]]  # a float32 map is written from where it is
            else:
                np.copyto(borrowed[0], values, casting="same_kind")
                levels = borrowed
            for above, level in zip(levels, levels[1:], strict=False):
                average_overview(above, level)
            xml = _vrt(levels, self._georeferencing, tags or {})
            memory = MemoryFile(xml.encode("utf-8"), ext=".vrt")
            with rasterio.Env(**_GDAL_CONFIG), memory, memory.open() as source:
                raster_copy(source, Path(path), driver="COG", **COG_OPTIONS)
        finally:
            with self._lock:
                self._free.append(borrowed)

    def _borrow(self) -> list[np.ndarray]:
        with self._lock:
            if self._free:
                return self._free.pop()
        shapes = [self.grid.shape, *overview_shapes(self.grid.shape)]
        return [np.empty(shape, dtype=np.float32) for shape in shapes]

    def close(self) -> None:
        """Release the buffers."""
        with self._lock:
            self._free.clear()

    def __enter__(self) -> CogWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _vrt_georeferencing(grid: AccountGrid) -> str:
    transform = ",".join(repr(float(v)) for v in grid.transform.to_gdal())
    wkt = CRS.from_user_input(grid.crs).to_wkt()
    return f"<SRS>{escape(wkt)}</SRS><GeoTransform>{transform}</GeoTransform>"


def _mem_source(buffer: np.ndarray) -> str:
    """The GDAL name of a float32 C-contiguous buffer as a one-band in-memory dataset."""
    if buffer.dtype != np.float32 or not buffer.flags.c_contiguous:
        raise ValueError("a MEM source must be a C-contiguous float32 buffer")
    rows, cols = buffer.shape
    return f"MEM:::DATAPOINTER=0x{buffer.ctypes.data:x},PIXELS={cols},LINES={rows},BANDS=1,DATATYPE=Float32"


def _vrt(buffers: list[np.ndarray], georeferencing: str, tags: Mapping[str, str]) -> str:
    """A VRT of the grid buffer with the other buffers as its overviews, NaN nodata and ``tags``."""
    rows, cols = buffers[0].shape
    metadata = "".join(f'<MDI key="{escape(str(k))}">{escape(str(v))}</MDI>' for k, v in tags.items())
    overviews = "".join(
        f"<Overview><SourceFilename>{escape(_mem_source(b))}</SourceFilename><SourceBand>1</SourceBand></Overview>"
        for b in buffers[1:]
    )
    return (
        f'<VRTDataset rasterXSize="{cols}" rasterYSize="{rows}">{georeferencing}'
        f"<Metadata>{metadata}</Metadata>"
        '<VRTRasterBand dataType="Float32" band="1"><NoDataValue>nan</NoDataValue>'
        f"<SimpleSource><SourceFilename>{escape(_mem_source(buffers[0]))}</SourceFilename>"
        f"<SourceBand>1</SourceBand></SimpleSource>{overviews}</VRTRasterBand></VRTDataset>"
    )
