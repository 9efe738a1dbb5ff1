// zh-CN / en strings of the dashboard. Chinese is the default; the choice is kept in localStorage.
// Item names here are a fallback: the page prefers the names the API returns (/items, region items).

export const LANGS = ["zh", "en"];
const STORAGE_KEY = "gep.lang";

export const STRINGS = {
  zh: {
    "app.title": "生态系统生产总值（GEP）核算平台",
    "app.short": "GEP 核算平台",
    "lang.switch": "English",
    "nav.overview": "总览",
    "nav.map": "地图",
    "nav.ranking": "区域排名",
    "nav.indicators": "指标与目标",
    "nav.evaluation": "县域考核",
    "gep": "生态系统生产总值",
    "gep.short": "GEP",
    "material": "物质产品",
    "regulating": "调节服务",
    "cultural": "文化服务",
    "gdp": "地区生产总值（GDP）",
    "gep_to_gdp": "GEP/GDP",
    "gep_per_km2": "单位面积 GEP",
    "gep_per_capita": "人均 GEP",
    "area": "面积",
    "population": "人口",
    "synthetic": "合成数据（演示用，非真实核算结果）",
    "account": "核算",
    "year": "年份",
    "profile": "核算方法",
    "loading": "加载中…",
    "no_data": "暂无数据",
    "no_account": "尚无核算结果。请先导入核算（gep serve 会在首次启动时导入演示核算）。",
    "load_error": "数据加载失败：{detail}",
    "overview.composition": "GEP 构成",
    "overview.items": "各核算项目价值",
    "overview.trend": "GEP 历年变化",
    "overview.trend_single": "仅有一个年份的核算，暂无趋势。",
    "overview.vs_gdp": "GEP 与 GDP 对比",
    "overview.no_gdp": "未提供 GDP 统计数据。",
    "map.layer": "图层",
    "map.gep_density": "GEP 密度（元/公顷）",
    "map.boundaries_only": "仅显示边界",
    "map.hint": "点击县（市、区）查看其核算结果。",
    "map.fallback": "浏览器不支持 WebGL，使用简化矢量地图。",
    "map.no_layer": "该图层暂无图件。",
    "panel.close": "关闭",
    "panel.items": "分项价值",
    "panel.item": "核算项目",
    "panel.category": "类别",
    "panel.physical": "实物量",
    "panel.value": "价值量",
    "ranking.level": "层级",
    "ranking.by": "排序指标",
    "ranking.rank": "排名",
    "ranking.region": "区域",
    "ranking.drill": "下级区域",
    "ranking.up": "返回上级",
    "ranking.all": "全部",
    "ranking.zones": "专题区",
    "level.city": "市",
    "level.county": "县（市、区）",
    "level.township": "乡镇（街道）",
    "level.zone": "专题区",
    "indicators.empty": "尚未录入指标与目标。",
    "indicators.target": "目标",
    "indicators.interval": "预测区间",
    "indicators.series": "实际值",
    "indicators.forecast": "预测值",
    "indicators.status": "状态",
    "status.on_track": "可望达标",
    "status.achieved": "已达标",
    "status.at_risk": "存在风险",
    "status.off_track": "难以达标",
    "status.no_target": "无目标",
    "status.unknown": "未知",
    "evaluation.empty": "尚无县域考核结果。",
    "evaluation.score": "得分",
    "evaluation.rank": "名次",
    "evaluation.chart": "考核得分",
    "evaluation.grade": "等级",
    "evaluation.method": "考核方法",
    "evaluation.year": "年份",
    "unit.yuan": "元",
    "unit.wan": "万元",
    "unit.yi": "亿元",
    "unit.km2": "平方千米",
    "unit.per_km2": "/平方千米",
    "unit.per_capita": "/人",
    "unit.people": "人",
  },
  en: {
    "app.title": "Gross Ecosystem Product (GEP) accounting platform",
    "app.short": "GEP platform",
    "lang.switch": "中文",
    "nav.overview": "Overview",
    "nav.map": "Map",
    "nav.ranking": "Regions",
    "nav.indicators": "Indicators",
    "nav.evaluation": "County evaluation",
    "gep": "Gross Ecosystem Product",
    "gep.short": "GEP",
    "material": "Material products",
    "regulating": "Regulating services",
    "cultural": "Cultural services",
    "gdp": "Gross Domestic Product (GDP)",
    "gep_to_gdp": "GEP/GDP",
    "gep_per_km2": "GEP per km²",
    "gep_per_capita": "GEP per capita",
    "area": "Area",
    "population": "Population",
    "synthetic": "Synthetic data (demo only, not a real account)",
    "account": "Account",
    "year": "Year",
    "profile": "Method profile",
    "loading": "Loading…",
    "no_data": "No data",
    "no_account": "No account yet. Import one first (gep serve imports the demo account on first start).",
    "load_error": "Could not load data: {detail}",
    "overview.composition": "GEP composition",
    "overview.items": "Value by item",
    "overview.trend": "GEP over the years",
    "overview.trend_single": "Only one year is accounted: no trend yet.",
    "overview.vs_gdp": "GEP and GDP",
    "overview.no_gdp": "No GDP statistics were provided.",
    "map.layer": "Layer",
    "map.gep_density": "GEP density (yuan/ha)",
    "map.boundaries_only": "Boundaries only",
    "map.hint": "Click a county to see its account.",
    "map.fallback": "WebGL is not available: showing a simplified vector map.",
    "map.no_layer": "No map for this layer.",
    "panel.close": "Close",
    "panel.items": "Value by item",
    "panel.item": "Item",
    "panel.category": "Category",
    "panel.physical": "Physical quantity",
    "panel.value": "Value",
    "ranking.level": "Level",
    "ranking.by": "Rank by",
    "ranking.rank": "Rank",
    "ranking.region": "Region",
    "ranking.drill": "Sub-regions",
    "ranking.up": "Up one level",
    "ranking.all": "All",
    "ranking.zones": "Zones",
    "level.city": "City",
    "level.county": "County",
    "level.township": "Township",
    "level.zone": "Zone",
    "indicators.empty": "No indicators or targets have been entered yet.",
    "indicators.target": "Target",
    "indicators.interval": "Forecast interval",
    "indicators.series": "Actual",
    "indicators.forecast": "Forecast",
    "indicators.status": "Status",
    "status.on_track": "On track",
    "status.achieved": "Achieved",
    "status.at_risk": "At risk",
    "status.off_track": "Off track",
    "status.no_target": "No target",
    "status.unknown": "Unknown",
    "evaluation.empty": "No county evaluation yet.",
    "evaluation.score": "Score",
    "evaluation.rank": "Rank",
    "evaluation.chart": "Evaluation score",
    "evaluation.grade": "Grade",
    "evaluation.method": "Method",
    "evaluation.year": "Year",
    "unit.yuan": "yuan",
    "unit.wan": "10k yuan",
    "unit.yi": "100 million yuan",
    "unit.km2": "km²",
    "unit.per_km2": "/km²",
    "unit.per_capita": "/person",
    "unit.people": "people",
  },
};

export const ITEMS = {
  agriculture: { zh: "农业产品", en: "agricultural products", category: "material" },
  forestry: { zh: "林业产品", en: "forestry products", category: "material" },
  animal_husbandry: { zh: "畜牧业产品", en: "animal husbandry products", category: "material" },
  fishery: { zh: "渔业产品", en: "fishery products", category: "material" },
  water_supply: { zh: "水资源", en: "water supply", category: "material" },
  eco_energy: { zh: "生态能源", en: "ecological energy", category: "material" },
  water_conservation: { zh: "水源涵养", en: "water conservation", category: "regulating" },
  soil_retention: { zh: "土壤保持", en: "soil retention", category: "regulating" },
  sand_fixation: { zh: "防风固沙", en: "sand fixation", category: "regulating" },
  flood_regulation: { zh: "洪水调蓄", en: "flood regulation", category: "regulating" },
  water_purification: { zh: "水质净化", en: "water purification", category: "regulating" },
  air_purification: { zh: "空气净化", en: "air purification", category: "regulating" },
  carbon_sequestration: { zh: "固碳", en: "carbon sequestration", category: "regulating" },
  oxygen_release: { zh: "释氧", en: "oxygen release", category: "regulating" },
  climate_regulation: { zh: "气候调节", en: "climate regulation", category: "regulating" },
  negative_air_ions: { zh: "负氧离子", en: "negative air ions", category: "regulating" },
  pest_control: { zh: "病虫害控制", en: "pest control", category: "regulating" },
  coastal_protection: { zh: "海岸带防护", en: "coastal protection", category: "regulating" },
  recreation: { zh: "休闲旅游", en: "recreation and tourism", category: "cultural" },
  landscape_value: { zh: "景观价值", en: "landscape value", category: "cultural" },
};

let current = initialLang();

function initialLang() {
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch {
    // storage may be disabled; fall back to the default
  }
  return "zh";
}

export function lang() {
  return current;
}

export function setLang(value) {
  if (!LANGS.includes(value)) throw new Error(`unknown language ${value}`);
  current = value;
  try {
    window.localStorage.setItem(STORAGE_KEY, value);
  } catch {
    // not persisted; the switch still works for this page
  }
}

/** The string `key` in the current language, with {placeholders} filled from `params`. */
export function t(key, params = {}) {
  const template = STRINGS[current][key] ?? STRINGS.zh[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Apply t() to every element with data-i18n (text) or data-i18n-title (title attribute). */
export function translatePage(root = document) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
