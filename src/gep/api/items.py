"""``GET /items``: the ecological product catalogue (物质产品 / 调节服务 / 文化服务)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from gep.api.errors import ApiError
from gep.catalog import load_catalog
from gep.catalog.render import item_record

router = APIRouter(tags=["catalogue"])


@router.get("/items", summary="Catalogue items; name, unit and valuation in the language asked for")
def get_items(lang: Literal["zh", "en"] = "zh", profile: str | None = None) -> list[dict[str, Any]]:
    catalog = load_catalog()
    if profile is not None:
        known = [p.id for p in catalog.profiles]
        if profile not in known:
            raise ApiError(422, "api_bad_choice", field="profile", value=profile, expected=", ".join(known))
        items = catalog.items_for_profile(profile)
    else:
        items = catalog.items
    return [
        {
            **item_record(item),
            "name": item.name(lang),
            "unit_label": item.unit_label(lang),
            "valuation_label": item.valuation_label(lang),
            "category_label": catalog.category_label(item.category, lang),
            "description": item.description_zh if lang == "zh" else item.description_en,
        }
        for item in items
    ]
