"""Write arrays on the account grid as Cloud-Optimized GeoTIFFs.

The array is wrapped in an in-memory (GDAL ``MEM``) dataset and copied once with the ``COG`` driver,
which builds the overviews (average) and compresses the tiles with all CPU cores. Compression is
DEFLATE (readable by every GeoTIFF reader) at level 1 with the floating-point predictor (3): on the
30 m demo maps this is about as small as level 6 with the integer predictor and several times faster
to write. Tiles are compressed independently and written in order, so the bytes do not depend on the
number of threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np
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
    "overview_resampling": "average",
    "num_threads": "ALL_CPUS",
}
"""Creation options of the GDAL COG driver used for every map."""


def write_cog(path: Path, array: np.ndarray, grid: AccountGrid, tags: Mapping[str, str] | None = None) -> None:
    """Write ``array`` (float, NaN = nodata) to ``path`` as a float32 COG with DEFLATE compression.

    The bytes depend only on the data, grid and tags, so the same account gives the same files.
    """
    with CogWriter(grid) as writer:
        writer.write(path, array, tags)


class CogWriter:
    """Writes many COGs on one grid, from several threads at once.

    Each write borrows an in-memory float32 dataset of the grid (made on first need, one per
    concurrent write, with a float32 buffer) and copies the array into it, so a run of maps does not
    allocate and fault in fresh full-grid buffers per map. A dataset is reused only for the same tag
    names, so every file gets exactly its own tags; the bytes are those :func:`write_cog` writes.
    """

    def __init__(self, grid: AccountGrid):
        self.grid = grid
        self._lock = threading.Lock()
        self._free: dict[frozenset[str], list[tuple[MemoryFile, object, np.ndarray]]] = {}
        self._all: list[tuple[MemoryFile, object, np.ndarray]] = []

    def write(self, path: Path, array: np.ndarray, tags: Mapping[str, str] | None = None) -> None:
        """Write ``array`` (the grid's shape; float, NaN = nodata) to ``path`` with ``tags``."""
        values = np.asarray(array)
        if values.shape != self.grid.shape:
            raise ValueError(f"{path}: array of shape {values.shape}, expected the grid's {self.grid.shape}")
        names = frozenset((tags or {}).keys())
        slot = self._borrow(names)
        try:
            _, dataset, buffer = slot
            np.copyto(buffer, values, casting="same_kind")
            dataset.write(buffer, 1)
            if tags:
                dataset.update_tags(**{k: str(v) for k, v in tags.items()})
            raster_copy(dataset, Path(path), driver="COG", **COG_OPTIONS)
        finally:
            with self._lock:
                self._free.setdefault(names, []).append(slot)

    def _borrow(self, names: frozenset[str]) -> tuple[MemoryFile, object, np.ndarray]:
        with self._lock:
            free = self._free.get(names)
            if free:
                return free.pop()
        profile = self.grid.profile(dtype="float32", nodata=float("nan"))
        profile.update(driver="MEM")
        memory = MemoryFile()
        slot = (memory, memory.open(**profile), np.empty(self.grid.shape, dtype=np.float32))
        with self._lock:
            self._all.append(slot)
        return slot

    def close(self) -> None:
        """Release the in-memory datasets."""
        with self._lock:
            for memory, dataset, _ in self._all:
                dataset.close()
                memory.close()
            self._all.clear()
            self._free.clear()

    def __enter__(self) -> CogWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
