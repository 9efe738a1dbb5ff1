// County evaluation: the newest year's scores (or a chosen year's), ranked, with grade, method and
// the numeric parts of each evaluation's details as extra columns.

import { makeChart } from "./charts.js";
import { clear, el } from "./dom.js";
import { formatNumber } from "./format.js";
import { t } from "./i18n.js";
import { rankRows } from "./page-ranking.js";

let chosenYear = null;

async function loadEvaluations(ctx) {
  try {
    return await ctx.once("/evaluations");
  } catch (err) {
    if (err.status === 404) return [];
    throw err;
  }
}

function numericDetails(row) {
  const details = row.details && typeof row.details === "object" ? row.details : {};
  return Object.fromEntries(Object.entries(details).filter(([, v]) => typeof v === "number"));
}

export async function render(root, ctx) {
  clear(root);
  const all = await loadEvaluations(ctx);
  if (!all.length) {
    root.append(el("p", { class: "empty", id: "empty-state" }, t("evaluation.empty")));
    return;
  }
  const years = [...new Set(all.map((r) => r.year).filter((y) => y != null))].sort((a, b) => b - a);
  if (!years.includes(chosenYear)) chosenYear = years[0] ?? null;
  const rows = all.filter((r) => chosenYear == null || r.year === chosenYear);
  const ranked = rows.some((r) => r.rank == null)
    ? rankRows(rows, "score")
    : [...rows].sort((a, b) => a.rank - b.rank).map((row) => ({ row, rank: row.rank }));
  const name = (r) => (ctx.region(r.region_code) ? ctx.regionName(r.region_code) : r.region_name ?? r.region_code);
  const detailKeys = [...new Set(rows.flatMap((r) => Object.keys(numericDetails(r))))];
  const hasGrade = rows.some((r) => r.grade);
  const hasMethod = rows.some((r) => r.method);

  const toolbar = el("div", { class: "toolbar" });
  if (years.length > 1) {
    const select = el(
      "select",
      { id: "evaluation-year" },
      ...years.map((y) => el("option", { value: String(y), selected: y === chosenYear }, String(y))),
    );
    select.addEventListener("change", () => {
      chosenYear = Number(select.value);
      render(root, ctx);
    });
    toolbar.append(el("label", { for: "evaluation-year" }, t("evaluation.year")), select);
  } else if (chosenYear != null) toolbar.append(el("span", {}, `${t("evaluation.year")}: ${chosenYear}`));

  const table = el(
    "table",
    { class: "data-table", id: "evaluation-table" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", {}, t("evaluation.rank")),
        el("th", {}, t("ranking.region")),
        el("th", { class: "num" }, t("evaluation.score")),
        hasGrade && el("th", {}, t("evaluation.grade")),
        hasMethod && el("th", {}, t("evaluation.method")),
        ...detailKeys.map((k) => el("th", { class: "num" }, k)),
      ),
    ),
    el(
      "tbody",
      {},
      ...ranked.map(({ row, rank }) =>
        el(
          "tr",
          { "data-code": row.region_code },
          el("td", {}, rank ?? "—"),
          el("td", {}, name(row)),
          el("td", { class: "num" }, formatNumber(row.score)),
          hasGrade && el("td", {}, row.grade ?? ""),
          hasMethod && el("td", {}, row.method ?? ""),
          ...detailKeys.map((k) => el("td", { class: "num" }, formatNumber(numericDetails(row)[k]))),
        ),
      ),
    ),
  );
  const chartNode = el("div", { class: "chart" });
  root.append(
    toolbar,
    el("div", { class: "grid2" }, el("section", { class: "card" }, table), el("section", { class: "card" }, el("h2", {}, t("evaluation.chart")), chartNode)),
  );
  const ordered = ranked.map((r) => r.row).reverse();
  makeChart(chartNode, {
    grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
    tooltip: { trigger: "item" },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: ordered.map(name) },
    series: [{ type: "bar", data: ordered.map((r) => r.score), itemStyle: { color: "#4a7fb5" } }],
  });
}
