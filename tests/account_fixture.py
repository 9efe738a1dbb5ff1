"""A tiny but complete account on disk: a city of two 1 km × 1 km counties on a 100 m grid.

Values are round numbers so expected results can be worked out by hand. Tests change one thing
(a file, a value, a spec line) and check the problem it causes.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import tomli_w
from affine import Affine
from shapely.geometry import box

X0, Y0 = 500000.0, 3100000.0  # top-left corner, EPSG:4549 metres
RES = 100.0
ROWS, COLS = 10, 20  # county A = columns 0-9, county B = columns 10-19
TRANSFORM = Affine(RES, 0, X0, 0, -RES, Y0)
FOREST, WATER = 1, 2

CLASS_TABLE = {
    "class": [FOREST, WATER],
    "name_zh": ["森林", "水体"],
    "name_en": ["forest", "water"],
    "ecosystem": ["forest", "water"],
    "runoff_coefficient": [0.03, 0.0],
    "storm_runoff_coefficient": [0.2, 1.0],
    "usle_c": [0.01, 0.0],
    "usle_p": [1.0, 1.0],
    "transpiration_heat": [1000.0, 0.0],
    "carbon_rate": [2.0, 0.0],
    "cod_capacity": [0.0, 1.0],
    "nh3n_capacity": [0.0, 0.1],
    "tp_capacity": [0.0, 0.01],
    "so2_capacity": [0.1, 0.0],
    "nox_capacity": [0.05, 0.0],
    "dust_capacity": [10.0, 0.0],
    "pest_control_share": [1.0, 0.0],
    "canopy_height": [15.0, 0.0],
    "ion_lifetime": [10.0, 10.0],
    "source": ["test fixture"] * 2,
}

LAYERS = {
    # name: (unit, value)
    "dem": ("m", None),
    "precipitation": ("mm/a", 1500.0),
    "evapotranspiration": ("mm/a", 800.0),
    "rainfall_erosivity": ("MJ·mm/(hm²·h·a)", 5000.0),
    "soil_erodibility": ("t·hm²·h/(hm²·MJ·mm)", 0.03),
    "npp": ("g C/(m²·a)", 600.0),
    "nep": ("g C/(m²·a)", 200.0),
    "storm_rainfall": ("mm", 300.0),
    "water_evaporation": ("mm/a", 900.0),
    "hot_days": ("d/a", 60.0),
    "negative_ions": ("ions/cm³", 1600.0),
}


def write_raster(
    path: Path, data: np.ndarray, *, transform: Affine = TRANSFORM, crs: str | None = "EPSG:4549", nodata=None
) -> Path:
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": str(data.dtype),
        "transform": transform,
        "nodata": nodata,
    }
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def landcover() -> np.ndarray:
    lc = np.full((ROWS, COLS), FOREST, dtype=np.uint8)
    lc[4:6, 14:16] = WATER  # a 2 x 2 pond in county B
    return lc


def dem() -> np.ndarray:
    cols = np.arange(COLS, dtype=np.float32)
    rows = np.arange(ROWS, dtype=np.float32)[:, None]
    return (100.0 + 5.0 * cols + 2.0 * rows).astype(np.float32)  # a tilted plane, always draining


def build(directory: Path) -> Path:
    """Write the fixture into ``directory``; returns the spec path."""
    directory.mkdir(parents=True, exist_ok=True)
    regions = gpd.GeoDataFrame(
        {
            "code": ["C", "A", "B"],
            "name": ["城市", "甲县", "乙县"],
            "level": ["city", "county", "county"],
            "parent": [None, "C", "C"],
        },
        geometry=[
            box(X0, Y0 - ROWS * RES, X0 + COLS * RES, Y0),
            box(X0, Y0 - ROWS * RES, X0 + 10 * RES, Y0),
            box(X0 + 10 * RES, Y0 - ROWS * RES, X0 + COLS * RES, Y0),
        ],
        crs="EPSG:4549",
    )
    regions.to_file(directory / "regions.gpkg", driver="GPKG")
    layers = {}
    for name, (unit, value) in LAYERS.items():
        data = dem() if value is None else np.full((ROWS, COLS), value, dtype=np.float32)
        write_raster(directory / f"{name}.tif", data)
        layers[name] = {"path": f"{name}.tif", "unit": unit}
    write_raster(directory / "landcover.tif", landcover(), nodata=255)
    layers["landcover"] = {"path": "landcover.tif"}
    pd.DataFrame(CLASS_TABLE).to_csv(directory / "landcover_params.csv", index=False)
    pd.DataFrame(
        {
            "region_code": ["A", "B"] * 3,
            "pollutant": ["so2", "so2", "nox", "nox", "dust", "dust"],
            "load_t": [1.0, 100.0, 1.0, 100.0, 1.0, 1e6],
        }
    ).to_csv(directory / "pollutant_loads.csv", index=False)
    spec = {
        "account": {
            "name": "fixture",
            "year": 2020,
            "profile": "zj_db33_2274_2020",
            "crs": "EPSG:4549",
            "resolution": RES,
            "output": "out",
        },
        "regions": {"path": "regions.gpkg"},
        "layers": layers,
        "tables": {
            "landcover_params": {"path": "landcover_params.csv"},
            "pollutant_loads": {"path": "pollutant_loads.csv"},
        },
    }
    path = directory / "spec.toml"
    path.write_text(tomli_w.dumps(spec), encoding="utf-8")
    return path


def edit_spec(path: Path, change) -> Path:
    """Apply ``change(dict)`` to the spec file in place."""
    import tomllib

    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return path
