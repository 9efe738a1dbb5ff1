// Region ranking with drill-down: the sub-regions of one region (#ranking/<code>, the top region by
// default) ranked by a chosen figure; a region with sub-regions opens its own ranking; "details"
// opens the region panel. Zones (protected areas...) are ranked in a table of their own.

import { CATEGORY_COLORS, makeChart } from "./charts.js";
import { clear, el } from "./dom.js";
import { chartScale, formatRatio, formatYuan, formatYuanPerCapita, formatYuanPerKm2 } from "./format.js";
import { t } from "./i18n.js";
import { openPanel } from "./panel.js";

const METRICS = {
  gep_yuan: { label: "gep", format: formatYuan, money: true },
  material_yuan: { label: "material", format: formatYuan, money: true },
  regulating_yuan: { label: "regulating", format: formatYuan, money: true },
  cultural_yuan: { label: "cultural", format: formatYuan, money: true },
  gep_per_km2_yuan: { label: "gep_per_km2", format: formatYuanPerKm2, money: true },
  gep_to_gdp: { label: "gep_to_gdp", format: formatRatio, money: false },
  gep_per_capita_yuan: { label: "gep_per_capita", format: formatYuanPerCapita, money: true },
};

let metric = "gep_yuan";

function parentFromHash(ctx) {
  const code = decodeURIComponent(window.location.hash.replace(/^#\/?/, "").split("/")[1] ?? "");
  return code && ctx.summaryRegion(code) ? code : ctx.root;
}

function lineage(ctx, code) {
  const chain = [];
  for (let c = code; c && chain.length < 20; c = ctx.region(c)?.parent) {
    chain.unshift(String(c));
    if (c === ctx.root) break;
  }
  return chain;
}

/** Rows sorted by `key`, missing values last; equal values share a rank (1, 2, 2, 4). */
export function rankRows(rows, key) {
  const sorted = [...rows].sort((a, b) => (b[key] ?? -Infinity) - (a[key] ?? -Infinity));
  let rank = 0;
  return sorted.map((row, i) => {
    if (i === 0 || row[key] !== sorted[i - 1][key]) rank = i + 1;
    return { row, rank: row[key] == null ? null : rank };
  });
}

function rankTable(ctx, rows, id, drill) {
  const m = METRICS[metric];
  const ranked = rankRows(rows, metric);
  const head = el(
    "tr",
    {},
    el("th", {}, t("ranking.rank")),
    el("th", {}, t("ranking.region")),
    el("th", { class: "num" }, t(m.label)),
    ...(metric === "gep_yuan" ? ["material", "regulating", "cultural"].map((c) => el("th", { class: "num" }, t(c))) : []),
    el("th", {}, ""),
  );
  const body = ranked.map(({ row, rank }) => {
    const code = String(row.region_code);
    const hasChildren = drill && ctx.childrenOf(code).length > 0;
    const name = hasChildren
      ? el("a", { href: `#ranking/${encodeURIComponent(code)}`, class: "drill", title: t("ranking.drill") }, ctx.regionName(code), " ›")
      : ctx.regionName(code);
    const details = el("button", { type: "button", class: "link", "data-code": code }, "ⓘ");
    details.addEventListener("click", () => openPanel(ctx.accountId, code));
    return el(
      "tr",
      { "data-code": code },
      el("td", {}, rank ?? "—"),
      el("td", {}, name),
      el("td", { class: "num" }, m.format(row[metric])),
      ...(metric === "gep_yuan"
        ? ["material", "regulating", "cultural"].map((c) => el("td", { class: "num" }, formatYuan(row[`${c}_yuan`])))
        : []),
      el("td", {}, details),
    );
  });
  return el("table", { class: "data-table", id }, el("thead", {}, head), el("tbody", {}, ...body));
}

function chart(ctx, node, rows) {
  const m = METRICS[metric];
  const scale = chartScale(Math.max(0, ...rows.map((r) => Math.abs(r[metric] ?? 0))));
  const factor = m.money ? scale.factor : 1;
  const sorted = rankRows(rows, metric)
    .map((r) => r.row)
    .reverse();
  makeChart(node, {
    grid: { left: 8, right: 24, top: 24, bottom: 36, containLabel: true },
    tooltip: { trigger: "item", formatter: (p) => `${p.name}: ${m.format(p.value * factor)}` },
    xAxis: { type: "value", name: m.money ? scale.unit : "", nameLocation: "middle", nameGap: 26 },
    yAxis: { type: "category", data: sorted.map((r) => ctx.regionName(r.region_code)) },
    series: [
      {
        type: "bar",
        data: sorted.map((r) => (r[metric] == null ? null : r[metric] / factor)),
        itemStyle: { color: CATEGORY_COLORS.regulating },
      },
    ],
  });
}

export async function render(root, ctx) {
  clear(root);
  const parent = parentFromHash(ctx);
  const childCodes = ctx.childrenOf(parent);
  const rows = (childCodes.length ? childCodes : [parent]).map((c) => ctx.summaryRegion(c)).filter(Boolean);
  const zones = ctx.summary.regions.filter((r) => r.level === "zone");

  const metricSelect = el(
    "select",
    { id: "rank-by" },
    ...Object.entries(METRICS).map(([key, m]) => el("option", { value: key, selected: key === metric }, t(m.label))),
  );
  metricSelect.addEventListener("change", () => {
    metric = metricSelect.value;
    render(root, ctx);
  });
  const crumbs = lineage(ctx, parent).map((code, i, all) =>
    i === all.length - 1 ? el("strong", {}, ctx.regionName(code)) : el("a", { href: `#ranking/${encodeURIComponent(code)}` }, ctx.regionName(code)),
  );
  const breadcrumb = el("nav", { class: "breadcrumb", id: "breadcrumb" });
  crumbs.forEach((c, i) => breadcrumb.append(...(i ? [" / ", c] : [c])));

  const chartNode = el("div", { class: "chart", id: "chart-ranking" });
  root.append(
    el("div", { class: "toolbar" }, breadcrumb, el("label", { for: "rank-by" }, t("ranking.by")), metricSelect),
    el("div", { class: "grid2" }, el("section", { class: "card" }, rankTable(ctx, rows, "ranking-table", true)), el("section", { class: "card" }, chartNode)),
  );
  chart(ctx, chartNode, rows);
  if (zones.length) {
    root.append(el("section", { class: "card" }, el("h2", {}, t("ranking.zones")), rankTable(ctx, zones, "zone-table", false)));
  }
}
