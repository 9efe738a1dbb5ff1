"""Accounts: list, fetch, per-region detail, the item table (JSON or CSV), publish, import.

Published accounts are readable without a token; unpublished ones need a token (viewer or higher).
Money is yuan, areas km².
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from gep.api.audit import record
from gep.api.auth import User
from gep.api.deps import AdminUser, CurrentUser, SessionDep
from gep.api.errors import ERROR_RESPONSES, ApiError
from gep.store import repository as repo
from gep.store.models import Account

router = APIRouter(tags=["accounts"], responses=ERROR_RESPONSES)

CSV_FLOAT_FORMAT = "%.12g"
"""The number format of ``account.csv`` (gep.engine.outputs.FLOAT_FORMAT), so downloads match the file."""


class AccountOut(BaseModel):
    id: int
    name: str
    year: int
    profile: str
    synthetic: bool
    published: bool
    created_at: str | None


class RegionItemOut(BaseModel):
    item: str
    name_zh: str
    name_en: str
    category: str
    physical_quantity: float | None
    physical_unit: str
    value_yuan: float | None


class RegionDetailOut(BaseModel):
    region_code: str
    region_name: str
    level: str
    gep_yuan: float
    material_yuan: float
    regulating_yuan: float
    cultural_yuan: float
    area_km2: float | None
    gep_per_km2_yuan: float | None
    gep_to_gdp: float | None
    items: list[RegionItemOut]


class ImportIn(BaseModel):
    directory: str = Field(description="account folder on the server (written by `gep account` or `gep demo`)")
    published: bool = False


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        name=account.name,
        year=account.year,
        profile=account.profile,
        synthetic=account.synthetic,
        published=account.published,
        created_at=repo.iso(account.created_at),
    )


def visible_account(session: Session, account_id: int, user: User | None) -> Account:
    """The account if the caller may read it: 404 if absent, 401 if unpublished and no token."""
    account = repo.get_account(session, account_id)
    if account is None:
        raise ApiError(404, "api_account_not_found", account_id=account_id)
    if not account.published and user is None:
        raise ApiError(401, "api_auth_required", role="viewer", headers={"WWW-Authenticate": "Bearer"})
    return account


def summary_out(account: Account) -> dict[str, Any]:
    return {
        **account.summary,
        "id": account.id,
        "published": account.published,
        "created_at": repo.iso(account.created_at),
    }


@router.get("/accounts", summary="Accounts, newest first (unpublished ones only with a token)")
def list_accounts(session: SessionDep, user: CurrentUser) -> list[AccountOut]:
    return [account_out(a) for a in repo.list_accounts(session, include_unpublished=user is not None)]


@router.get("/accounts/latest", summary="summary.json of the newest published account, plus its id")
def latest_account(session: SessionDep) -> dict[str, Any]:
    account = repo.latest_account(session, published_only=True)
    if account is None:
        raise ApiError(404, "api_no_published_account")
    return summary_out(account)


@router.get("/accounts/{account_id}", summary="summary.json of an account, plus its id")
def get_account(account_id: int, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return summary_out(visible_account(session, account_id, user))


@router.get(
    "/accounts/{account_id}/regions/{code}",
    summary="One region of an account: GEP, its three parts, per km², GEP/GDP and the item values",
)
def get_account_region(account_id: int, code: str, session: SessionDep, user: CurrentUser) -> RegionDetailOut:
    account = visible_account(session, account_id, user)
    region = repo.account_region(session, account.id, code)
    if region is None:
        known = ", ".join(r.region_code for r in account.regions[:10])
        raise ApiError(404, "api_region_not_found", region=code, account_id=account_id, known=known)
    rows = repo.account_rows(session, account.id, region=code, main_only=True)
    return RegionDetailOut(
        region_code=region.region_code,
        region_name=region.region_name,
        level=region.level,
        gep_yuan=region.gep_yuan,
        material_yuan=region.material_yuan,
        regulating_yuan=region.regulating_yuan,
        cultural_yuan=region.cultural_yuan,
        area_km2=region.area_km2,
        gep_per_km2_yuan=region.gep_per_km2_yuan,
        gep_to_gdp=region.gep_to_gdp,
        items=[
            RegionItemOut(
                item=r.item,
                name_zh=r.item_name_zh,
                name_en=r.item_name_en,
                category=r.category,
                physical_quantity=r.physical_quantity,
                physical_unit=r.physical_unit,
                value_yuan=r.value_yuan,
            )
            for r in rows
        ],
    )


@router.get(
    "/accounts/{account_id}/table",
    summary="The item table (rows of account.csv) as JSON or CSV, filtered by region, item and level",
    responses={200: {"content": {"text/csv": {}}, "description": "JSON rows, or CSV (UTF-8 with BOM)"}},
)
def get_account_table(
    account_id: int,
    session: SessionDep,
    user: CurrentUser,
    format: Literal["json", "csv"] = "json",
    region: str | None = None,
    item: str | None = None,
    level: str | None = None,
) -> Any:
    account = visible_account(session, account_id, user)
    frame = repo.rows_frame(repo.account_rows(session, account.id, region=region, item=item, level=level))
    if format == "csv":
        text = frame.to_csv(index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")
        filename = f"gep-account-{account.id}{'-' + region if region else ''}.csv"
        return Response(
            content=("\ufeff" + text).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return [{k: _json_number(v) for k, v in row.items()} for row in frame.to_dict("records")]


@router.get("/accounts/{account_id}/provenance", summary="provenance.json and the input datasets of an account")
def get_account_provenance(account_id: int, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    account = visible_account(session, account_id, user)
    datasets = [{"role": role, **repo.dataset_dict(d)} for role, d in repo.account_datasets(session, account.id)]
    return {"id": account.id, "provenance": account.provenance, "datasets": datasets}


@router.post("/accounts/{account_id}/publish", summary="Publish an account: readable without a token (admin)")
def publish_account(account_id: int, request: Request, session: SessionDep, user: AdminUser) -> AccountOut:
    return _set_published(account_id, True, request, session, user)


@router.post("/accounts/{account_id}/unpublish", summary="Withdraw an account from public view (admin)")
def unpublish_account(account_id: int, request: Request, session: SessionDep, user: AdminUser) -> AccountOut:
    return _set_published(account_id, False, request, session, user)


def _set_published(account_id: int, published: bool, request: Request, session: Session, user: User) -> AccountOut:
    account = repo.get_account(session, account_id)
    if account is None:
        raise ApiError(404, "api_account_not_found", account_id=account_id)
    repo.set_published(session, account, published)
    record(
        session,
        user,
        "account.publish" if published else "account.unpublish",
        f"account:{account.id}",
        {"name": account.name, "year": account.year},
        request,
    )
    session.commit()
    return account_out(account)


@router.post("/accounts/import", status_code=201, summary="Import an account folder on the server (admin)")
def import_account(body: ImportIn, request: Request, session: SessionDep, user: AdminUser) -> AccountOut:
    directory = Path(body.directory).expanduser()
    if not (directory / "account.csv").is_file():
        raise ApiError(
            422, "api_validation", reason=f"{directory}: no account.csv; expected a folder written by `gep account`"
        )
    account = repo.import_account(session, directory, published=body.published)
    record(session, user, "account.import", f"account:{account.id}", {"directory": str(directory)}, request)
    session.commit()
    return account_out(account)


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _json_number(value.item())
    return value
