"""Evaluations of regions (county assessments and the like): list them, analysts add them (audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gep.api.audit import record
from gep.api.deps import AnalystUser, SessionDep
from gep.api.errors import ERROR_RESPONSES, ApiError
from gep.store import repository as repo

router = APIRouter(tags=["evaluations"], responses=ERROR_RESPONSES)


class EvaluationIn(BaseModel):
    region_code: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=1900, le=2200)
    method: str = Field(min_length=1, max_length=64)
    score: float | None = None
    grade: str = ""
    account_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)


@router.get("/evaluations", summary="Evaluations, newest year first")
def list_evaluations(session: SessionDep, region: str | None = None, year: int | None = None) -> list[dict[str, Any]]:
    return [repo.evaluation_dict(e) for e in repo.list_evaluations(session, region=region, year=year)]


@router.post("/evaluations", status_code=201, summary="Add an evaluation (analyst)")
def add_evaluation(body: EvaluationIn, request: Request, session: SessionDep, user: AnalystUser) -> dict[str, Any]:
    if body.account_id is not None and repo.get_account(session, body.account_id) is None:
        raise ApiError(404, "api_account_not_found", account_id=body.account_id)
    evaluation = repo.add_evaluation(session, **body.model_dump())
    record(session, user, "evaluation.add", f"evaluation:{evaluation.id}", body.model_dump(), request)
    session.commit()
    return repo.evaluation_dict(evaluation)
