// Indicators against their targets: observed values (solid), forecasts (dashed, with their interval
// when given) and target lines. Accepts the store's series ({observed, targets, forecast}) and the
// summarised form ({series, target_2025, forecast, status}).

import { makeChart } from "./charts.js";
import { clear, el } from "./dom.js";
import { formatNumber } from "./format.js";
import { lang, t } from "./i18n.js";

/** One indicator in a single shape: {id, name, unit, region, observed, forecast, targets, status}. */
export function normalizeIndicator(ind) {
  const targets = [...(ind.targets ?? [])];
  if (ind.target_2025 != null && !targets.some((p) => p.year === 2025)) targets.push({ year: 2025, value: ind.target_2025 });
  return {
    id: ind.id ?? ind.code,
    name: (lang() === "en" ? ind.name_en || ind.name_zh : ind.name_zh || ind.name_en) || ind.code || String(ind.id),
    unit: ind.unit ?? "",
    region: ind.region_code ?? null,
    observed: [...(ind.observed ?? ind.series ?? [])].sort((a, b) => a.year - b.year),
    forecast: [...(ind.forecast ?? [])].sort((a, b) => a.year - b.year),
    targets: targets.sort((a, b) => a.year - b.year),
    status: ind.status ?? null,
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
  const indicators = (await loadIndicators(ctx)).map(normalizeIndicator);
  if (!indicators.length) {
    root.append(el("p", { class: "empty", id: "empty-state" }, t("indicators.empty")));
    return;
  }
  const cards = indicators.map((ind) => {
    const chartNode = el("div", { class: "chart small" });
    const targetText = ind.targets.length
      ? ind.targets.map((p) => `${p.year}: ${formatNumber(p.value)} ${ind.unit}`.trim()).join("; ")
      : "—";
    const regionText = ind.region ? `${ctx.regionName(ind.region)} · ` : "";
    const node = el(
      "section",
      { class: "card indicator", "data-id": ind.id },
      el("h2", {}, ind.name, statusBadge(ind.status)),
      el("p", { class: "muted" }, `${regionText}${t("indicators.target")}: ${targetText}`),
      chartNode,
    );
    return { ind, node, chartNode };
  });
  root.append(el("div", { class: "grid2", id: "indicator-list" }, ...cards.map((c) => c.node)));
  for (const { ind, chartNode } of cards) drawIndicator(chartNode, ind);
}

function drawIndicator(node, ind) {
  // years on a value axis, so uneven gaps (2020 -> 2025) keep their length
  const pairs = (points, field = "value") => points.filter((p) => p[field] != null).map((p) => [p.year, p[field]]);
  const forecastLine = pairs(ind.forecast);
  const last = ind.observed[ind.observed.length - 1];
  // join the forecast to the last observation so the dashed line continues the solid one
  if (last && forecastLine.length && !forecastLine.some(([y]) => y === last.year)) forecastLine.unshift([last.year, last.value]);
  const interval = { type: "line", name: t("indicators.interval"), lineStyle: { type: "dotted", width: 1 }, symbol: "none", color: "#8a8f99" };
  const series = [
    { type: "line", name: t("indicators.series"), data: pairs(ind.observed) },
    { type: "line", name: t("indicators.forecast"), data: forecastLine, lineStyle: { type: "dashed" } },
    { type: "scatter", name: t("indicators.target"), data: pairs(ind.targets), symbol: "diamond", symbolSize: 12, itemStyle: { color: "#c0392b" } },
  ];
  if (ind.forecast.some((p) => p.lower != null && p.upper != null)) {
    series.push({ ...interval, data: pairs(ind.forecast, "lower") }, { ...interval, data: pairs(ind.forecast, "upper") });
  }
  const years = [...ind.observed, ...ind.forecast, ...ind.targets].map((p) => p.year);
  makeChart(node, {
    grid: { left: 8, right: 24, top: 30, bottom: 24, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", min: Math.min(...years), max: Math.max(...years), minInterval: 1, axisLabel: { formatter: (v) => String(v) } },
    yAxis: { type: "value", name: ind.unit, scale: true },
    series,
  });
}
