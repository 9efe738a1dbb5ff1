// The dashboard shell: loads the account data once, routes #overview / #map / #ranking /
// #indicators / #evaluation to their page modules, and re-renders on a language switch.
// window.gepDashboard exposes the state the browser tests wait on (ready, page, map).

import { getJSON } from "./api.js";
import { disposeCharts } from "./charts.js";
import { clear, el } from "./dom.js";
import { ITEMS, lang, setLang, t, translatePage } from "./i18n.js";
import { closePanel, renderPanel } from "./panel.js";
import * as evaluation from "./page-evaluation.js";
import * as indicators from "./page-indicators.js";
import * as mapPage from "./page-map.js";
import * as overview from "./page-overview.js";
import * as ranking from "./page-ranking.js";

const PAGES = { overview, map: mapPage, ranking, indicators, evaluation };

const state = { page: null, ctx: null, rendering: null };
window.gepDashboard = { ready: false, page: null, map: null, error: null };

/** Everything the pages share, fetched once (item names once per language). */
async function loadContext() {
  const [regions, accounts] = await Promise.all([getJSON("/regions"), getJSON("/accounts")]);
  const summary = accounts.length ? await getJSON("/accounts/latest") : null;
  const byCode = new Map(regions.map((r) => [String(r.code), r]));
  const summaryByCode = new Map((summary?.regions ?? []).map((r) => [String(r.region_code), r]));
  const children = new Map();
  for (const r of regions) {
    if (r.parent) {
      const key = String(r.parent);
      if (!children.has(key)) children.set(key, []);
      children.get(key).push(String(r.code));
    }
  }
  const roots = regions.filter((r) => !r.parent || !byCode.has(String(r.parent))).map((r) => String(r.code));
  const root = roots.find((code) => summaryByCode.has(code)) ?? summary?.regions?.find((r) => r.level !== "zone")?.region_code;
  const itemNames = {};
  const cache = {};
  const ctx = {
    regions,
    accounts,
    summary,
    accountId: summary?.id ?? null,
    root: root ? String(root) : null,
    region: (code) => byCode.get(String(code)),
    summaryRegion: (code) => summaryByCode.get(String(code)),
    childrenOf: (code) => (children.get(String(code)) ?? []).filter((c) => summaryByCode.has(c)),
    regionName(code) {
      const r = byCode.get(String(code));
      if (r) return lang() === "en" ? r.name_en || r.name : r.name;
      return summaryByCode.get(String(code))?.region_name ?? String(code);
    },
    async loadItemNames() {
      const language = lang();
      if (itemNames[language]) return;
      itemNames[language] = {};
      const list = await getJSON(`/items?lang=${language}`);
      for (const entry of Array.isArray(list) ? list : list.items ?? []) {
        const id = entry.id ?? entry.item;
        const name = entry.name ?? (language === "en" ? entry.name_en : entry.name_zh);
        if (id) itemNames[language][id] = { name, category: entry.category };
      }
    },
    itemName(id) {
      return itemNames[lang()]?.[id]?.name ?? ITEMS[id]?.[lang()] ?? id;
    },
    itemCategory(id) {
      return itemNames[lang()]?.[id]?.category ?? ITEMS[id]?.category ?? "regulating";
    },
    /** Fetch once and keep: GET `path`. */
    once(path) {
      cache[path] ??= getJSON(path);
      return cache[path];
    },
  };
  return ctx;
}

function currentPage() {
  const name = window.location.hash.replace(/^#\/?/, "").split("/")[0];
  return name in PAGES ? name : "overview";
}

function renderAccountBar(ctx) {
  const bar = document.getElementById("account-bar");
  clear(bar);
  if (!ctx?.summary) return;
  const s = ctx.summary;
  bar.append(
    el("span", { class: "account-name" }, `${t("account")}: ${s.name}`),
    el("span", {}, `${t("year")}: ${s.year}`),
    el("span", {}, `${t("profile")}: ${s.profile}`),
  );
  if (s.synthetic) bar.append(el("span", { class: "badge warn", id: "synthetic-badge" }, t("synthetic")));
}

async function render() {
  const name = currentPage();
  const root = document.getElementById("page");
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === name);
  if (state.page && state.page !== name) {
    PAGES[state.page].leave?.();
    closePanel();
  }
  state.page = name;
  window.gepDashboard.page = name;
  window.gepDashboard.ready = false;
  translatePage();
  document.title = t("app.title");
  renderAccountBar(state.ctx);
  disposeCharts();
  try {
    if (!state.ctx) throw new Error(window.gepDashboard.error ?? "no data");
    await state.ctx.loadItemNames();
    if (!state.ctx.summary && name !== "indicators" && name !== "evaluation") {
      clear(root);
      root.append(el("p", { class: "empty", id: "empty-state" }, t("no_account")));
    } else {
      await PAGES[name].render(root, state.ctx);
    }
    renderPanel();
  } catch (err) {
    clear(root);
    root.append(el("p", { class: "error" }, t("load_error", { detail: err.message })));
    window.gepDashboard.error = err.message;
  }
  if (state.page === name) window.gepDashboard.ready = true;
}

function queueRender() {
  state.rendering = (state.rendering ?? Promise.resolve()).then(render, render);
  return state.rendering;
}

async function start() {
  document.getElementById("lang-toggle").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    if (PAGES[state.page]?.relanguage && state.ctx) {
      // pages that hold live widgets (the map) update their labels in place
      window.gepDashboard.ready = false;
      translatePage();
      document.title = t("app.title");
      renderAccountBar(state.ctx);
      state.rendering = (state.rendering ?? Promise.resolve()).then(async () => {
        await state.ctx.loadItemNames();
        await PAGES[state.page].relanguage(state.ctx);
        renderPanel();
        window.gepDashboard.ready = true;
      });
    } else queueRender();
  });
  window.addEventListener("hashchange", queueRender);
  try {
    state.ctx = await loadContext();
  } catch (err) {
    window.gepDashboard.error = err.message;
  }
  await queueRender();
}

start();
