"""``report.html``: a printable one-file report of an account.

Self-contained: inline CSS, the composition charts as inline SVG (drawn here, so the browser renders
the Chinese labels with its own fonts) and the map previews embedded as base64 ``data:`` URIs; no
script, no network. Sections carry ids: ``totals``, ``composition``, ``items``, ``ranking``, ``maps``,
``methods``, ``parameters``, ``sources``; and ``uses`` (after ``maps``) when analysis results are
recorded in the account's ``uses/`` folder (see :mod:`gep.reports.uses`). All text is in the report
language (``labels.py``); item and category names come from the catalogue.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from pathlib import Path

from gep.account import CATEGORIES, Account
from gep.catalog import load_catalog
from gep.i18n import check_lang
from gep.reports import data
from gep.reports.labels import (
    fmt_number,
    fmt_percent,
    fmt_wan,
    fmt_yi,
    html_lang,
    label,
    level_label,
    status_label,
    tag_label,
    unit_label,
    use_status_label,
    yes_no,
)
from gep.reports.maps import DENSITY, preview_text
from gep.reports.uses import read_uses
from gep.reports.xlsx import metadata

SECTION_IDS: tuple[str, ...] = ("totals", "composition", "items", "ranking", "maps", "methods", "parameters", "sources")
USES_SECTION_ID = "uses"
"""Section present only when the account folder holds recorded uses (``uses/*.json``)."""
CATEGORY_COLOURS = {"material": "#c99a2e", "regulating": "#2e8b57", "cultural": "#4a7fb5"}

CSS = """
:root { --ink: #1f2933; --muted: #52606d; --line: #cbd2d9; --head: #e4ecf7; --warn: #fff2cc; --warn-ink: #9b1c1c;
  --unverified: #fce4d6; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
  "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px;
  line-height: 1.5; font-size: 14px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid var(--ink); padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin: 16px 0 8px; }
h4 { font-size: 14px; margin: 12px 0 6px; }
.use { border-top: 1px solid var(--line); margin-top: 16px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.synthetic { background: var(--warn); color: var(--warn-ink); border: 2px solid var(--warn-ink); padding: 10px 14px;
  font-weight: bold; margin: 12px 0; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 8px 0; }
nav a { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 180px; flex: 1; }
.card .name { color: var(--muted); font-size: 13px; }
.card .figure { font-size: 22px; font-weight: bold; }
.card .sub { color: var(--muted); font-size: 12px; }
.card.gep { border-color: #2e8b57; border-width: 2px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; vertical-align: top; }
th { background: var(--head); text-align: center; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.code, td.hash { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; word-break: break-all; }
tr.component td.name { padding-left: 2em; color: var(--muted); }
tr.subtotal td { font-weight: bold; background: #f5f7fa; }
tr.unverified td { background: var(--unverified); }
.tag-unverified { color: var(--warn-ink); font-weight: bold; }
.note { color: var(--muted); font-size: 12px; }
figure { margin: 12px 0 20px; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
svg text { font-family: inherit; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section { break-before: auto; }
  table { font-size: 10px; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .synthetic { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  tr.unverified td, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""


def write_html_report(account: Account | str | Path, path: str | Path, lang: str = "zh", previews: bool = True) -> Path:
    """Write the one-file HTML report of ``account`` to ``path`` in ``lang``; with ``previews`` the
    PNGs already in ``maps/`` (see :func:`gep.reports.maps.write_previews`) are embedded. Returns ``path``."""
    account = data.as_account(account)
    lang = check_lang(lang)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(account, lang, previews)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def render_html(account: Account, lang: str = "zh", previews: bool = True) -> str:
    """The report as one HTML string (see :func:`write_html_report`)."""
    lang = check_lang(lang)
    region = data.main_region(account)
    name = data.region_name(account, region, lang)
    title = label("report_title", lang, name=name, year=account.year)
    version = account.summary.get("gep_version", account.provenance.get("gep_version", ""))
    sections = [
        ("totals", label("sec_totals", lang), _totals(account, region, lang)),
        ("composition", label("sec_composition", lang), _composition(account, region, lang)),
        ("items", label("sec_items", lang), _items(account, region, lang)),
        ("ranking", label("sec_ranking", lang), _ranking(account, lang)),
        ("maps", label("sec_maps", lang), _maps(account, lang, previews)),
        *_uses_section(account, lang),
        ("methods", label("sec_methods", lang), _methods(account, lang)),
        ("parameters", label("sec_parameters", lang), _parameters(account, lang)),
        ("sources", label("sec_sources", lang), _sources(account, lang)),
    ]
    nav = "".join(f'<li><a href="#{sid}">{escape(heading)}</a></li>' for sid, heading, _ in sections)
    body = "\n".join(
        f'<section id="{sid}">\n<h2>{escape(heading)}</h2>\n{content}\n</section>' for sid, heading, content in sections
    )
    warning = (
        f'<div class="synthetic" role="alert">{escape(label("synthetic_warning", lang))}</div>'
        if account.synthetic
        else ""
    )
    profile_line = label("profile_line", lang, profile=_profile_title(account, lang), version=version)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html_lang(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header>\n<h1>{escape(title)}</h1>\n<p class="meta">{escape(profile_line)}</p>\n{warning}\n'
        f"<nav><ul>{nav}</ul></nav>\n</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _profile_title(account: Account, lang: str) -> str:
    try:
        profile = load_catalog().profile(account.profile)
    except (KeyError, ValueError):
        return account.profile
    return f"{profile.title(lang)} ({account.profile})"


def _table(headers: Sequence[str], rows: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def _td(value: object, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<td{klass}>{escape('' if value is None else str(value))}</td>"


def _tr(cells: Sequence[str], css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<tr{klass}>{''.join(cells)}</tr>"


def _totals(account: Account, region: dict, lang: str) -> str:
    cards = [
        '<div class="card gep"><div class="name">GEP</div>'
        f'<div class="figure">{fmt_yi(region["gep_yuan"])}</div>'
        f'<div class="sub">{escape(_yi_unit(lang))} · '
        f"{fmt_wan(region['gep_yuan'])} {escape(_wan_unit(lang))}</div></div>"
    ]
    for category in CATEGORIES:
        value = region[f"{category}_yuan"]
        share = data.category_share(region, category)
        cards.append(
            f'<div class="card"><div class="name">{escape(data.category_name(category, lang))}</div>'
            f'<div class="figure">{fmt_yi(value)}</div>'
            f'<div class="sub">{escape(_yi_unit(lang))} · {fmt_percent(share)}%</div></div>'
        )
    name = data.region_name(account, region, lang)
    area = fmt_number(region.get("area_km2"))
    intro = f"<p>{escape(name)} · {escape(label('col_area_km2', lang))} {area}</p>"
    return intro + '<div class="cards">' + "".join(cards) + "</div>"


def _yi_unit(lang: str) -> str:
    return "亿元" if lang == "zh" else "100 million yuan"


def _wan_unit(lang: str) -> str:
    return "万元" if lang == "zh" else "10,000 yuan"


def bar_chart_svg(bars: Sequence[tuple[str, float, str, str]], width: int = 760) -> str:
    """A horizontal bar chart as inline SVG. ``bars`` are (label, value, value text, colour); bars
    scale to the largest absolute value; negative values draw no bar."""
    row, label_w, text_w = 26, 190, 150
    plot_w = width - label_w - text_w
    top = max((abs(v) for _, v, _, _ in bars), default=0.0) or 1.0
    height = row * len(bars) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" style="max-width:100%;height:auto">'
    ]
    for n, (name, value, text, colour) in enumerate(bars):
        y = 4 + n * row
        bar_w = max(0.0, value) / top * plot_w
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13" fill="#1f2933">'
            f"{escape(name)}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w:.1f}" height="{row - 8}" fill="{colour}"/>'
            f'<text x="{label_w + bar_w + 6:.1f}" y="{y + 17}" font-size="12" fill="#52606d">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _composition(account: Account, region: dict, lang: str) -> str:
    wan = _wan_unit(lang)
    by_category = [
        (
            data.category_name(c, lang),
            float(region[f"{c}_yuan"]),
            f"{fmt_wan(region[f'{c}_yuan'])} {wan} ({fmt_percent(data.category_share(region, c))}%)",
            CATEGORY_COLOURS[c],
        )
        for c in CATEGORIES
    ]
    category_of = {item.id: item.category for item in load_catalog().items}
    gep = region["gep_yuan"]
    items = sorted(region.get("items_yuan", {}).items(), key=lambda kv: -kv[1])
    by_item = [
        (
            _item_name(item_id, lang),
            float(value),
            f"{fmt_wan(value)} {wan} ({fmt_percent(value / gep if gep else None)}%)",
            CATEGORY_COLOURS.get(category_of.get(item_id, ""), "#7b8794"),
        )
        for item_id, value in items
    ]
    return (
        f"<h3>{escape(label('composition_by_category', lang))}</h3>\n{bar_chart_svg(by_category)}\n"
        f"<h3>{escape(label('composition_by_item', lang))}</h3>\n{bar_chart_svg(by_item)}"
    )


def _category_name(category: str, lang: str) -> str:
    try:
        return data.category_name(category, lang)
    except (KeyError, ValueError):
        return category


def _item_name(item_id: str, lang: str) -> str:
    try:
        return load_catalog().item(item_id).name(lang)
    except (KeyError, ValueError):
        return item_id


def _items(account: Account, region: dict, lang: str) -> str:
    headers = [
        label("col_category", lang),
        label("col_item", lang),
        label("col_physical", lang),
        label("col_unit", lang),
        label("col_value_wan", lang),
        label("col_share_gep", lang),
        label("col_method", lang),
    ]
    gep = region["gep_yuan"]
    rows = []
    for category in CATEGORIES:
        category_name = data.category_name(category, lang)
        for row in data.item_rows(account, category, region["region_code"], lang):
            share = None if row.component or not gep else row.value_yuan / gep
            rows.append(
                _tr(
                    [
                        _td(category_name),
                        _td(row.name, "name"),
                        _td(_quantity(row.physical), "num"),
                        _td(row.unit),
                        _td(fmt_wan(row.value_yuan), "num"),
                        _td("" if share is None else fmt_percent(share), "num"),
                        _td(row.method),
                    ],
                    "component" if row.component else "",
                )
            )
        rows.append(
            _tr(
                [
                    _td(category_name),
                    _td(label("subtotal", lang)),
                    _td(""),
                    _td(""),
                    _td(fmt_wan(region[f"{category}_yuan"]), "num"),
                    _td(fmt_percent(data.category_share(region, category)), "num"),
                    _td(""),
                ],
                "subtotal",
            )
        )
    name = data.region_name(account, region, lang)
    return f"<p>{escape(name)}</p>\n" + _table(headers, rows)


def _quantity(value: float) -> str:
    return f"{value:.3e}" if abs(value) >= 1e12 else fmt_number(value)


def _ranking(account: Account, lang: str) -> str:
    """One table per level (city, counties, ..., zones), regions ranked by GEP within it."""
    headers = [
        label("col_rank", lang),
        label("col_region", lang),
        label("col_gep_yi", lang),
        label("col_area_km2", lang),
        label("col_gep_per_km2", lang),
        label("col_gdp_yi", lang),
        label("col_gep_to_gdp", lang),
        label("col_gep_per_capita", lang),
    ]
    groups: dict[str, list[str]] = {}
    for rank, region in data.ranking(account):
        groups.setdefault(region["level"], []).append(
            _tr(
                [
                    _td(rank, "num"),
                    _td(data.region_name(account, region, lang)),
                    _td(fmt_yi(region["gep_yuan"]), "num"),
                    _td(fmt_number(region.get("area_km2")), "num"),
                    _td(fmt_wan(region.get("gep_per_km2_yuan")), "num"),
                    _td(fmt_yi(region.get("gdp_yuan")), "num"),
                    _td(fmt_number(region.get("gep_to_gdp")), "num"),
                    _td(fmt_number(region.get("gep_per_capita_yuan")), "num"),
                ]
            )
        )
    return "\n".join(
        f"<h3>{escape(level_label(level, lang))}</h3>\n{_table(headers, rows)}" for level, rows in groups.items()
    )


def _maps(account: Account, lang: str, previews: bool) -> str:
    if not previews:
        return f'<p class="note">{escape(label("maps_omitted", lang))}</p>'
    cogs = [account.map_path(DENSITY)] + [account.map_path(i, "value") for i in data.computed_value_items(account)]
    figures = []
    for cog in cogs:
        png = cog.with_suffix(".png")
        if not cog.is_file() and not png.is_file():
            continue
        caption = " · ".join(preview_text(cog, lang)) if cog.is_file() else cog.stem
        if png.is_file():
            encoded = base64.b64encode(png.read_bytes()).decode("ascii")
            image = f'<img src="data:image/png;base64,{encoded}" alt="{escape(caption)}">'
        else:
            image = f'<p class="note">{escape(label("map_missing", lang))}</p>'
        figures.append(f"<figure>{image}<figcaption>{escape(caption)}</figcaption></figure>")
    return "\n".join(figures) or f'<p class="note">{escape(label("map_missing", lang))}</p>'


def _methods(account: Account, lang: str) -> str:
    headers = [
        label("col_item", lang),
        label("col_category", lang),
        label("col_status", lang),
        label("col_variant", lang),
        label("col_formula", lang),
        label("col_parameters", lang),
        label("col_unverified", lang),
        label("col_notes", lang),
    ]
    rows = []
    for _, method in account.methods.iterrows():
        unverified = str(method.get("unverified", ""))
        status = status_label(str(method["status"]), lang)
        reason = str(method.get("reason", ""))
        rows.append(
            _tr(
                [
                    _td(method["name_zh"] if lang == "zh" else method["name_en"]),
                    _td(data.category_name(str(method["category"]), lang)),
                    _td(f"{status} ({reason})" if reason else status),
                    _td(method.get("variant", "")),
                    _td(method.get("formula", "")),
                    _td(method.get("parameters", "")),
                    _td(unverified, "tag-unverified" if unverified else ""),
                    _td(method.get("notes", "")),
                ],
                "unverified" if unverified else "",
            )
        )
    return f'<p class="note">{escape(label("unverified_note", lang))}</p>\n' + _table(headers, rows)


def _parameters(account: Account, lang: str) -> str:
    headers = [
        label("col_param", lang),
        label("col_name_zh" if lang == "zh" else "col_name_en", lang),
        label("col_value", lang),
        label("col_unit", lang),
        label("col_base_year", lang),
        label("col_tag", lang),
        label("col_source", lang),
    ]
    rows = []
    for p in data.parameters(account):
        tag = str(p.get("tag", ""))
        value = p.get("value")
        unit = str(p.get("unit", ""))
        rows.append(
            _tr(
                [
                    _td(p["name"], "code"),
                    _td(p.get("name_zh" if lang == "zh" else "name_en", "")),
                    _td(f"{value:,.6g}" if isinstance(value, int | float) else value, "num"),
                    _td(unit_label(unit, lang) if unit != "1" else "1"),
                    _td(p.get("base_year") or ""),
                    _td(tag_label(tag, lang), f"tag-{tag}"),
                    _td(p.get("source", "")),
                ],
                "unverified" if tag == "unverified" else "",
            )
        )
    out = _table(headers, rows)
    for key, title_key in (
        ("region_parameter_overrides", "overrides_region"),
        ("class_parameter_overrides", "overrides_class"),
    ):
        overrides = account.provenance.get(key) or {}
        if overrides:
            lines = [
                _tr([_td(where, "code"), _td(name, "code"), _td(value, "num")])
                for where in sorted(overrides)
                for name, value in sorted(dict(overrides[where]).items())
            ]
            out += f"\n<h3>{escape(label(title_key, lang))}</h3>\n" + _table(
                [label("col_key", lang), label("col_param", lang), label("col_value", lang)], lines
            )
    return out


def _sources(account: Account, lang: str) -> str:
    rows = [
        _tr(
            [
                _td(entry["key"], "code"),
                _td(Path(str(entry.get("path", ""))).name),
                _td(entry.get("sha256") or "", "hash"),
                _td(yes_no(bool(entry.get("synthetic")), lang)),
            ],
            "unverified" if entry.get("synthetic") else "",
        )
        for entry in data.inputs(account)
    ]
    files = _table(
        [label("col_input", lang), label("col_path", lang), label("col_sha256", lang), label("col_synthetic", lang)],
        rows,
    )
    meta = _table(
        [label("col_key", lang), label("col_value", lang)],
        [_tr([_td(label(key, lang)), _td(value)]) for key, value in metadata(account, lang)],
    )
    return files + "\n" + meta


# --- uses of the account -------------------------------------------------------------------------------------------


def _uses_section(account: Account, lang: str) -> list[tuple[str, str, str]]:
    """The section "uses" as a one-element list, or [] when no use is recorded."""
    uses = read_uses(account.directory)
    if not uses:
        return []
    parts = [f'<p class="note">{escape(label("uses_note", lang))}</p>']
    parts += [_use(use, lang) for use in uses]
    return [(USES_SECTION_ID, label("sec_uses", lang), "\n".join(parts))]


def _bilingual(entry: object, lang: str, default: str = "") -> str:
    if isinstance(entry, dict):
        return str(entry.get(lang) or entry.get("en") or default)
    return default


def _use(use: dict, lang: str) -> str:
    command = str(use.get("command", ""))
    anchor = f"use-{escape(command)}"
    if "error" in use:
        note = label("use_unreadable", lang, name=command, reason=use["error"])
        return f'<div class="use" id="{anchor}"><p class="note">{escape(note)}</p></div>'
    title = _bilingual(use.get("title"), lang, command)
    meta = label("use_meta", lang, command=command, run_time=use.get("run_time", ""))
    out = [f'<div class="use" id="{anchor}">', f"<h3>{escape(title)}</h3>", f'<p class="meta">{escape(meta)}</p>']
    cards = []
    for figure in use.get("headline") or []:
        if not isinstance(figure, dict):
            continue
        value = format_use_value(figure.get("value"), str(figure.get("format", "text")), lang)
        cards.append(
            f'<div class="card"><div class="name">{escape(str(figure.get(lang) or figure.get("en", "")))}</div>'
            f'<div class="figure">{escape(value)}{"%" if figure.get("format") == "percent" and value != "—" else ""}'
            "</div></div>"
        )
    if cards:
        out.append('<div class="cards">' + "".join(cards) + "</div>")
    for table in use.get("tables") or []:
        if isinstance(table, dict):
            out.append(f"<h4>{escape(_bilingual(table, lang, str(table.get('name', ''))))}</h4>")
            out.append(_use_table(table, lang))
    output = (use.get("output") or {}).get("folder")
    if output:
        out.append(f'<p class="note">{escape(label("use_output", lang, folder=output))}</p>')
    inputs = [i for i in use.get("inputs") or [] if isinstance(i, dict)]
    if inputs:
        rows = [
            _tr(
                [
                    _td(entry.get("option", ""), "code"),
                    _td(entry.get("path", "")),
                    _td(entry.get("sha256") or "", "hash"),
                ]
            )
            for entry in inputs
        ]
        out.append(f"<h4>{escape(label('use_inputs', lang))}</h4>")
        out.append(_table([label("col_option", lang), label("col_path", lang), label("col_sha256", lang)], rows))
    out.append("</div>")
    return "\n".join(out)


def _use_table(table: dict, lang: str) -> str:
    columns = [c for c in table.get("columns") or [] if isinstance(c, dict) and "key" in c]
    headers = [str(c.get(lang) or c.get("en") or c["key"]) for c in columns]
    keys = [str(c["key"]).replace("{lang}", lang) for c in columns]
    formats = [str(c.get("format", "text")) for c in columns]
    records = [r for r in table.get("records") or [] if isinstance(r, dict)]
    rows = []
    for record in records:
        cells = []
        for key, fmt in zip(keys, formats, strict=True):
            text = format_use_value(record.get(key), fmt, lang)
            cells.append(_td(text, "num" if fmt in NUMERIC_FORMATS else ""))
        rows.append(_tr(cells))
    total = set(table.get("total") or [])
    if total and records:
        cells = []
        for n, (key, fmt) in enumerate(zip(keys, formats, strict=True)):
            if key in total:
                values = [v for v in (r.get(key) for r in records) if isinstance(v, int | float)]
                cells.append(_td(format_use_value(float(sum(values)), fmt, lang), "num"))
            else:
                cells.append(_td(label("total", lang) if n == 0 else ""))
        rows.append(_tr(cells, "subtotal"))
    return _table(headers, rows)


NUMERIC_FORMATS = ("int", "number", "yuan", "percent")


def format_use_value(value: object, fmt: str, lang: str) -> str:
    """A value of a recorded use as shown in the report: ``yuan`` with thousands separators and 2
    decimals, ``percent`` a fraction × 100 (2 decimals, no sign), ``number`` 4 significant digits
    (2 decimals from 1000 up, ``1.235e+20`` from 1e12), ``int``, ``bool`` (是/否), ``status``,
    ``category``, ``item`` and ``unit`` names in ``lang``; missing values "—" (numbers) or "" (text)."""
    if value is None or (isinstance(value, float) and value != value):
        return "—" if fmt in NUMERIC_FORMATS else ""
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if fmt in NUMERIC_FORMATS and not numeric:
        return str(value)
    if fmt == "yuan":
        return fmt_number(float(value))  # type: ignore[arg-type]
    if fmt == "percent":
        return fmt_percent(float(value))  # type: ignore[arg-type]
    if fmt == "int":
        return str(int(value))  # type: ignore[call-overload]
    if fmt == "number":
        number = float(value)  # type: ignore[arg-type]
        return _quantity(number) if abs(number) >= 1000 else f"{number:.4g}"
    if fmt == "bool":
        return yes_no(bool(value), lang) if isinstance(value, bool) else str(value)
    if fmt == "status":
        return use_status_label(str(value), lang)
    if fmt == "category":
        return label("total", lang) if value == "total" else _category_name(str(value), lang)
    if fmt == "item":
        return _item_name(str(value), lang)
    if fmt == "unit":
        return unit_label(str(value), lang)
    return str(value)
