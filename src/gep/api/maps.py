"""Account maps: the list of map layers and PNG images rendered from the COGs.

A PNG is the COG reprojected to Web Mercator (EPSG:3857) over the map's lon/lat extent, so a web map
can lay it on its ``bounds_lonlat`` [west, south, east, north] unchanged (Leaflet ``imageOverlay``,
MapLibre image sources). Nodata is transparent. Colours run over the 2nd-98th percentile of the
values; a diverging palette is used when values change sign. Rendered images are cached on disk
under the SHA-256 of the COG, so a changed file is never served stale.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Response
from pydantic import BaseModel

from gep.api.accounts import visible_account
from gep.api.deps import CurrentUser, SessionDep, SettingsDep
from gep.api.errors import ERROR_RESPONSES, ApiError
from gep.store import repository as repo

router = APIRouter(tags=["maps"], responses=ERROR_RESPONSES)

RENDER_VERSION = 1
"""Bump when the rendering changes, so cached images are re-rendered."""

_hash_lock = threading.Lock()
_hashes: dict[tuple[str, int, int], str] = {}


class MapOut(BaseModel):
    item: str
    kind: str
    bounds_lonlat: list[float]


@router.get("/accounts/{account_id}/maps", summary="Map layers of an account with their lon/lat extent")
def list_maps(account_id: int, session: SessionDep, user: CurrentUser) -> list[MapOut]:
    account = visible_account(session, account_id, user)
    return [
        MapOut(item=m.item, kind=m.kind, bounds_lonlat=[m.west, m.south, m.east, m.north])
        for m in repo.account_maps(session, account.id)
    ]


@router.get(
    "/accounts/{account_id}/maps/{item}.png",
    summary="A map as a PNG (transparent nodata); header X-Bounds-LonLat gives west,south,east,north",
    responses={200: {"content": {"image/png": {}}, "description": "PNG image in Web Mercator"}},
    response_class=Response,
)
def get_map_png(
    account_id: int,
    item: str,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    kind: Literal["value", "physical"] = "value",
) -> Response:
    account = visible_account(session, account_id, user)
    found = repo.account_map(session, account.id, item, kind)
    if found is None:
        known = ", ".join(f"{m.item}:{m.kind}" for m in repo.account_maps(session, account.id)[:20]) or "-"
        raise ApiError(404, "api_map_not_found", account_id=account_id, item=item, kind=kind, known=known)
    path = Path(found.path)
    if not path.is_file():
        raise ApiError(404, "api_map_file_missing", account_id=account_id, path=str(path))
    bounds = (found.west, found.south, found.east, found.north)
    png, legend = cached_png(path, bounds, settings.map_max_size, settings.data_path / "map-cache")
    headers = {
        "X-Bounds-LonLat": ",".join(f"{v:.8f}" for v in bounds),
        "X-Value-Min": _header_number(legend["vmin"]),
        "X-Value-Max": _header_number(legend["vmax"]),
        "X-Colormap": legend["cmap"],
        "Access-Control-Expose-Headers": "X-Bounds-LonLat, X-Value-Min, X-Value-Max, X-Colormap",
        "Cache-Control": "public, max-age=3600" if account.published else "private, max-age=300",
    }
    return Response(content=png, media_type="image/png", headers=headers)


def _header_number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, mtime, size) so a map is hashed once."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    with _hash_lock:
        if key in _hashes:
            return _hashes[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    value = digest.hexdigest()
    with _hash_lock:
        _hashes[key] = value
    return value


def cached_png(
    path: Path, bounds: tuple[float, float, float, float], max_size: int, cache_dir: Path
) -> tuple[bytes, dict[str, Any]]:
    """(PNG bytes, legend) for the COG at ``path``, from the cache when its hash was rendered before."""
    key = f"{file_sha256(path)}-{max_size}-v{RENDER_VERSION}"
    png_path = cache_dir / f"{key}.png"
    legend_path = cache_dir / f"{key}.json"
    if png_path.is_file() and legend_path.is_file():
        return png_path.read_bytes(), json.loads(legend_path.read_text(encoding="utf-8"))
    png, legend = render_png(path, bounds, max_size)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for target, data in ((legend_path, json.dumps(legend).encode()), (png_path, png)):
        handle, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    return png, legend


def render_png(path: Path, bounds: tuple[float, float, float, float], max_size: int) -> tuple[bytes, dict[str, Any]]:
    """Render band 1 of ``path`` over ``bounds`` (lon/lat) in EPSG:3857, longest side at most
    ``max_size`` pixels (and no more than twice the source's). Returns (PNG bytes, legend)."""
    import matplotlib

    matplotlib.use("Agg")
    import rasterio
    from matplotlib import colormaps
    from matplotlib.image import imsave
    from pyproj import Transformer
    from rasterio.enums import Resampling
    from rasterio.transform import from_bounds
    from rasterio.warp import reproject

    west, south, east, north = bounds
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    left, bottom = to_mercator.transform(west, south)
    right, top = to_mercator.transform(east, north)
    with rasterio.open(path) as src:
        longest = min(max_size, 2 * max(src.width, src.height))
        aspect = (right - left) / (top - bottom)
        width = max(1, round(longest if aspect >= 1 else longest * aspect))
        height = max(1, round(longest / aspect if aspect >= 1 else longest))
        coarser = width < src.width or height < src.height
        data = np.full((height, width), np.nan, dtype=np.float32)
        reproject(
            source=rasterio.band(src, 1),
            destination=data,
            src_nodata=src.nodata,
            dst_transform=from_bounds(left, bottom, right, top, width, height),
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.average if coarser else Resampling.nearest,
        )
    finite = data[np.isfinite(data)]
    if finite.size:
        vmin, vmax = (float(v) for v in np.percentile(finite, [2, 98]))
    else:
        vmin = vmax = 0.0
    if vmin < 0 < vmax:
        bound = max(-vmin, vmax)
        vmin, vmax, cmap_name = -bound, bound, "RdYlGn"
    else:
        cmap_name = "YlGn"
    if vmax <= vmin:
        vmax = vmin + 1.0
    cmap = colormaps[cmap_name].with_extremes(bad=(0.0, 0.0, 0.0, 0.0))
    buffer = io.BytesIO()
    imsave(buffer, np.ma.masked_invalid(data), cmap=cmap, vmin=vmin, vmax=vmax, format="png")
    legend = {
        "vmin": vmin if finite.size else None,
        "vmax": vmax if finite.size else None,
        "cmap": cmap_name,
        "width": width,
        "height": height,
    }
    return buffer.getvalue(), legend
