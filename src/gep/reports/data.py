"""Report-ready views of an :class:`~gep.account.Account`: regions in report order, ranking, item
rows with components, parameter and input lists. Values stay in yuan here; the writers convert to
万元/亿元 for display.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from gep.account import Account
from gep.catalog import load_catalog
from gep.reports.labels import LEVEL_ORDER, component_label, unit_label


def as_account(account: Account | str | Path) -> Account:
    """``account`` itself, or the account read from the folder ``account``."""
    return account if isinstance(account, Account) else Account.load(account)


def region_tree(account: Account) -> list[dict]:
    """``regions.json`` (code, name, name_en, level, parent, area_km2), or [] when absent."""
    path = account.directory / "regions.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def ordered_regions(account: Account) -> list[dict]:
    """``summary.json`` regions in report order: the top region(s) first, then each level below in
    turn (city, then its counties, then townships...), file order within a level; zones last."""
    summary = account.regions()
    tree = {r["code"]: r for r in region_tree(account)}

    def depth(code: str) -> int:
        seen, d = set(), 0
        while tree.get(code, {}).get("parent") and code not in seen:
            seen.add(code)
            code = tree[code]["parent"]
            d += 1
        return d

    def key(pair: tuple[int, dict]) -> tuple[int, int, int]:
        n, region = pair
        if region["level"] == "zone":
            return (1, 0, n)
        if region["region_code"] in tree:
            return (0, depth(region["region_code"]), n)
        level = region["level"]
        return (0, LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER), n)

    return [region for _, region in sorted(enumerate(summary), key=key)]


def main_region(account: Account) -> dict:
    """The region the report is about: the first region in report order (e.g. the city)."""
    regions = ordered_regions(account)
    if not regions:
        raise ValueError(f"{account.directory}: summary.json lists no region")
    return regions[0]


def region_name(account: Account, region: dict, lang: str) -> str:
    """The region's name in ``lang``: its English name from ``regions.json`` when the report is in
    English and one is given, else its own name."""
    if lang == "en":
        for entry in region_tree(account):
            if entry["code"] == region["region_code"] and entry.get("name_en"):
                return str(entry["name_en"])
    return str(region["region_name"])


def category_name(category: str, lang: str) -> str:
    """The catalogue's name of ``category`` in ``lang``, capitalised in English ("Regulating services")."""
    text = load_catalog().category_label(category, lang)
    return text[:1].upper() + text[1:] if lang == "en" else text


def category_share(region: dict, category: str) -> float | None:
    """The category's share of the region's GEP (fraction), None when GEP is 0."""
    gep = region["gep_yuan"]
    return region[f"{category}_yuan"] / gep if gep else None


@dataclass(frozen=True)
class ItemRow:
    """One line of an item table: the item (component "") or one of its components."""

    region_code: str
    region_name: str
    item: str
    component: str
    name: str
    physical: float
    unit: str
    value_yuan: float
    method: str


def item_rows(account: Account, category: str, region_code: str, lang: str) -> list[ItemRow]:
    """The items of ``category`` for ``region_code`` in catalogue order, each followed by its
    components; units and names in ``lang``."""
    catalog = load_catalog()
    table = account.table
    selected = table[(table["region_code"] == region_code) & (table["category"] == category)]
    order = {item.id: n for n, item in enumerate(catalog.items)}
    by_item: dict[str, tuple[list[dict], list[dict]]] = {}
    for row in selected.to_dict("records"):  # plain dicts: far cheaper than a DataFrame per item
        main, parts = by_item.setdefault(row["item"], ([], []))
        (main if row["component"] == "" else parts).append(row)
    out: list[ItemRow] = []
    for item_id in sorted(by_item, key=lambda i: order.get(i, len(order))):
        main, parts = by_item[item_id]
        for row in main + parts:
            component = str(row["component"])
            if component:
                name = component_label(component, lang)
                unit = unit_label(str(row["physical_unit"]), lang)
            else:
                name = _item_name(item_id, row, lang)
                unit = _item_unit(item_id, str(row["physical_unit"]), lang)
            out.append(
                ItemRow(
                    region_code=region_code,
                    region_name=str(row["region_name"]),
                    item=item_id,
                    component=component,
                    name=name,
                    physical=float(row["physical_quantity"]),
                    unit=unit,
                    value_yuan=float(row["value_yuan"]),
                    method=_valuation_label(str(row["method"]), lang),
                )
            )
    return out


def _item_name(item_id: str, row, lang: str) -> str:
    try:
        return load_catalog().item(item_id).name(lang)
    except (KeyError, ValueError):
        return str(row["item_name_zh"] if lang == "zh" else row["item_name_en"])


def _item_unit(item_id: str, unit: str, lang: str) -> str:
    try:
        item = load_catalog().item(item_id)
    except (KeyError, ValueError):
        return unit_label(unit, lang)
    return item.unit_label(lang) if item.unit == unit else unit_label(unit, lang)


def _valuation_label(method: str, lang: str) -> str:
    for item in load_catalog().items:
        if item.valuation == method:
            return item.valuation_label(lang)
    return method


def ranking(account: Account) -> list[tuple[int, dict]]:
    """(rank, region) for every region, ranked by GEP (descending) within its level; levels in
    report order (city, counties, ...), zones last."""
    ordered = ordered_regions(account)
    levels: list[str] = []
    for region in ordered:
        if region["level"] not in levels:
            levels.append(region["level"])
    out = []
    for level in levels:
        same = [r for r in ordered if r["level"] == level]
        same.sort(key=lambda r: -_num(r["gep_yuan"]))
        out.extend((n + 1, r) for n, r in enumerate(same))
    return out


def _num(value: float | None) -> float:
    return float(value) if value is not None and not math.isnan(float(value)) else float("-inf")


def parameters(account: Account) -> list[dict]:
    """Every parameter the account used (``provenance.json``), sorted by name, with its ``name``."""
    params = account.provenance.get("parameters", {})
    return [{"name": name, **params[name]} for name in sorted(params)]


def inputs(account: Account) -> list[dict]:
    """Every input file (``provenance.json``): key, path, sha256, synthetic."""
    files = account.provenance.get("inputs", {})
    return [{"key": key, **files[key]} for key in sorted(files)]


def computed_value_items(account: Account) -> list[str]:
    """Items with a value map in ``maps/``, in catalogue order."""
    catalog = load_catalog()
    present = [item.id for item in catalog.items if account.map_path(item.id, "value").is_file()]
    known = {item.id for item in catalog.items}
    extra = sorted(
        p.name[: -len("_value.tif")]
        for p in (account.directory / "maps").glob("*_value.tif")
        if p.name[: -len("_value.tif")] not in known
    )
    return present + extra
