"""``report.xlsx``: the account as a workbook laid out like a Chinese GEP report.

Sheets (the same Chinese names in both languages; headers in the report language):
总表 (GEP and its three parts per region, 亿元, shares in %), 物质产品 / 调节服务 / 文化服务 (items and
their components per region: physical quantity + unit, value in 万元), 分区域 (ranking by GEP with
per-km², GEP/GDP and per capita figures), 参数表 (parameters and the method table), 数据来源 (input
files with SHA-256, gep version, profile). Cells hold unrounded numbers (亿元 = yuan / 1e8, 万元 =
yuan / 1e4); the number formats round them for display, with thousands separators.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gep.account import CATEGORIES, Account
from gep.catalog import load_catalog
from gep.i18n import check_lang
from gep.reports import data
from gep.reports.labels import label, level_label, status_label, tag_label, unit_label, yes_no
from gep.units import WAN, YI

SHEETS: tuple[str, ...] = ("总表", "物质产品", "调节服务", "文化服务", "分区域", "参数表", "数据来源")
"""Sheet names, fixed in both languages so that links and scripts find them."""
CATEGORY_SHEETS = dict(zip(CATEGORIES, SHEETS[1:4], strict=True))

MONEY = "#,##0.00"
QUANTITY = "#,##0.00"
SHARE = "0.00"
RATIO = "0.00"
INTEGER = "0"
SCIENTIFIC = "0.000E+00"

_TITLE = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_WARNING = Font(bold=True, color="C00000", size=12)
_WARNING_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_SUBTOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_UNVERIFIED_FILL = PatternFill("solid", fgColor="FCE4D6")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _yi(value: float | None) -> float | None:
    return None if value is None else float(value) / YI


def _wan(value: float | None) -> float | None:
    return None if value is None else float(value) / WAN


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Sheet:
    """A worksheet written top to bottom, tracking column widths."""

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.row = 1
        self.widths: dict[int, int] = {}

    def title(self, text: str, font: Font = _TITLE, fill: PatternFill | None = None, span: int = 1) -> None:
        cell = self.ws.cell(self.row, 1, text)
        cell.font = font
        if fill is not None:
            cell.fill = fill
        if span > 1:
            self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=span)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            self.ws.row_dimensions[self.row].height = 36 if fill is not None else None
        self.row += 1

    def blank(self) -> None:
        self.row += 1

    def header(self, names: Sequence[str]) -> int:
        for col, name in enumerate(names, start=1):
            cell = self.ws.cell(self.row, col, name)
            cell.font = _BOLD
            cell.fill = _HEADER_FILL
            cell.border = _BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            self._width(col, name)
        self.row += 1
        return self.row - 1

    def line(
        self,
        values: Sequence[Any],
        formats: Sequence[str | None] = (),
        *,
        bold: bool = False,
        fill: PatternFill | None = None,
        indent: dict[int, int] | None = None,
        wrap: Sequence[int] = (),
    ) -> None:
        for col, value in enumerate(values, start=1):
            cell = self.ws.cell(self.row, col, value)
            cell.border = _BORDER
            number_format = formats[col - 1] if col - 1 < len(formats) else None
            if number_format and isinstance(value, int | float) and not isinstance(value, bool):
                huge = number_format == QUANTITY and abs(value) >= 1e12
                cell.number_format = SCIENTIFIC if huge else number_format
            if bold:
                cell.font = _BOLD
            if fill is not None:
                cell.fill = fill
            if indent and col in indent:
                cell.alignment = Alignment(indent=indent[col])
            if col in wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                shown = f"{value:,.2f}" if isinstance(value, float) else value
                self._width(col, shown, extra=(indent or {}).get(col, 0) * 2)
        self.row += 1

    def _width(self, col: int, value: Any, extra: int = 0) -> None:
        self.widths[col] = max(self.widths.get(col, 0), min(60, _display_width(value) + 2 + extra))

    def finish(self, wrap_widths: dict[int, int] | None = None) -> None:
        for col, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(col)].width = max(8, width)
        for col, width in (wrap_widths or {}).items():
            self.ws.column_dimensions[get_column_letter(col)].width = width


def write_workbook(account: Account | str | Path, path: str | Path, lang: str = "zh") -> Path:
    """Write the report workbook of ``account`` to ``path`` in ``lang`` ("zh" or "en"); returns ``path``."""
    account = data.as_account(account)
    lang = check_lang(lang)
    path = Path(path)
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets = {name: _Sheet(workbook.create_sheet(name)) for name in SHEETS}
    _summary_sheet(sheets["总表"], account, lang)
    for category, name in CATEGORY_SHEETS.items():
        _category_sheet(sheets[name], account, category, lang)
    _ranking_sheet(sheets["分区域"], account, lang)
    _parameter_sheet(sheets["参数表"], account, lang)
    _sources_sheet(sheets["数据来源"], account, lang)
    workbook.properties.creator = "gep"
    workbook.properties.title = label("summary_title", lang, name=account.summary.get("name", ""), year=account.year)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _heading(sheet: _Sheet, account: Account, lang: str, title: str, span: int) -> None:
    sheet.title(title)
    if account.synthetic:
        sheet.title(label("synthetic_warning", lang), _WARNING, _WARNING_FILL, span=span)
    version = account.summary.get("gep_version", account.provenance.get("gep_version", ""))
    sheet.title(label("profile_line", lang, profile=_profile_title(account, lang), version=version), Font(italic=True))
    sheet.blank()


def _profile_title(account: Account, lang: str) -> str:
    try:
        profile = load_catalog().profile(account.profile)
    except (KeyError, ValueError):
        return account.profile
    return f"{profile.title(lang)} ({account.profile})"


def _summary_sheet(sheet: _Sheet, account: Account, lang: str) -> None:
    parts = [data.category_name(c, lang) for c in CATEGORIES]
    headers = [
        label("col_code", lang),
        label("col_region", lang),
        label("col_level", lang),
        label("col_area_km2", lang),
        label("col_gep_yi", lang),
        *(label("col_part_yi", lang, part=p) for p in parts),
        *(label("col_part_share", lang, part=p) for p in parts),
    ]
    title = label("summary_title", lang, name=account.summary.get("name", ""), year=account.year)
    _heading(sheet, account, lang, title, len(headers))
    header_row = sheet.header(headers)
    formats = [None, None, None, QUANTITY, MONEY, MONEY, MONEY, MONEY, SHARE, SHARE, SHARE]
    main_code = data.main_region(account)["region_code"]
    for region in data.ordered_regions(account):
        shares = [data.category_share(region, c) for c in CATEGORIES]
        sheet.line(
            [
                region["region_code"],
                data.region_name(account, region, lang),
                level_label(region["level"], lang),
                region.get("area_km2"),
                _yi(region["gep_yuan"]),
                *(_yi(region[f"{c}_yuan"]) for c in CATEGORIES),
                *(None if s is None else s * 100.0 for s in shares),
            ],
            formats,
            bold=region["region_code"] == main_code,
        )
    sheet.ws.freeze_panes = sheet.ws.cell(header_row + 1, 3)
    sheet.finish()


def _category_sheet(sheet: _Sheet, account: Account, category: str, lang: str) -> None:
    headers = [
        label("col_code", lang),
        label("col_region", lang),
        label("col_item", lang),
        label("col_physical", lang),
        label("col_unit", lang),
        label("col_value_wan", lang),
        label("col_method", lang),
    ]
    title = f"{account.summary.get('name', '')} {account.year} · {data.category_name(category, lang)}"
    _heading(sheet, account, lang, title, len(headers))
    header_row = sheet.header(headers)
    formats = [None, None, None, QUANTITY, None, MONEY, None]
    any_rows = False
    for region in data.ordered_regions(account):
        rows = data.item_rows(account, category, region["region_code"], lang)
        if not rows:
            continue
        any_rows = True
        name = data.region_name(account, region, lang)
        for row in rows:
            sheet.line(
                [row.region_code, name, row.name, row.physical, row.unit, _wan(row.value_yuan), row.method],
                formats,
                indent={3: 2} if row.component else None,
            )
        subtotal = region[f"{category}_yuan"]
        sheet.line(
            [region["region_code"], name, label("subtotal", lang), None, None, _wan(subtotal), None],
            formats,
            bold=True,
            fill=_SUBTOTAL_FILL,
        )
    if not any_rows:
        sheet.line([label("no_items", lang)])
    sheet.ws.freeze_panes = sheet.ws.cell(header_row + 1, 3)
    missing = account.methods[(account.methods["category"] == category) & (account.methods["status"] != "computed")]
    if len(missing):
        sheet.blank()
        sheet.title(label("not_computed", lang), _BOLD)
        sheet.header([label("col_item", lang), label("col_status", lang), label("col_reason", lang)])
        for _, method in missing.iterrows():
            name = method["name_zh"] if lang == "zh" else method["name_en"]
            sheet.line([name, status_label(str(method["status"]), lang), str(method["reason"])])
    sheet.finish()


def _ranking_sheet(sheet: _Sheet, account: Account, lang: str) -> None:
    headers = [
        label("col_rank", lang),
        label("col_code", lang),
        label("col_region", lang),
        label("col_level", lang),
        label("col_gep_yi", lang),
        label("col_area_km2", lang),
        label("col_gep_per_km2", lang),
        label("col_gdp_yi", lang),
        label("col_gep_to_gdp", lang),
        label("col_population", lang),
        label("col_gep_per_capita", lang),
    ]
    title = f"{account.summary.get('name', '')} {account.year} · {label('sec_ranking', lang)}"
    _heading(sheet, account, lang, title, len(headers))
    header_row = sheet.header(headers)
    formats = [INTEGER, None, None, None, MONEY, QUANTITY, MONEY, MONEY, RATIO, QUANTITY, MONEY]
    for rank, region in data.ranking(account):
        population = region.get("population")
        sheet.line(
            [
                rank,
                region["region_code"],
                data.region_name(account, region, lang),
                level_label(region["level"], lang),
                _yi(region["gep_yuan"]),
                region.get("area_km2"),
                _wan(region.get("gep_per_km2_yuan")),
                _yi(region.get("gdp_yuan")),
                region.get("gep_to_gdp"),
                None if population is None else float(population) / WAN,
                region.get("gep_per_capita_yuan"),
            ],
            formats,
        )
    sheet.ws.freeze_panes = sheet.ws.cell(header_row + 1, 4)
    sheet.finish()


def _parameter_sheet(sheet: _Sheet, account: Account, lang: str) -> None:
    headers = [
        label("col_param", lang),
        label("col_name_zh", lang),
        label("col_name_en", lang),
        label("col_value", lang),
        label("col_unit", lang),
        label("col_base_year", lang),
        label("col_source", lang),
        label("col_tag", lang),
    ]
    title = f"{account.summary.get('name', '')} {account.year} · {label('parameter_table', lang)}"
    _heading(sheet, account, lang, title, len(headers))
    sheet.header(headers)
    for p in data.parameters(account):
        tag = str(p.get("tag", ""))
        sheet.line(
            [
                p["name"],
                p.get("name_zh", ""),
                p.get("name_en", ""),
                p.get("value"),
                unit_label(str(p.get("unit", "")), lang) if p.get("unit") != "1" else "1",
                p.get("base_year"),
                p.get("source", ""),
                tag_label(tag, lang),
            ],
            [None, None, None, "#,##0.######", None, INTEGER, None, None],
            fill=_UNVERIFIED_FILL if tag == "unverified" else None,
            wrap=(7,),
        )
    for key, title_key in (
        ("region_parameter_overrides", "overrides_region"),
        ("class_parameter_overrides", "overrides_class"),
    ):
        overrides = account.provenance.get(key) or {}
        if not overrides:
            continue
        sheet.blank()
        sheet.title(label(title_key, lang), _BOLD)
        sheet.header([label("col_key", lang), label("col_param", lang), label("col_value", lang)])
        for where in sorted(overrides):
            for name, value in sorted(dict(overrides[where]).items()):
                sheet.line([where, name, value])
    sheet.blank()
    sheet.title(label("method_table", lang), _BOLD)
    sheet.header(
        [
            label("col_item", lang),
            label("col_category", lang),
            label("col_status", lang),
            label("col_reason", lang),
            label("col_variant", lang),
            label("col_formula", lang),
            label("col_parameters", lang),
            label("col_unverified", lang),
            label("col_notes", lang),
        ]
    )
    for _, method in account.methods.iterrows():
        unverified = str(method.get("unverified", ""))
        sheet.line(
            [
                method["name_zh"] if lang == "zh" else method["name_en"],
                data.category_name(str(method["category"]), lang),
                status_label(str(method["status"]), lang),
                str(method.get("reason", "")),
                str(method.get("variant", "")),
                str(method.get("formula", "")),
                str(method.get("parameters", "")),
                unverified,
                str(method.get("notes", "")),
            ],
            fill=_UNVERIFIED_FILL if unverified else None,
            wrap=(6, 7, 9),
        )
    sheet.finish({7: 50})


def _sources_sheet(sheet: _Sheet, account: Account, lang: str) -> None:
    headers = [
        label("col_input", lang),
        label("col_path", lang),
        label("col_sha256", lang),
        label("col_synthetic", lang),
    ]
    title = f"{account.summary.get('name', '')} {account.year} · {label('sec_sources', lang)}"
    _heading(sheet, account, lang, title, len(headers))
    sheet.header(headers)
    for entry in data.inputs(account):
        sheet.line(
            [
                entry["key"],
                str(entry.get("path", "")),
                entry.get("sha256") or "",
                yes_no(bool(entry.get("synthetic")), lang),
            ],
            fill=_WARNING_FILL if entry.get("synthetic") else None,
        )
    sheet.blank()
    sheet.header([label("col_key", lang), label("col_value", lang)])
    for key, value in metadata(account, lang):
        sheet.line([label(key, lang), value])
    sheet.finish()


def metadata(account: Account, lang: str) -> list[tuple[str, str]]:
    """(label key, value) pairs describing the run: account, year, profile, variants, options, gep
    version, Python version, run time, synthetic flag, grid."""
    profile = account.provenance.get("profile", {})
    grid = account.summary.get("grid", {})

    def pairs(mapping: dict) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(mapping.items()))

    return [
        ("meta_account", str(account.summary.get("name", ""))),
        ("meta_year", str(account.year)),
        ("meta_profile", _profile_title(account, lang)),
        ("meta_variants", pairs(profile.get("variants") or {})),
        ("meta_options", pairs(profile.get("options") or {})),
        ("meta_version", str(account.summary.get("gep_version", account.provenance.get("gep_version", "")))),
        ("meta_python", str(account.provenance.get("python", ""))),
        ("meta_run_time", str(account.provenance.get("run_time_utc", ""))),
        ("meta_synthetic", yes_no(account.synthetic, lang)),
        (
            "meta_grid",
            f"{grid.get('crs', '')}, {grid.get('resolution_m', '')} m, "
            f"{grid.get('width', '')} × {grid.get('height', '')}",
        ),
    ]
