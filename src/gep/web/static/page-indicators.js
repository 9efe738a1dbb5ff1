// Indicators against their targets: observed values (solid), forecasts (dashed, with their interval
// when given) and target lines. Accepts the store's series ({observed, targets, forecast}) and the
// summarised form ({series, target_2025, forecast, status}). Each card states the target, the latest
// observation and, folded, the series' source; a series whose source carries "[synthetic]" (written by
// gep.api.seed for values from a synthetic account) or with a point marked synthetic gets a badge.

import { makeChart } from "./charts.js";
import { clear, el } from "./dom.js";
import { formatNumber } from "./format.js";
import { lang, t } from "./i18n.js";

const LOCAL = {
  zh: { latest: "最新实际值", source: "来源", synthetic: "含合成数据", noForecast: "连续观测年份不足，暂无预测", noFigures: "暂无数值目标与观测值（见来源）", base: "基期值（规划）" },
  en: { latest: "Latest actual", source: "Source", synthetic: "Includes synthetic data", noForecast: "Too few consecutive years observed to forecast", noFigures: "No numeric target or observation yet (see the source)", base: "Base (plan)" },
};
const SYNTHETIC_TAG = "[synthetic]";

function local(key) {
  return (LOCAL[lang()] ?? LOCAL.zh)[key];
}

function isSyntheticPoint(p) {
  return p.synthetic === true || /synthetic/.test(String(p.method ?? ""));
}

/** One indicator in a single shape: {id, name, unit, region, observed, forecast, targets, status}. */
export function normalizeIndicator(ind) {
  const targets = [...(ind.targets ?? [])];
  if (ind.target_2025 != null && !targets.some((p) => p.year === 2025)) targets.push({ year: 2025, value: ind.target_2025 });
  return {
    id: ind.code ?? ind.id,
    name: (lang() === "en" ? ind.name_en || ind.name_zh : ind.name_zh || ind.name_en) || ind.code || String(ind.id),
    unit: ind.unit ?? "",
    region: ind.region_code ?? null,
    observed: [...(ind.observed ?? ind.series ?? [])].sort((a, b) => a.year - b.year),
    forecast: [...(ind.forecast ?? [])].sort((a, b) => a.year - b.year),
    targets: targets.sort((a, b) => a.year - b.year),
    status: ind.status ?? null,
    source: ind.source ?? "",
    synthetic: String(ind.source ?? "").includes(SYNTHETIC_TAG) || (ind.observed ?? ind.series ?? []).some(isSyntheticPoint),
  };
}

function statusBadge(status) {
  if (!status) return null;
  const key = `status.${status}`;
  const text = t(key);
  return el("span", { class: `badge status-${status}` }, text === key ? String(status) : text);
}

async function loadIndicators(ctx) {
  try {
    return await ctx.once("/indicators");
  } catch (err) {
    if (err.status === 404) return [];
    throw err;
  }
}

export async function render(root, ctx) {
  clear(root);
  // series with figures first (observed and target, then either), each group in the API's order
  const weight = (ind) => (ind.observed.length ? 0 : 2) + (ind.targets.length ? 0 : 1);
  const indicators = (await loadIndicators(ctx))
    .map(normalizeIndicator)
    .map((ind, i) => ({ ind, i }))
    .sort((a, b) => weight(a.ind) - weight(b.ind) || a.i - b.i)
    .map(({ ind }) => ind);
  if (!indicators.length) {
    root.append(el("p", { class: "empty", id: "empty-state" }, t("indicators.empty")));
    return;
  }
  const cards = indicators.map((ind) => {
    const hasFigures = ind.observed.length + ind.forecast.length + ind.targets.length > 0;
    const chartNode = hasFigures ? el("div", { class: "chart small" }) : null;
    const targetText = ind.targets.length
      ? ind.targets.map((p) => `${p.year}: ${formatNumber(p.value)} ${ind.unit}`.trim()).join("; ")
      : "—";
    const regionText = ind.region ? `${ctx.regionName(ind.region)} · ` : "";
    const last = ind.observed[ind.observed.length - 1];
    const latestText = last ? `${local("latest")} ${last.year}: ${formatNumber(last.value)} ${ind.unit}`.trim() : null;
    const node = el(
      "section",
      { class: "card indicator", "data-id": ind.id },
      el(
        "h2",
        {},
        ind.name,
        statusBadge(ind.status),
        ind.synthetic && el("span", { class: "badge warn synthetic-badge" }, local("synthetic")),
      ),
      el("p", { class: "muted target" }, `${regionText}${t("indicators.target")}: ${targetText}`),
      latestText && el("p", { class: "latest" }, latestText),
      chartNode ?? el("p", { class: "muted no-figures" }, local("noFigures")),
      last && !ind.forecast.length && el("p", { class: "muted no-forecast" }, local("noForecast")),
      ind.source &&
        el(
          "details",
          { class: "muted source" },
          el("summary", {}, local("source")),
          el("p", { style: "white-space: pre-line; margin: 0.25rem 0 0" }, ind.source),
        ),
    );
    return { ind, node, chartNode };
  });
  root.append(el("div", { class: "grid2", id: "indicator-list" }, ...cards.map((c) => c.node)));
  for (const { ind, chartNode } of cards) if (chartNode) drawIndicator(chartNode, ind);
}

function drawIndicator(node, ind) {
  // years on a value axis, so uneven gaps (2020 -> 2025) keep their length
  const pairs = (points, field = "value") => points.filter((p) => p[field] != null).map((p) => [p.year, p[field]]);
  const forecastLine = pairs(ind.forecast);
  const last = ind.observed[ind.observed.length - 1];
  // join the forecast to the last observation so the dashed line continues the solid one
  if (last && forecastLine.length && !forecastLine.some(([y]) => y === last.year)) forecastLine.unshift([last.year, last.value]);
  const interval = { type: "line", name: t("indicators.interval"), lineStyle: { type: "dotted", width: 1 }, symbol: "none", color: "#8a8f99" };
  // points marked as the plan's base (method "plan_base", when the API gives point methods) stand apart:
  // the base may come from another method than the accounts (e.g. the Lishui plan's 2019 GEP)
  const base = ind.observed.filter((p) => p.method === "plan_base");
  const measured = ind.observed.filter((p) => p.method !== "plan_base");
  const series = [
    { type: "line", name: t("indicators.series"), data: pairs(measured) },
    { type: "line", name: t("indicators.forecast"), data: forecastLine, lineStyle: { type: "dashed" } },
    { type: "scatter", name: t("indicators.target"), data: pairs(ind.targets), symbol: "diamond", symbolSize: 12, itemStyle: { color: "#c0392b" } },
  ];
  if (base.length) series.push({ type: "scatter", name: local("base"), data: pairs(base), symbol: "rect", symbolSize: 9, itemStyle: { color: "#6b7b8c" } });
  if (ind.forecast.some((p) => p.lower != null && p.upper != null)) {
    series.push({ ...interval, data: pairs(ind.forecast, "lower") }, { ...interval, data: pairs(ind.forecast, "upper") });
  }
  const years = [...ind.observed, ...ind.forecast, ...ind.targets].map((p) => p.year);
  const maxYear = Math.max(...years);
  // a lone year (a target only) gets the five years before it, not an axis around nothing
  const minYear = Math.min(...years) === maxYear ? maxYear - 5 : Math.min(...years);
  makeChart(node, {
    grid: { left: 8, right: 24, top: 30, bottom: 24, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", min: minYear, max: maxYear, minInterval: 1, axisLabel: { formatter: (v) => String(v) } },
    yAxis: { type: "value", name: ind.unit, scale: true },
    series,
  });
}
