"""Render the ecological product catalogue as a text table (zh or en) or as JSON (``gep catalog``)."""

from __future__ import annotations

import io
import json
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gep.catalog import Catalog, Item, load_catalog
from gep.i18n import check_lang, message
from gep.problems import error

FORMATS: tuple[str, ...] = ("table", "json")


def item_record(item: Item) -> dict[str, Any]:
    """One item as a JSON-ready dict (``seea_code`` is None when the item is not in SEEA EA)."""
    return {
        "id": item.id,
        "category": item.category,
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "unit": item.unit,
        "unit_zh": item.unit_zh,
        "unit_en": item.unit_en,
        "valuation": item.valuation,
        "valuation_zh": item.valuation_zh,
        "valuation_en": item.valuation_en,
        "seea_code": item.seea_code,
        "seea_codes": list(item.seea_codes),
        "in_seea": item.in_seea,
        "seea_note": item.seea_note,
        "description_zh": item.description_zh,
        "description_en": item.description_en,
        "provenance": item.provenance,
        "provenance_source": item.provenance_source,
        "profiles": list(item.profiles),
    }


def render_catalog(lang: str = "zh", profile: str | None = None, fmt: str = "table", width: int = 140) -> str:
    """The catalogue (or one profile's items) as a plain-text table in ``lang`` or as a JSON array.

    Raises ValueError naming the valid choices for an unknown ``lang``, ``profile`` or ``fmt``.
    """
    lang = check_lang(lang)
    if fmt not in FORMATS:
        problem = error("catalog_unknown_format", "gep catalog", "format", value=fmt, known=", ".join(FORMATS))
        raise ValueError(problem.render("en"))
    catalog = load_catalog()
    items = catalog.items if profile is None else catalog.items_for_profile(profile)
    if fmt == "json":
        return json.dumps([item_record(item) for item in items], ensure_ascii=False, indent=2)
    return _table(catalog, items, lang, profile, width)


def _table(catalog: Catalog, items: tuple[Item, ...], lang: str, profile: str | None, width: int) -> str:
    if profile is None:
        title = message("catalog_title", lang)
    else:
        title = message("catalog_title_profile", lang, title=catalog.profile(profile).title(lang), profile=profile)
    table = Table(box=box.SIMPLE_HEAD, show_lines=False)
    for key in (
        "catalog_col_category",
        "catalog_col_id",
        "catalog_col_name",
        "catalog_col_unit",
        "catalog_col_valuation",
        "catalog_col_seea",
    ):
        table.add_column(message(key, lang))
    if profile is None:
        table.add_column(message("catalog_col_profiles", lang))
    not_in_seea = message("catalog_not_in_seea", lang)
    for item in items:
        row = [
            catalog.category_label(item.category, lang),
            item.id,
            item.name(lang),
            item.unit_label(lang),
            item.valuation_label(lang),
            item.seea_code if item.in_seea else not_in_seea,
        ]
        if profile is None:
            row.append(", ".join(item.profiles))
        table.add_row(*(escape(cell) for cell in row))
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None, highlight=False)
    console.print(title, markup=False, highlight=False)
    console.print(table)
    if profile is not None:
        chosen = catalog.profile(profile)
        if not items:
            console.print(message("catalog_empty_profile", lang, profile=profile, method=chosen.method), markup=False)
        if chosen.note:
            console.print(message("catalog_profile_note", lang, note=chosen.note), markup=False)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"
