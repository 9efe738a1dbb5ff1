"""Indicator series (observed values, targets, forecasts with intervals), read from the store.

``GET /indicators`` is public: indicators are published figures. Analysts add or replace a series
with ``POST /indicators`` (audited); the analytics module fills the store the same way.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gep.api.audit import record
from gep.api.deps import AnalystUser, SessionDep
from gep.api.errors import ERROR_RESPONSES
from gep.store import repository as repo

router = APIRouter(tags=["indicators"], responses=ERROR_RESPONSES)


class IndicatorPointIn(BaseModel):
    kind: Literal["observed", "target", "forecast"] = "observed"
    year: int = Field(ge=1900, le=2200)
    value: float
    lower: float | None = None
    upper: float | None = None
    method: str = ""


class IndicatorSeriesIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="indicator code, e.g. gep_yuan or gep_to_gdp")
    region_code: str = Field(min_length=1, max_length=64)
    name_zh: str = ""
    name_en: str = ""
    unit: str = ""
    source: str = ""
    values: list[IndicatorPointIn]


@router.get("/indicators", summary="Indicator series with observed values, targets and forecasts")
def list_indicators(session: SessionDep, code: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
    return [repo.indicator_dict(s) for s in repo.list_indicators(session, code=code, region=region)]


@router.post("/indicators", status_code=201, summary="Add or replace an indicator series (analyst)")
def save_indicator(body: IndicatorSeriesIn, request: Request, session: SessionDep, user: AnalystUser) -> dict[str, Any]:
    series = repo.save_indicator_series(
        session,
        code=body.code,
        region_code=body.region_code,
        name_zh=body.name_zh,
        name_en=body.name_en,
        unit=body.unit,
        source=body.source,
        values=[v.model_dump() for v in body.values],
    )
    record(
        session,
        user,
        "indicator.save",
        f"indicator:{body.code}:{body.region_code}",
        {"values": len(body.values)},
        request,
    )
    session.commit()
    return repo.indicator_dict(series)
