"""Put accounts into the store and read them back.

:func:`import_account` reads an account folder with :meth:`gep.account.Account.load` and stores its
summary (one row per region), every row of ``account.csv``, the map files with their lon/lat extent,
and its provenance (the input files as datasets with SHA-256, CRS and unit). Region boundaries are
stored once per code as GeoJSON in EPSG:4326, read from the account's spec (or a GeoJSON given at
import). The readers below return model objects; the API turns them into JSON.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from gep.account import ACCOUNT_COLUMNS
from gep.account import Account as AccountFiles
from gep.store import models
from gep.store.models import Account, AccountMap, AccountRegion, AccountRow, Dataset, Region

NUMERIC_COLUMNS = ("physical_quantity", "value_yuan")
SUMMARY_FIELDS = (
    "area_km2",
    "gep_yuan",
    "material_yuan",
    "regulating_yuan",
    "cultural_yuan",
    "gep_per_km2_yuan",
    "gdp_yuan",
    "gep_to_gdp",
    "population",
    "gep_per_capita_yuan",
)
MAP_KINDS = ("value", "physical")
DENSITY_ITEM = "gep_density"


# ---------------------------------------------------------------------------------------------- import


def import_account(
    session: Session,
    directory: str | Path,
    *,
    published: bool = False,
    name: str | None = None,
    regions_geojson: str | Path | None = None,
) -> Account:
    """Store the account in ``directory`` (a folder written by ``gep account`` or ``gep demo``).

    Args:
        published: whether readers without a token may see it.
        name: overrides the account name from ``summary.json``.
        regions_geojson: region boundaries to store instead of those named by the account's spec
            (fields code, name, level, parent).

    Returns the new :class:`~gep.store.models.Account` (flushed, not committed).
    """
    directory = Path(directory).resolve()
    files = AccountFiles.load(directory)
    summary = files.summary
    now = datetime.now(UTC)
    account = Account(
        name=name or str(summary.get("name", directory.name)),
        year=files.year,
        profile=files.profile,
        synthetic=files.synthetic,
        published=published,
        published_at=now if published else None,
        directory=str(directory),
        gep_version=str(summary.get("gep_version", "")),
        summary=summary,
        provenance=files.provenance,
        created_at=now,
    )
    session.add(account)
    session.flush()
    _store_summary(session, account, files.regions())
    _store_rows(session, account, files.table)
    _store_maps(session, account, directory / "maps")
    spec = _account_spec(files)
    _store_datasets(session, account, files.provenance, spec)
    _store_regions(session, directory, spec, regions_geojson)
    session.flush()
    return account


def _store_summary(session: Session, account: Account, regions: Sequence[dict]) -> None:
    rows = []
    for position, region in enumerate(regions):
        row = {
            "account_id": account.id,
            "position": position,
            "region_code": str(region["region_code"]),
            "region_name": str(region.get("region_name", "")),
            "level": str(region.get("level", "")),
        }
        for field in SUMMARY_FIELDS:
            row[field] = _number(region.get(field))
        for field in ("gep_yuan", "material_yuan", "regulating_yuan", "cultural_yuan"):
            row[field] = row[field] or 0.0
        rows.append(row)
    if rows:
        session.execute(insert(AccountRegion), rows)


def _store_rows(session: Session, account: Account, table: pd.DataFrame) -> None:
    records = []
    for position, record in enumerate(table.to_dict("records")):
        row = {column: record.get(column, "") for column in ACCOUNT_COLUMNS}
        row["year"] = int(row["year"])
        for column in ACCOUNT_COLUMNS:
            if column in NUMERIC_COLUMNS:
                row[column] = _number(row[column])
            elif column != "year":
                row[column] = "" if row[column] is None else str(row[column])
        records.append({"account_id": account.id, "position": position, **row})
    if records:
        session.execute(insert(AccountRow), records)


def _store_maps(session: Session, account: Account, maps_dir: Path) -> None:
    if not maps_dir.is_dir():
        return
    for path in sorted(maps_dir.glob("*.tif")):
        item, kind = parse_map_name(path.name)
        if item is None:
            continue
        west, south, east, north = map_bounds_lonlat(path)
        session.add(
            AccountMap(
                account_id=account.id,
                item=item,
                kind=kind,
                path=str(path),
                west=west,
                south=south,
                east=east,
                north=north,
            )
        )


def parse_map_name(filename: str) -> tuple[str | None, str]:
    """(item, kind) of a map file name: ``water_conservation_value.tif`` -> (water_conservation, value);
    ``gep_density.tif`` -> (gep_density, value); anything else -> (None, "")."""
    stem = filename.removesuffix(".tif")
    if stem == DENSITY_ITEM:
        return DENSITY_ITEM, "value"
    for kind in MAP_KINDS:
        if stem.endswith(f"_{kind}"):
            return stem.removesuffix(f"_{kind}"), kind
    return None, ""


def map_bounds_lonlat(path: Path) -> tuple[float, float, float, float]:
    """The extent of a raster in EPSG:4326: (west, south, east, north) in degrees."""
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as src:
        if src.crs is None:
            raise ValueError(f"{path}: the map has no coordinate reference system; expected the account grid CRS")
        return tuple(float(v) for v in transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21))


def _account_spec(files: AccountFiles) -> dict[str, Any] | None:
    """The raw spec the account was computed from: the provenance's spec path, else ``spec.toml`` in
    the account folder; None if neither can be read. Relative paths are resolved against its folder."""
    candidates = []
    spec_input = files.provenance.get("inputs", {}).get("spec", {})
    if spec_input.get("path"):
        candidates.append(Path(spec_input["path"]))
    candidates.append(files.directory / "spec.toml")
    for path in candidates:
        if path.is_file():
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            raw["_base_dir"] = str(path.resolve().parent)
            return raw
    return None


def _store_datasets(
    session: Session, account: Account, provenance: dict[str, Any], spec: dict[str, Any] | None
) -> None:
    layers = (spec or {}).get("layers", {})
    for role, info in sorted(provenance.get("inputs", {}).items()):
        path = str(info.get("path", ""))
        sha = info.get("sha256")
        kind, _, name = role.partition(".")
        kind = kind.split("[")[0]
        dataset = None
        if sha:
            dataset = session.scalars(select(Dataset).where(Dataset.sha256 == sha, Dataset.path == path)).first()
        if dataset is None:
            meta = file_metadata(Path(path))
            unit = layers.get(name, {}).get("unit") if kind == "layers" else None
            dataset = Dataset(
                name=name or kind,
                kind=kind.removesuffix("s") if kind in ("layers", "tables") else kind,
                path=path,
                sha256=sha,
                source=meta.get("source", ""),
                year=meta.get("year") or account.year,
                unit=unit or meta.get("unit", ""),
                crs=meta.get("crs", ""),
                licence=meta.get("licence", ""),
                synthetic=bool(info.get("synthetic")),
            )
            session.add(dataset)
            session.flush()
        session.add(models.AccountDataset(account_id=account.id, dataset_id=dataset.id, role=role))


def file_metadata(path: Path) -> dict[str, Any]:
    """What a file says about itself: CRS of a raster or vector, and the SOURCE, YEAR, UNIT and
    LICENCE tags of a GeoTIFF when present. Unreadable or missing files give an empty mapping."""
    if not path.is_file():
        return {}
    suffix = path.suffix.lower()
    try:
        if suffix in (".tif", ".tiff"):
            import rasterio

            with rasterio.open(path) as src:
                tags = {k.upper(): v for k, v in src.tags().items()}
                year = tags.get("YEAR", "")
                return {
                    "crs": src.crs.to_string() if src.crs else "",
                    "source": tags.get("SOURCE", ""),
                    "year": int(year) if year.isdigit() else None,
                    "unit": tags.get("UNIT", ""),
                    "licence": tags.get("LICENCE", tags.get("LICENSE", "")),
                }
        if suffix in (".geojson", ".json", ".gpkg", ".shp", ".fgb"):
            import pyogrio

            crs = pyogrio.read_info(path).get("crs")
            return {"crs": crs or ""}
    except Exception:  # metadata is a courtesy: a file the engine could read but we cannot describe
        return {}
    return {}


def _store_regions(
    session: Session, directory: Path, spec: dict[str, Any] | None, regions_geojson: str | Path | None
) -> None:
    records_path = directory / "regions.json"
    records = json.loads(records_path.read_text(encoding="utf-8")) if records_path.is_file() else []
    geometries = _region_geometries(spec, regions_geojson)
    for record in records:
        code = str(record["code"])
        region = session.scalars(select(Region).where(Region.code == code)).first()
        if region is None:
            region = Region(code=code)
            session.add(region)
        region.name = str(record.get("name", ""))
        region.name_en = str(record.get("name_en") or "")
        region.level = str(record.get("level", ""))
        region.parent = None if record.get("parent") in (None, "") else str(record["parent"])
        region.area_km2 = _number(record.get("area_km2"))
        if code in geometries:
            region.geometry_geojson = geometries[code]


def _region_geometries(spec: dict[str, Any] | None, regions_geojson: str | Path | None) -> dict[str, str]:
    """code -> GeoJSON geometry text in EPSG:4326 (coordinates rounded to 1e-6 degree, about 0.1 m)."""
    from shapely.geometry import mapping

    from gep.regions import read_regions

    if regions_geojson is not None:
        regions, _ = read_regions(Path(regions_geojson))
    elif spec is not None and "regions" in spec:
        section = spec["regions"]
        path = Path(section["path"]).expanduser()
        if not path.is_absolute():
            path = Path(spec["_base_dir"]) / path
        regions, _ = read_regions(
            path,
            code_field=section.get("code_field", "code"),
            name_field=section.get("name_field", "name"),
            level_field=section.get("level_field", "level"),
            parent_field=section.get("parent_field", "parent"),
            name_en_field=section.get("name_en_field"),
            layer=section.get("layer"),
        )
    else:
        return {}
    if regions is None:
        return {}
    lonlat = regions.to_crs("EPSG:4326")
    return {r.code: json.dumps(_rounded(mapping(r.geometry)), separators=(",", ":")) for r in lonlat.regions}


def _rounded(value: Any, digits: int = 6) -> Any:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    return value


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


# ---------------------------------------------------------------------------------------------- read


def list_accounts(session: Session, *, include_unpublished: bool = False) -> list[Account]:
    """Accounts, newest first; only published ones unless ``include_unpublished``."""
    query = select(Account).order_by(Account.created_at.desc(), Account.id.desc())
    if not include_unpublished:
        query = query.where(Account.published.is_(True))
    return list(session.scalars(query))


def get_account(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def latest_account(session: Session, *, published_only: bool = True) -> Account | None:
    """The newest account (by year, then import time), published only by default."""
    query = select(Account).order_by(Account.year.desc(), Account.created_at.desc(), Account.id.desc())
    if published_only:
        query = query.where(Account.published.is_(True))
    return session.scalars(query.limit(1)).first()


def account_rows(
    session: Session,
    account_id: int,
    *,
    region: str | None = None,
    item: str | None = None,
    level: str | None = None,
    main_only: bool = False,
) -> list[AccountRow]:
    """Rows of the item table in ``account.csv`` order, filtered by region code, item and level."""
    query = select(AccountRow).where(AccountRow.account_id == account_id)
    if region is not None:
        query = query.where(AccountRow.region_code == region)
    if item is not None:
        query = query.where(AccountRow.item == item)
    if level is not None:
        query = query.where(AccountRow.level == level)
    if main_only:
        query = query.where(AccountRow.component == "")
    return list(session.scalars(query.order_by(AccountRow.position)))


def rows_frame(rows: Iterable[AccountRow]) -> pd.DataFrame:
    """Item rows as a DataFrame with the columns and dtypes of ``account.csv``."""
    frame = pd.DataFrame([{c: getattr(r, c) for c in ACCOUNT_COLUMNS} for r in rows], columns=list(ACCOUNT_COLUMNS))
    for column in NUMERIC_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["year"] = frame["year"].astype("int64")
    return frame


def account_region(session: Session, account_id: int, code: str) -> AccountRegion | None:
    query = select(AccountRegion).where(AccountRegion.account_id == account_id, AccountRegion.region_code == code)
    return session.scalars(query).first()


def account_maps(session: Session, account_id: int) -> list[AccountMap]:
    query = select(AccountMap).where(AccountMap.account_id == account_id).order_by(AccountMap.item, AccountMap.kind)
    return list(session.scalars(query))


def account_map(session: Session, account_id: int, item: str, kind: str) -> AccountMap | None:
    if item == DENSITY_ITEM:
        kind = "value"
    query = select(AccountMap).where(
        AccountMap.account_id == account_id, AccountMap.item == item, AccountMap.kind == kind
    )
    return session.scalars(query).first()


def set_published(session: Session, account: Account, published: bool = True) -> Account:
    account.published = published
    account.published_at = datetime.now(UTC) if published else None
    session.flush()
    return account


def delete_account(session: Session, account_id: int) -> None:
    session.execute(delete(Account).where(Account.id == account_id))


def list_regions(session: Session) -> list[Region]:
    """Regions ordered by code."""
    return list(session.scalars(select(Region).order_by(Region.code)))


def region_dict(region: Region) -> dict[str, Any]:
    return {
        "code": region.code,
        "name": region.name,
        "name_en": region.name_en,
        "level": region.level,
        "parent": region.parent,
        "area_km2": region.area_km2,
    }


def regions_feature_collection(session: Session) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326) of the stored regions that have a geometry."""
    features = [
        {"type": "Feature", "id": r.code, "properties": region_dict(r), "geometry": json.loads(r.geometry_geojson)}
        for r in list_regions(session)
        if r.geometry_geojson
    ]
    return {"type": "FeatureCollection", "features": features}


def account_datasets(session: Session, account_id: int) -> list[tuple[str, Dataset]]:
    query = (
        select(models.AccountDataset)
        .where(models.AccountDataset.account_id == account_id)
        .order_by(models.AccountDataset.role)
    )
    return [(link.role, link.dataset) for link in session.scalars(query)]


def dataset_dict(dataset: Dataset) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "kind": dataset.kind,
        "path": dataset.path,
        "sha256": dataset.sha256,
        "source": dataset.source,
        "year": dataset.year,
        "unit": dataset.unit,
        "crs": dataset.crs,
        "licence": dataset.licence,
        "synthetic": dataset.synthetic,
    }


def add_dataset(session: Session, **fields: Any) -> Dataset:
    dataset = Dataset(**fields)
    session.add(dataset)
    session.flush()
    return dataset


# ---------------------------------------------------------------------------------------------- indicators


def save_indicator_series(
    session: Session,
    *,
    code: str,
    region_code: str,
    values: Iterable[dict[str, Any]],
    name_zh: str = "",
    name_en: str = "",
    unit: str = "",
    source: str = "",
) -> models.IndicatorSeries:
    """Create or replace the series (code, region): its values are replaced by ``values``, each
    ``{kind: observed|target|forecast, year, value, lower?, upper?, method?}``."""
    series = session.scalars(
        select(models.IndicatorSeries).where(
            models.IndicatorSeries.code == code, models.IndicatorSeries.region_code == region_code
        )
    ).first()
    if series is None:
        series = models.IndicatorSeries(code=code, region_code=region_code)
        session.add(series)
    series.name_zh, series.name_en, series.unit, series.source = name_zh, name_en, unit, source
    series.values.clear()
    session.flush()
    for v in values:
        series.values.append(
            models.IndicatorValue(
                kind=v.get("kind", "observed"),
                year=int(v["year"]),
                value=float(v["value"]),
                lower=_number(v.get("lower")),
                upper=_number(v.get("upper")),
                method=str(v.get("method", "")),
            )
        )
    session.flush()
    return series


def list_indicators(
    session: Session, *, code: str | None = None, region: str | None = None
) -> list[models.IndicatorSeries]:
    query = select(models.IndicatorSeries).order_by(models.IndicatorSeries.code, models.IndicatorSeries.region_code)
    if code is not None:
        query = query.where(models.IndicatorSeries.code == code)
    if region is not None:
        query = query.where(models.IndicatorSeries.region_code == region)
    return list(session.scalars(query))


def indicator_dict(series: models.IndicatorSeries) -> dict[str, Any]:
    """A series as JSON: observed values, targets and forecasts (with intervals), each by year."""

    def points(kind: str) -> list[dict[str, Any]]:
        out = []
        for v in series.values:
            if v.kind != kind:
                continue
            point: dict[str, Any] = {"year": v.year, "value": v.value}
            if kind == "forecast":
                point.update(lower=v.lower, upper=v.upper, method=v.method)
            out.append(point)
        return out

    return {
        "id": series.id,
        "code": series.code,
        "region_code": series.region_code,
        "name_zh": series.name_zh,
        "name_en": series.name_en,
        "unit": series.unit,
        "source": series.source,
        "observed": points("observed"),
        "targets": points("target"),
        "forecast": points("forecast"),
    }


# ---------------------------------------------------------------------------------------------- evaluations


def add_evaluation(session: Session, **fields: Any) -> models.Evaluation:
    evaluation = models.Evaluation(**fields)
    session.add(evaluation)
    session.flush()
    return evaluation


def list_evaluations(
    session: Session, *, region: str | None = None, year: int | None = None
) -> list[models.Evaluation]:
    query = select(models.Evaluation).order_by(models.Evaluation.year.desc(), models.Evaluation.region_code)
    if region is not None:
        query = query.where(models.Evaluation.region_code == region)
    if year is not None:
        query = query.where(models.Evaluation.year == year)
    return list(session.scalars(query))


def evaluation_dict(evaluation: models.Evaluation) -> dict[str, Any]:
    return {
        "id": evaluation.id,
        "region_code": evaluation.region_code,
        "year": evaluation.year,
        "method": evaluation.method,
        "score": evaluation.score,
        "grade": evaluation.grade,
        "account_id": evaluation.account_id,
        "details": evaluation.details,
        "created_at": iso(evaluation.created_at),
    }


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive datetimes, which the store always writes in UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")
