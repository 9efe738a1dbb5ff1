// County evaluation: the newest year's scores (or a chosen year's), ranked, with grade, method and
// extra columns from each evaluation's details: the indicator values when the details list them
// (details.indicators: [{id, name_zh, name_en, unit, value}], as gep.api.seed stores them), else the
// numeric parts of the details. A note names the indicators used and absent and warns when the
// data are synthetic (details.synthetic).

import { makeChart } from "./charts.js";
import { clear, el } from "./dom.js";
import { formatNumber } from "./format.js";
import { lang, t } from "./i18n.js";
import { rankRows } from "./page-ranking.js";

const LOCAL = {
  zh: { used: "参评指标", absent: "缺少数据、未参评的指标", synthetic: "合成数据", count: (n) => `${n} 项` },
  en: { used: "Indicators used", absent: "Indicators without data, not used", synthetic: "Synthetic data", count: (n) => `${n}` },
};

function local(key) {
  return (LOCAL[lang()] ?? LOCAL.zh)[key];
}

function named(item) {
  return (lang() === "en" ? item.name_en || item.name_zh : item.name_zh || item.name_en) || item.id || "";
}

function listedIndicators(row) {
  const list = row.details?.indicators;
  return Array.isArray(list) ? list.filter((i) => i && i.id != null) : [];
}

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
  return Object.fromEntries(Object.entries(details).filter(([k, v]) => typeof v === "number" && k !== "rank"));
}

/** Extra columns: [{key, label, value(row)}] from listed indicators, else from numeric details. */
function detailColumns(rows) {
  const listed = new Map();
  for (const row of rows) for (const ind of listedIndicators(row)) if (!listed.has(ind.id)) listed.set(ind.id, ind);
  if (listed.size) {
    return [...listed.values()].map((ind) => ({
      key: ind.id,
      label: ind.unit ? `${named(ind)} (${ind.unit})` : named(ind),
      value: (row) => listedIndicators(row).find((i) => i.id === ind.id)?.value,
    }));
  }
  const keys = [...new Set(rows.flatMap((r) => Object.keys(numericDetails(r))))];
  return keys.map((k) => ({ key: k, label: k, value: (row) => numericDetails(row)[k] }));
}

function methodText(row) {
  const d = row.details ?? {};
  return (lang() === "en" ? d.name_en || d.name_zh : d.name_zh || d.name_en) || row.method || "";
}

/** What the evaluation rests on: indicators used and absent, and the synthetic-data warning. */
function evaluationNote(rows) {
  const withDetails = rows.find((r) => Array.isArray(r.details?.indicators_used) || Array.isArray(r.details?.indicators_absent));
  const synthetic = rows.some((r) => r.details?.synthetic === true);
  if (!withDetails && !synthetic) return null;
  const d = withDetails?.details ?? {};
  const names = new Map(listedIndicators(withDetails ?? {}).map((i) => [i.id, named(i)]));
  const used = (d.indicators_used ?? []).map((id) => names.get(id) ?? id);
  const absent = (d.indicators_absent ?? []).map((a) => (typeof a === "object" ? named(a) : String(a)));
  const dataNote = (lang() === "en" ? d.data_note_en || d.data_note_zh : d.data_note_zh || d.data_note_en) ?? "";
  return el(
    "section",
    { class: "card evaluation-note", id: "evaluation-note" },
    el("h2", {}, methodText(withDetails ?? rows[0])),
    synthetic && el("p", {}, el("span", { class: "badge warn synthetic-badge" }, local("synthetic")), " ", dataNote),
    !synthetic && dataNote && el("p", {}, dataNote),
    used.length > 0 && el("p", {}, `${local("used")}: ${used.join(lang() === "en" ? ", " : "、")}`),
    absent.length > 0 &&
      el(
        "details",
        { class: "muted" },
        el("summary", {}, `${local("absent")}: ${local("count")(absent.length)}`),
        el("p", {}, absent.join(lang() === "en" ? "; " : "；")),
      ),
    d.source && el("p", { class: "muted" }, d.source),
  );
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
  const rankOf = (r) => r.rank ?? r.details?.rank ?? null;
  const ranked = rows.some((r) => rankOf(r) == null)
    ? rankRows(rows, "score")
    : [...rows].sort((a, b) => rankOf(a) - rankOf(b)).map((row) => ({ row, rank: rankOf(row) }));
  const name = (r) => (ctx.region(r.region_code) ? ctx.regionName(r.region_code) : r.region_name ?? r.region_code);
  const columns = detailColumns(rows);
  const hasGrade = rows.some((r) => r.grade);
  const note = evaluationNote(rows);
  // one method for every row: named once in the note instead of in each row
  const hasMethod = rows.some((r) => r.method) && !(note && new Set(rows.map(methodText)).size === 1);

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
        ...columns.map((c) => el("th", { class: "num", "data-key": c.key }, c.label)),
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
          hasMethod && el("td", {}, methodText(row)),
          ...columns.map((c) => el("td", { class: "num" }, formatNumber(c.value(row)))),
        ),
      ),
    ),
  );
  const chartNode = el("div", { class: "chart" });
  const grid = el("div", { class: "grid2" }, el("section", { class: "card" }, table), el("section", { class: "card" }, el("h2", {}, t("evaluation.chart")), chartNode));
  root.append(...[toolbar, note, grid].filter(Boolean));
  const ordered = ranked.map((r) => r.row).reverse();
  makeChart(chartNode, {
    grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
    tooltip: { trigger: "item" },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: ordered.map(name) },
    series: [{ type: "bar", data: ordered.map((r) => r.score), itemStyle: { color: "#4a7fb5" } }],
  });
}
