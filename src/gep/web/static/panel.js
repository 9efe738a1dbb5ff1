// The region panel: a region's account from GET /accounts/{id}/regions/{code}, opened by a map click
// or from the ranking table. The GEP figure is in #panel-gep (the browser tests read it).

import { getJSON } from "./api.js";
import { formatArea, formatQuantity, formatRatio, formatYuan, formatYuanPerKm2 } from "./format.js";
import { lang, t } from "./i18n.js";
import { el, clear } from "./dom.js";

let shown = null; // {accountId, code, data}

function panelElement() {
  return document.getElementById("region-panel");
}

export function closePanel() {
  shown = null;
  const panel = panelElement();
  panel.hidden = true;
  clear(panel);
  document.dispatchEvent(new CustomEvent("gep:panel-closed"));
}

export async function openPanel(accountId, code) {
  const panel = panelElement();
  panel.hidden = false;
  clear(panel);
  panel.append(el("p", { class: "muted" }, t("loading")));
  panel.dataset.code = code;
  panel.dataset.state = "loading";
  try {
    const data = await getJSON(`/accounts/${encodeURIComponent(accountId)}/regions/${encodeURIComponent(code)}`);
    if (panel.dataset.code !== code) return; // another region was clicked meanwhile
    shown = { accountId, code, data };
    renderPanel();
  } catch (err) {
    clear(panel);
    panel.append(el("p", { class: "error" }, t("load_error", { detail: err.message })));
    panel.dataset.state = "error";
  }
}

/** Re-render the open panel in the current language (after a language switch). */
export function renderPanel() {
  if (!shown) return;
  const { data } = shown;
  const panel = panelElement();
  clear(panel);
  const en = lang() === "en";
  const close = el("button", { type: "button", class: "panel-close", id: "panel-close" }, t("panel.close"));
  close.addEventListener("click", closePanel);
  const row = (labelKey, value, id) =>
    el("div", { class: "kv" }, el("dt", {}, t(labelKey)), el("dd", id ? { id } : {}, value));
  panel.append(
    el("div", { class: "panel-head" }, el("h2", { id: "panel-title" }, data.region_name ?? data.region_code), close),
    el(
      "dl",
      { class: "panel-figures" },
      row("gep", formatYuan(data.gep_yuan), "panel-gep"),
      row("material", formatYuan(data.material_yuan), "panel-material"),
      row("regulating", formatYuan(data.regulating_yuan), "panel-regulating"),
      row("cultural", formatYuan(data.cultural_yuan), "panel-cultural"),
      row("area", formatArea(data.area_km2), "panel-area"),
      row("gep_per_km2", formatYuanPerKm2(data.gep_per_km2_yuan), "panel-density"),
      row("gep_to_gdp", formatRatio(data.gep_to_gdp), "panel-gep-gdp"),
    ),
  );
  const items = [...(data.items ?? [])].sort((a, b) => (b.value_yuan ?? 0) - (a.value_yuan ?? 0));
  if (items.length) {
    const table = el(
      "table",
      { class: "data-table", id: "panel-items" },
      el(
        "thead",
        {},
        el("tr", {}, el("th", {}, t("panel.item")), el("th", {}, t("panel.physical")), el("th", { class: "num" }, t("panel.value"))),
      ),
      el(
        "tbody",
        {},
        ...items.map((item) =>
          el(
            "tr",
            { "data-item": item.item },
            el(
              "td",
              {},
              el("span", { class: `dot ${item.category}`, title: t(item.category) }),
              (en ? item.name_en : item.name_zh) ?? item.item,
            ),
            el("td", { class: "num" }, formatQuantity(item.physical_quantity, item.physical_unit ?? "")),
            el("td", { class: "num" }, formatYuan(item.value_yuan)),
          ),
        ),
      ),
    );
    panel.append(el("h3", {}, t("panel.items")), table);
  }
  panel.dataset.state = "ready";
}
