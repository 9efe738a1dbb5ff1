// Map page: county boundaries with the GEP density map or one item's value map as an overlay.
// Clicking a county opens its panel (panel.js).

import { mapUrl } from "./api.js";
import { clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { MapView } from "./map.js";
import { openPanel } from "./panel.js";

let view = null;
let layers = [];
let select = null;
let chosen = null;

export function clickableLevelOf(geojson) {
  const levels = new Set(geojson.features.map((f) => f.properties.level));
  if (levels.has("county")) return "county";
  const roots = geojson.features.filter((f) => !f.properties.parent);
  const rootCodes = new Set(roots.map((f) => f.properties.code));
  const child = geojson.features.find((f) => rootCodes.has(f.properties.parent));
  return child?.properties.level ?? roots[0]?.properties.level ?? "county";
}

function layerLabel(ctx, layer) {
  if (layer === null) return t("map.boundaries_only");
  return layer.item === "gep_density" ? t("map.gep_density") : ctx.itemName(layer.item);
}

function fillSelect(ctx) {
  clear(select);
  select.append(el("option", { value: "" }, layerLabel(ctx, null)));
  layers.forEach((layer, i) => {
    select.append(el("option", { value: String(i), selected: chosen === layer }, layerLabel(ctx, layer)));
  });
}

function applyLayer() {
  if (!view) return;
  view.setOverlay(chosen ? mapUrl(chosen.accountId, chosen.item, chosen.kind) : null, chosen?.bounds_lonlat);
}

export async function render(root, ctx) {
  leave();
  clear(root);
  const [geojson, maps] = await Promise.all([
    ctx.once("/regions.geojson"),
    ctx.once(`/accounts/${encodeURIComponent(ctx.accountId)}/maps`),
  ]);
  layers = maps
    .filter((m) => m.kind === "value" || m.item === "gep_density")
    .map((m) => ({ ...m, accountId: ctx.accountId }))
    .sort((a, b) => (a.item === "gep_density" ? -1 : b.item === "gep_density" ? 1 : 0));
  chosen = layers.find((l) => l.item === "gep_density") ?? null;
  select = el("select", { id: "layer-select" });
  select.addEventListener("change", () => {
    chosen = select.value === "" ? null : layers[Number(select.value)];
    applyLayer();
  });
  fillSelect(ctx);
  const note = el("p", { class: "muted", id: "map-note" }, t("map.hint"));
  const container = el("div", { id: "map", class: "map" });
  root.append(
    el("div", { class: "toolbar" }, el("label", { for: "layer-select", id: "layer-label" }, t("map.layer")), select, note),
    container,
  );
  const level = clickableLevelOf(geojson);
  view = new MapView(container, {
    geojson,
    clickableLevel: level,
    labelOf: (feature) => ctx.regionName(feature.properties.code),
    onSelect: (code) => {
      view.highlight(code);
      openPanel(ctx.accountId, code);
    },
    onFallback: () => {
      note.textContent = `${t("map.fallback")} ${t("map.hint")}`;
    },
  });
  window.gepDashboard.map = view;
  await view.init();
  applyLayer();
  document.addEventListener("gep:panel-closed", onPanelClosed);
}

function onPanelClosed() {
  view?.highlight(null);
}

export async function relanguage(ctx) {
  document.getElementById("layer-label").textContent = t("map.layer");
  const note = document.getElementById("map-note");
  note.textContent = view?.renderer === "svg" ? `${t("map.fallback")} ${t("map.hint")}` : t("map.hint");
  fillSelect(ctx);
  view?.relabel();
}

export function leave() {
  document.removeEventListener("gep:panel-closed", onPanelClosed);
  view?.destroy();
  view = null;
  window.gepDashboard.map = null;
}
