"""zh/en labels and number formatting for the reports (workbook, HTML, map previews).

Report text is a fixed vocabulary of short labels, kept here as ``key -> (zh, en)``; longer
user-facing messages belong in ``gep/messages``. Item names and category names come from the
catalogue, never from here.
"""

from __future__ import annotations

import math

from gep.i18n import check_lang
from gep.units import WAN, YI

LABELS: dict[str, tuple[str, str]] = {
    # titles
    "report_title": (
        "{name} {year} 年生态系统生产总值（GEP）核算报告",
        "Gross Ecosystem Product (GEP) account: {name}, {year}",
    ),
    "summary_title": ("{name} {year} 年 GEP 核算总表", "GEP account summary: {name}, {year}"),
    "synthetic_warning": (
        "⚠ 合成数据：本核算全部或部分输入为合成（演示）数据，数值不代表真实情况，不得引用。",
        "⚠ SYNTHETIC DATA: some or all inputs of this account are synthetic (demonstration) data; "
        "the figures do not describe reality and must not be cited.",
    ),
    "profile_line": (
        "核算规范：{profile}　　gep 版本：{version}",
        "Method profile: {profile}    gep version: {version}",
    ),
    "no_items": ("本类无已核算指标", "No item of this category was computed"),
    "not_computed": ("未核算的指标", "Items not computed"),
    "subtotal": ("小计", "Subtotal"),
    "total": ("合计", "Total"),
    # sections
    "sec_totals": ("核算总量", "Totals"),
    "sec_composition": ("价值构成", "Composition"),
    "sec_items": ("分项核算结果", "Items"),
    "sec_ranking": ("分区域排名", "Regions ranked by GEP"),
    "sec_maps": ("空间分布图", "Maps"),
    "sec_methods": ("核算方法", "Methods"),
    "sec_parameters": ("核算参数", "Parameters"),
    "sec_sources": ("数据来源", "Data sources"),
    "sec_uses": ("生态产品价值实现与应用", "Uses of the account"),
    "uses_note": (
        "以下结果由 gep 分析命令以本核算为依据计算，记录在核算目录的 uses/ 中；它们不改变核算结果本身。",
        "The results below were computed by gep analysis commands from this account and recorded in its "
        "uses/ folder; they do not change the account itself.",
    ),
    "use_meta": (
        "命令：gep {command}　　运行时间（UTC）：{run_time}",
        "Command: gep {command}    Run time (UTC): {run_time}",
    ),
    "use_output": ("输出目录：{folder}", "Output folder: {folder}"),
    "use_inputs": ("输入文件", "Inputs"),
    "use_unreadable": ("无法读取 uses/{name}.json：{reason}", "Cannot read uses/{name}.json: {reason}"),
    "col_option": ("参数项", "Option"),
    "maps_omitted": ("本报告未包含地图预览。", "Map previews are not included in this report."),
    "map_missing": ("（缺少预览图）", "(preview missing)"),
    "composition_by_category": ("按类别", "By category"),
    "composition_by_item": ("按指标", "By item"),
    "unverified_note": (
        "标为“未核实”的参数或公式来源尚未核对原文，结果应谨慎使用。",
        "Parameters or formulas tagged “unverified” have not been checked against their source; use "
        "the results with care.",
    ),
    # column headers
    "col_code": ("区域代码", "Region code"),
    "col_region": ("区域名称", "Region"),
    "col_level": ("级别", "Level"),
    "col_area_km2": ("面积（km²）", "Area (km²)"),
    "col_gep_yi": ("GEP（亿元）", "GEP (100 million yuan)"),
    "col_part_yi": ("{part}（亿元）", "{part} (100 million yuan)"),
    "col_part_share": ("{part}占比（%）", "{part} share (%)"),
    "col_item": ("指标", "Item"),
    "col_category": ("类别", "Category"),
    "col_physical": ("功能量", "Physical quantity"),
    "col_unit": ("单位", "Unit"),
    "col_value_wan": ("价值量（万元）", "Value (10,000 yuan)"),
    "col_value_yi": ("价值量（亿元）", "Value (100 million yuan)"),
    "col_share_gep": ("占 GEP 比重（%）", "Share of GEP (%)"),
    "col_method": ("定价方法", "Valuation method"),
    "col_rank": ("排名", "Rank"),
    "col_gep_per_km2": ("单位面积 GEP（万元/km²）", "GEP per km² (10,000 yuan/km²)"),
    "col_gdp_yi": ("GDP（亿元）", "GDP (100 million yuan)"),
    "col_gep_to_gdp": ("GEP/GDP", "GEP/GDP"),
    "col_population": ("人口（万人）", "Population (10,000 persons)"),
    "col_gep_per_capita": ("人均 GEP（元/人）", "GEP per capita (yuan/person)"),
    "col_param": ("参数", "Parameter"),
    "col_name_zh": ("中文名称", "Name (Chinese)"),
    "col_name_en": ("英文名称", "Name (English)"),
    "col_value": ("数值", "Value"),
    "col_base_year": ("价格基准年", "Price base year"),
    "col_source": ("来源", "Source"),
    "col_tag": ("可信度标签", "Provenance tag"),
    "col_status": ("状态", "Status"),
    "col_reason": ("原因", "Reason"),
    "col_variant": ("方法变体", "Variant"),
    "col_formula": ("公式", "Formula"),
    "col_parameters": ("参数", "Parameters"),
    "col_unverified": ("未核实参数", "Unverified parameters"),
    "col_notes": ("备注", "Notes"),
    "col_input": ("输入", "Input"),
    "col_path": ("文件", "File"),
    "col_sha256": ("SHA-256", "SHA-256"),
    "col_synthetic": ("合成数据", "Synthetic"),
    "col_key": ("项目", "Field"),
    "method_table": ("核算方法表", "Method table"),
    "parameter_table": ("参数表", "Parameter table"),
    "overrides_region": ("分区域参数覆盖", "Per-region parameter overrides"),
    "overrides_class": ("分地类参数覆盖", "Per-class parameter overrides"),
    "meta_account": ("核算名称", "Account"),
    "meta_year": ("核算年份", "Year"),
    "meta_profile": ("核算规范", "Method profile"),
    "meta_variants": ("方法变体", "Formula variants"),
    "meta_options": ("规范选项", "Profile options"),
    "meta_version": ("gep 版本", "gep version"),
    "meta_python": ("Python 版本", "Python version"),
    "meta_run_time": ("运行时间（UTC）", "Run time (UTC)"),
    "meta_synthetic": ("合成核算", "Synthetic account"),
    "meta_grid": ("核算栅格", "Account grid"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # maps
    "map_physical": ("{item}：功能量", "{item}: physical quantity"),
    "map_value": ("{item}：价值量", "{item}: value"),
    "map_density": ("GEP 密度", "GEP density"),
    "per_pixel": ("{unit}/像元", "{unit} per pixel"),
    "yuan_per_ha": ("元/公顷", "yuan/ha"),
}

LEVELS: dict[str, tuple[str, str]] = {
    "province": ("省", "province"),
    "city": ("市", "city"),
    "county": ("县（市、区）", "county"),
    "township": ("乡镇", "township"),
    "village": ("村", "village"),
    "zone": ("功能区", "zone"),
}
LEVEL_ORDER: tuple[str, ...] = ("province", "city", "county", "township", "village")

STATUSES: dict[str, tuple[str, str]] = {
    "computed": ("已核算", "computed"),
    "excluded": ("规范不含", "excluded"),
    "skipped": ("未核算", "skipped"),
}

USE_STATUSES: dict[str, tuple[str, str]] = {
    # plan indicators (gep indicators)
    "on_track": ("按计划推进", "on track"),
    "at_risk": ("存在风险", "at risk"),
    "off_track": ("滞后", "off track"),
    "no_target": ("无量化目标", "no numeric target"),
    "no_data": ("无数据", "no data"),
    # procurement tranches (gep procure)
    "unconditional": ("无条件支付", "unconditional"),
    "pending": ("待考核", "pending"),
    "met": ("考核达标", "condition met"),
    "not_met": ("考核未达标", "condition not met"),
}

TAGS: dict[str, tuple[str, str]] = {
    "verified": ("已核实", "verified"),
    "secondary": ("二手来源", "secondary"),
    "unverified": ("未核实", "unverified"),
    "synthetic": ("合成", "synthetic"),
}

UNITS: dict[str, tuple[str, str]] = {
    "m3": ("立方米", "m³"),
    "m2": ("平方米", "m²"),
    "hm2": ("公顷", "ha"),
    "t": ("吨", "t"),
    "t C": ("吨（以碳计）", "t C"),
    "t CO2": ("吨（以CO₂计）", "t CO₂"),
    "t O2": ("吨（O₂）", "t O₂"),
    "t/a": ("吨/年", "t/a"),
    "kWh": ("千瓦时", "kWh"),
    "yuan": ("元", "yuan"),
    "visits": ("人次", "visits"),
    "visit_days": ("人天", "visitor-days"),
    "ions": ("个", "ions"),
}

COMPONENTS: dict[str, tuple[str, str]] = {
    "sediment": ("减少泥沙淤积", "sediment"),
    "nitrogen": ("氮", "nitrogen"),
    "phosphorus": ("磷", "phosphorus"),
    "potassium": ("钾", "potassium"),
    "cod": ("化学需氧量", "COD"),
    "nh3n": ("氨氮", "NH₃-N"),
    "tp": ("总磷", "total phosphorus"),
    "so2": ("二氧化硫", "SO₂"),
    "nox": ("氮氧化物", "NOx"),
    "dust": ("粉尘", "dust"),
    "carbon": ("碳", "carbon"),
    "vegetation": ("植被", "vegetation"),
    "water": ("水域", "water"),
    "reservoirs": ("水库", "reservoirs"),
    "lakes": ("湖泊", "lakes"),
    "marshes": ("沼泽", "marshes"),
    "hydropower": ("水电", "hydropower"),
    "other_renewable": ("其他可再生能源", "other renewables"),
    "domestic": ("生活用水", "domestic"),
    "industrial": ("工业用水", "industrial"),
    "agricultural": ("农业用水", "agricultural"),
    "above_threshold": ("超过阈值部分", "above threshold"),
    "covered_area": ("覆盖面积", "covered area"),
    "expenditure": ("旅行费用", "travel expenditure"),
    "time_cost": ("时间成本", "time cost"),
    "forest": ("森林", "forest"),
    "shrub": ("灌丛", "shrub"),
    "grassland": ("草地", "grassland"),
    "wetland": ("湿地", "wetland"),
    "cropland": ("农田", "cropland"),
    "urban": ("城镇", "urban"),
    "bare": ("裸地", "bare land"),
}


def _pick(table: dict[str, tuple[str, str]], key: str, lang: str, default: str | None = None) -> str:
    pair = table.get(key)
    if pair is None:
        return key if default is None else default
    return pair[0] if check_lang(lang) == "zh" else pair[1]


def label(key: str, lang: str = "zh", **params: object) -> str:
    """The report label ``key`` in ``lang`` with ``{placeholders}`` filled. Unknown keys raise KeyError."""
    if key not in LABELS:
        raise KeyError(f"no report label {key!r}")
    return _pick(LABELS, key, lang).format(**params)


def level_label(level: str, lang: str = "zh") -> str:
    return _pick(LEVELS, level, lang)


def status_label(status: str, lang: str = "zh") -> str:
    return _pick(STATUSES, status, lang)


def use_status_label(status: str, lang: str = "zh") -> str:
    """Display form of a status in an analysis result (``on_track`` -> 按计划推进); unknown as given."""
    return _pick(USE_STATUSES, status, lang)


def tag_label(tag: str, lang: str = "zh") -> str:
    return _pick(TAGS, tag, lang)


def unit_label(unit: str, lang: str = "zh") -> str:
    """Display form of a unit code of the account table (``m3`` -> 立方米 / m³); unknown units as given."""
    return _pick(UNITS, unit, lang)


def component_label(component: str, lang: str = "zh") -> str:
    """Display name of an item component (``so2`` -> 二氧化硫 / SO₂); unknown names as given."""
    return _pick(COMPONENTS, component, lang)


def yes_no(flag: bool, lang: str = "zh") -> str:
    return label("yes" if flag else "no", lang)


def html_lang(lang: str) -> str:
    """The HTML ``lang`` attribute for a report language."""
    return "zh-CN" if check_lang(lang) == "zh" else "en"


def _finite(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def fmt_number(value: float | None, decimals: int = 2) -> str:
    """``value`` with thousands separators and ``decimals`` decimals; "—" when missing."""
    if not _finite(value):
        return "—"
    return f"{float(value):,.{decimals}f}"


def fmt_yi(value_yuan: float | None, decimals: int = 2) -> str:
    """Yuan shown in 亿元 (1e8 yuan), e.g. 27,237,513 yuan -> "0.27"."""
    return fmt_number(None if not _finite(value_yuan) else float(value_yuan) / YI, decimals)


def fmt_wan(value_yuan: float | None, decimals: int = 2) -> str:
    """Yuan shown in 万元 (1e4 yuan), e.g. 27,237,513 yuan -> "2,723.75"."""
    return fmt_number(None if not _finite(value_yuan) else float(value_yuan) / WAN, decimals)


def fmt_percent(share: float | None, decimals: int = 2) -> str:
    """A fraction shown as a percentage number without the sign (0.3521 -> "35.21")."""
    return fmt_number(None if not _finite(share) else float(share) * 100.0, decimals)
