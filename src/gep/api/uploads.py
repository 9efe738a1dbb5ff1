"""``POST /uploads``: receive an input file, check it, keep it as a dataset when it passes.

The file is streamed to a temporary path and checked as what ``layer`` names: a raster layer of the
catalogue (it opens as a raster, has a CRS, its values lie in the layer's valid range; the unit, if
given, is the layer's) or a table gep reads (it opens, with columns). The answer lists every
problem as ``{severity, code, source, field, message_zh, message_en, params}``
(:meth:`gep.problems.Problem.to_dict`) and ``ok`` (no errors). A file without errors is kept under
``<data dir>/uploads/<sha256>/`` and recorded as a dataset with its metadata; every upload is in the
audit log, accepted or not.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, File, Form, Request, UploadFile

from gep.api.audit import record
from gep.api.deps import AnalystUser, SessionDep, SettingsDep
from gep.api.errors import ERROR_RESPONSES, ApiError
from gep.i18n import Text
from gep.problems import Problem, error, has_errors, warning
from gep.store import repository as repo

router = APIRouter(tags=["uploads"], responses=ERROR_RESPONSES)

CHUNK = 1 << 20
CLASS_TABLE = "landcover_params"


def known_tables() -> tuple[str, ...]:
    """Table names gep reads: the class table and every table a service declares."""
    from gep.services.registry import services

    names = {CLASS_TABLE, "statistics"}
    names |= {t.name for s in services().values() for t in s.declaration.tables}
    return tuple(sorted(names))


def input_layers() -> dict[str, Any]:
    """Raster layers a user supplies (derived layers such as ls_factor are computed, not uploaded)."""
    from gep.catalog import load_catalog

    return {layer.name: layer for layer in load_catalog().layers if not layer.derived}


def check_raster(path: Path, source: str, name: str, layer: Any, unit: str | None = None) -> list[Problem]:
    """Problems of a raster upload for catalogue layer ``layer``: unreadable file, no CRS, values
    outside [layer.min, layer.max] (below: error; above: warning), no valid pixel, unit mismatch."""
    import rasterio
    from rasterio.errors import RasterioIOError

    from gep.inputs.units import same_unit

    problems: list[Problem] = []
    categorical = layer.kind == "categorical"
    if unit and not categorical and not same_unit(unit, layer.unit):
        problems.append(error("spec_unit_mismatch", source, name, value=unit, expected=layer.unit))
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        what = Text("栅格（GeoTIFF）", "raster (GeoTIFF)")
        return [*problems, error("file_unreadable", source, name, what=what, reason=str(exc))]
    with src:
        if src.crs is None:
            problems.append(error("raster_no_crs", source, name))
        if categorical:
            return problems
        nodata = src.nodata
        low_count = high_count = valid = 0
        lowest, highest = np.inf, -np.inf
        for _, window in src.block_windows(1):
            block = src.read(1, window=window).astype(np.float64)
            keep = np.isfinite(block)
            if nodata is not None and not np.isnan(nodata):
                keep &= block != nodata
            values = block[keep]
            if not values.size:
                continue
            valid += values.size
            lowest, highest = min(lowest, float(values.min())), max(highest, float(values.max()))
            if layer.min is not None:
                low_count += int((values < layer.min).sum())
            if layer.max is not None:
                high_count += int((values > layer.max).sum())
    if valid == 0:
        problems.append(error("api_upload_band_empty", source, name))
    if low_count:
        problems.append(error("raster_below_min", source, name, count=low_count, expected=layer.min, value=lowest))
    if high_count:
        problems.append(warning("raster_above_max", source, name, count=high_count, expected=layer.max, value=highest))
    return problems


def check_table(path: Path, source: str, name: str) -> list[Problem]:
    """Problems of a table upload: it must open as CSV or Excel (:func:`gep.inputs.tables.read_table`)."""
    from gep.inputs.tables import read_table

    _frame, problems = read_table(path)
    return [Problem(p.severity, p.code, source, p.field or name, p.params) for p in problems]


def validate_upload(path: Path, filename: str, name: str, unit: str | None = None) -> list[Problem]:
    """Check an uploaded file as layer or table ``name``; problems name ``filename`` as their source."""
    layers = input_layers()
    if name in layers:
        return check_raster(path, filename, name, layers[name], unit)
    tables = known_tables()
    if name in tables:
        return check_table(path, filename, name)
    return [
        error(
            "api_upload_unknown_name",
            filename,
            "layer",
            value=name,
            layers=", ".join(sorted(layers)),
            tables=", ".join(tables),
        )
    ]


@router.post("/uploads", summary="Upload an input file and check it (analyst); problems come back as JSON")
def upload(
    request: Request,
    session: SessionDep,
    user: AnalystUser,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="GeoTIFF for a layer, CSV or XLSX for a table")],
    layer: Annotated[str, Form(description="layer or table name, e.g. precipitation or reservoirs")],
    unit: Annotated[str | None, Form(description="unit of the layer's values, checked against the catalogue")] = None,
    source: Annotated[str, Form(description="where the data come from")] = "",
    year: Annotated[int | None, Form(description="year the data describe")] = None,
    licence: Annotated[str, Form(description="licence of the data")] = "",
) -> dict[str, Any]:
    filename = Path(file.filename or "upload").name
    uploads = settings.data_path / "uploads"
    staging_dir = uploads / ".staging"
    staging_dir.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=staging_dir, suffix=Path(filename).suffix.lower())
    tmp = Path(tmp_name)
    limit = int(settings.max_upload_mb * 1024 * 1024)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := file.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, "api_upload_too_large", limit_mb=f"{settings.max_upload_mb:g}")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ApiError(422, "api_upload_empty", filename=filename)
        problems = validate_upload(tmp, filename, layer, unit)
        ok = not has_errors(problems)
        sha = digest.hexdigest()
        dataset = None
        if ok:
            folder = uploads / sha
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / filename
            shutil.move(tmp, target)
            meta = repo.file_metadata(target)
            layers = input_layers()
            dataset = repo.add_dataset(
                session,
                name=layer,
                kind="layer" if layer in layers else "table",
                path=str(target),
                sha256=sha,
                source=source or meta.get("source", ""),
                year=year if year is not None else meta.get("year"),
                unit=unit or (layers[layer].unit if layer in layers else ""),
                crs=meta.get("crs", ""),
                licence=licence or meta.get("licence", ""),
                synthetic=False,
            )
        record(
            session,
            user,
            "upload",
            f"file:{filename}",
            {
                "layer": layer,
                "sha256": sha,
                "bytes": size,
                "ok": ok,
                "errors": sum(p.severity == "error" for p in problems),
                "dataset_id": dataset.id if dataset else None,
            },
            request,
        )
        session.commit()
        return {
            "ok": ok,
            "problems": [p.to_dict() for p in problems],
            "dataset": repo.dataset_dict(dataset) if dataset else None,
        }
    finally:
        file.file.close()
        tmp.unlink(missing_ok=True)
