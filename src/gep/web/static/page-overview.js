// Overview: GEP of the top region, its three parts, GEP against GDP, value by item and the trend over
// the years of all stored accounts.

import { CATEGORY_COLORS, makeChart } from "./charts.js";
import { clear, el } from "./dom.js";
import { chartScale, formatRatio, formatYuan, formatYuanPerCapita, formatYuanPerKm2 } from "./format.js";
import { t } from "./i18n.js";

const CATEGORIES = ["material", "regulating", "cultural"];

function card(labelKey, value, id, extraClass = "") {
  return el("div", { class: `card kpi ${extraClass}`, id }, el("div", { class: "kpi-label" }, t(labelKey)), el("div", { class: "kpi-value" }, value));
}

function section(titleKey, id) {
  const body = el("div", { class: "chart", id });
  return { node: el("section", { class: "card" }, el("h2", {}, t(titleKey)), body), body };
}

/** One account per year (the newest stored, published ones first): [{year, id}] sorted by year. */
export function accountsByYear(accounts) {
  const best = new Map();
  for (const a of accounts) {
    const held = best.get(a.year);
    const better =
      !held ||
      (a.published && !held.published) ||
      (Boolean(a.published) === Boolean(held.published) && String(a.created_at) > String(held.created_at));
    if (better) best.set(a.year, a);
  }
  return [...best.values()].sort((a, b) => a.year - b.year);
}

export async function render(root, ctx) {
  clear(root);
  const top = ctx.summaryRegion(ctx.root);
  const scale = chartScale(Math.abs(top.gep_yuan ?? 0));
  root.append(
    el("h2", { class: "page-title" }, `${ctx.regionName(ctx.root)} · ${ctx.summary.year}`),
    el(
      "div",
      { class: "kpis" },
      card("gep", formatYuan(top.gep_yuan), "kpi-gep", "main"),
      ...CATEGORIES.map((c) => card(c, formatYuan(top[`${c}_yuan`]), `kpi-${c}`, c)),
      card("gep_per_km2", formatYuanPerKm2(top.gep_per_km2_yuan), "kpi-density"),
      card("gep_to_gdp", formatRatio(top.gep_to_gdp), "kpi-gep-gdp"),
      ...(top.gep_per_capita_yuan != null ? [card("gep_per_capita", formatYuanPerCapita(top.gep_per_capita_yuan), "kpi-per-capita")] : []),
    ),
  );
  // lay out every section before drawing, so each chart starts at its final size
  const composition = section("overview.composition", "chart-composition");
  const itemsSection = section("overview.items", "chart-items");
  const trend = section("overview.trend", "chart-trend");
  const gdp = section("overview.vs_gdp", "chart-gdp");
  root.append(el("div", { class: "grid2" }, composition.node, itemsSection.node, trend.node, gdp.node));

  makeChart(composition.body, {
    tooltip: { trigger: "item", formatter: (p) => `${p.name}: ${formatYuan(p.value)} (${p.percent}%)` },
    legend: { bottom: 0 },
    series: [
      {
        type: "pie",
        radius: ["40%", "70%"],
        data: CATEGORIES.map((c) => ({ name: t(c), value: top[`${c}_yuan`] ?? 0, itemStyle: { color: CATEGORY_COLORS[c] } })),
      },
    ],
  });

  const items = Object.entries(top.items_yuan ?? {}).sort((a, b) => a[1] - b[1]);
  makeChart(itemsSection.body, {
    grid: { left: 8, right: 24, top: 8, bottom: 36, containLabel: true },
    tooltip: { trigger: "item", formatter: (p) => `${p.name}: ${formatYuan(p.value * scale.factor)}` },
    xAxis: { type: "value", name: scale.unit, nameLocation: "middle", nameGap: 26 },
    yAxis: { type: "category", data: items.map(([id]) => ctx.itemName(id)) },
    series: [
      {
        type: "bar",
        data: items.map(([id, v]) => ({ value: v / scale.factor, itemStyle: { color: CATEGORY_COLORS[ctx.itemCategory(id)] } })),
      },
    ],
  });

  await renderTrend(trend.body, ctx, scale);

  renderGdp(gdp.body, ctx, scale);
}

async function renderTrend(body, ctx, scale) {
  const years = accountsByYear(ctx.accounts);
  if (years.length < 2) {
    body.classList.add("note");
    body.append(el("p", { class: "muted" }, t("overview.trend_single")));
    return;
  }
  const points = await Promise.all(
    years.map(async (a) => {
      if (a.id === ctx.accountId) return [a.year, ctx.summaryRegion(ctx.root).gep_yuan];
      try {
        const region = await ctx.once(`/accounts/${encodeURIComponent(a.id)}/regions/${encodeURIComponent(ctx.root)}`);
        return [a.year, region.gep_yuan];
      } catch {
        return [a.year, null];
      }
    }),
  );
  makeChart(body, {
    grid: { left: 8, right: 24, top: 30, bottom: 24, containLabel: true },
    tooltip: { trigger: "axis", valueFormatter: (v) => formatYuan(v * scale.factor) },
    xAxis: { type: "category", data: points.map((p) => String(p[0])) },
    yAxis: { type: "value", name: scale.unit },
    series: [{ type: "line", name: t("gep"), data: points.map((p) => (p[1] == null ? null : p[1] / scale.factor)), smooth: false }],
  });
}

function renderGdp(body, ctx, scale) {
  const codes = [ctx.root, ...ctx.childrenOf(ctx.root)];
  const rows = codes.map((code) => ctx.summaryRegion(code)).filter(Boolean);
  if (!rows.some((r) => r.gdp_yuan != null)) {
    body.classList.add("note");
    body.append(el("p", { class: "muted" }, t("overview.no_gdp")));
    return;
  }
  const value = (v) => (v == null ? null : v / scale.factor);
  makeChart(body, {
    grid: { left: 8, right: 24, top: 30, bottom: 24, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "—" : formatYuan(v * scale.factor)) },
    xAxis: { type: "category", data: rows.map((r) => ctx.regionName(r.region_code)) },
    yAxis: { type: "value", name: scale.unit },
    series: [
      { type: "bar", name: t("gep.short"), data: rows.map((r) => value(r.gep_yuan)), itemStyle: { color: "#3f8f5a" } },
      { type: "bar", name: "GDP", data: rows.map((r) => value(r.gdp_yuan)), itemStyle: { color: "#8a8f99" } },
    ],
  });
}
