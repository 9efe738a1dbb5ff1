"""``GET /regions`` and ``GET /regions.geojson``: the region tree stored at account import."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from gep.api.deps import SessionDep
from gep.store.repository import list_regions, region_dict, regions_feature_collection

router = APIRouter(tags=["regions"])


class RegionOut(BaseModel):
    code: str
    name: str
    name_en: str
    level: str
    parent: str | None
    area_km2: float | None


@router.get("/regions", summary="Regions (code, names, level, parent, area in km²)")
def get_regions(session: SessionDep) -> list[RegionOut]:
    return [RegionOut(**region_dict(r)) for r in list_regions(session)]


@router.get(
    "/regions.geojson",
    summary="Region boundaries as a GeoJSON FeatureCollection in EPSG:4326",
    response_description="FeatureCollection; properties as in GET /regions",
)
def get_regions_geojson(session: SessionDep) -> dict[str, Any]:
    return regions_feature_collection(session)
