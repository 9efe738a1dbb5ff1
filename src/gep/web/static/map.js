// The county map: MapLibre GL JS over a blank style (no tiles, no glyphs, nothing from the internet),
// with an SVG fallback when WebGL is unavailable. Both renderers draw the region polygons, an optional
// PNG overlay (an account map over its lon/lat bounds) and HTML/SVG labels, and call onSelect(code)
// when a clickable region is clicked. project(lon, lat) gives container pixels (used by the tests).

import { ringCentroid } from "./geo.js";

const BLANK_STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2ee" } }],
};

export function webglAvailable() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch {
    return false;
  }
}

function featureBounds(geojson) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (coords) => {
    if (typeof coords[0] === "number") {
      w = Math.min(w, coords[0]);
      e = Math.max(e, coords[0]);
      s = Math.min(s, coords[1]);
      n = Math.max(n, coords[1]);
    } else coords.forEach(visit);
  };
  for (const f of geojson.features) if (f.geometry) visit(f.geometry.coordinates);
  return [w, s, e, n];
}

/** Label anchor: centroid of the largest outer ring of the feature. */
export function labelPoint(feature) {
  const g = feature.geometry;
  const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
  let best = null;
  for (const polygon of polygons) {
    const c = ringCentroid(polygon[0]);
    if (c && (!best || c.area > best.area)) best = c;
  }
  return best ? [best.x, best.y] : null;
}

export class MapView {
  /**
   * @param {HTMLElement} container
   * @param {object} options geojson (EPSG:4326 FeatureCollection), clickableLevel, onSelect(code),
   *   labelOf(feature) -> string, onFallback() called when the SVG renderer is used.
   */
  constructor(container, options) {
    this.container = container;
    this.options = options;
    this.renderer = null;
    this.ready = false;
    this.selected = null;
    this.overlay = null;
    this.overlayState = "none"; // none | loading | loaded | error
  }

  async init() {
    if (webglAvailable()) {
      try {
        await this._initMapLibre();
        this.renderer = "maplibre";
      } catch (err) {
        console.warn(`MapLibre could not start (${err.message}); using the SVG map`);
        this._teardownMapLibre();
      }
    }
    if (!this.renderer) {
      this._initSvg();
      this.renderer = "svg";
      this.options.onFallback?.();
    }
    this.ready = true;
    return this;
  }

  // ---- MapLibre ---------------------------------------------------------------------------------

  async _initMapLibre() {
    const maplibregl = await import("./vendor/maplibre-gl.mjs");
    this.maplibregl = maplibregl;
    const [w, s, e, n] = featureBounds(this.options.geojson);
    const map = new maplibregl.Map({
      container: this.container,
      style: BLANK_STYLE,
      bounds: [w, s, e, n],
      fitBoundsOptions: { padding: 24 },
      attributionControl: false,
      renderWorldCopies: false,
      fadeDuration: 0,
    });
    this.map = map;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the map did not load within 20 s")), 20000);
      map.once("load", () => {
        clearTimeout(timer);
        resolve();
      });
      map.once("error", (event) => {
        clearTimeout(timer);
        reject(event.error ?? new Error("map error"));
      });
    });
    const level = this.options.clickableLevel;
    map.addSource("regions", { type: "geojson", data: this.options.geojson });
    map.addLayer({
      id: "region-fill",
      type: "fill",
      source: "regions",
      filter: ["==", ["get", "level"], level],
      paint: { "fill-color": "#5a9a6e", "fill-opacity": 0.08 },
    });
    map.addLayer({
      id: "region-line",
      type: "line",
      source: "regions",
      paint: {
        "line-color": "#2f4f3a",
        "line-width": ["case", ["==", ["get", "level"], level], 1.2, 2.2],
      },
    });
    map.addLayer({
      id: "region-selected",
      type: "line",
      source: "regions",
      filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#c0392b", "line-width": 3 },
    });
    map.on("sourcedata", (event) => {
      if (event.sourceId === "overlay" && this.overlay && map.isSourceLoaded("overlay")) this.overlayState = "loaded";
    });
    map.on("error", (event) => {
      // a listener stops MapLibre's own console.error, so report the error here
      if (event.sourceId === "overlay") this.overlayState = "error";
      console.error(`map: ${event.error?.message ?? event.error ?? "error"}`);
    });
    map.on("click", "region-fill", (event) => {
      const feature = event.features?.[0];
      if (feature) this.options.onSelect(String(feature.properties.code));
    });
    map.on("mouseenter", "region-fill", () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", "region-fill", () => (map.getCanvas().style.cursor = ""));
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.markers = [];
    this._drawLabelsMapLibre();
  }

  _drawLabelsMapLibre() {
    for (const marker of this.markers ?? []) marker.remove();
    this.markers = [];
    for (const feature of this.options.geojson.features) {
      if (feature.properties.level !== this.options.clickableLevel) continue;
      const at = labelPoint(feature);
      if (!at) continue;
      const element = document.createElement("div");
      element.className = "map-label";
      element.textContent = this.options.labelOf(feature);
      this.markers.push(new this.maplibregl.Marker({ element }).setLngLat(at).addTo(this.map));
    }
  }

  _teardownMapLibre() {
    try {
      this.map?.remove();
    } catch {
      // a map that failed to start may not tear down cleanly
    }
    this.map = null;
    this.container.innerHTML = "";
  }

  // ---- SVG fallback -----------------------------------------------------------------------------

  _initSvg() {
    const NS = "http://www.w3.org/2000/svg";
    const rect = this.container.getBoundingClientRect();
    const width = Math.max(rect.width, 300);
    const height = Math.max(rect.height, 300);
    const [w, s, e, n] = featureBounds(this.options.geojson);
    const merc = ([lon, lat]) => [
      (lon * Math.PI) / 180,
      Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)),
    ];
    const [x0, y0] = merc([w, s]);
    const [x1, y1] = merc([e, n]);
    const pad = 24;
    const scale = Math.min((width - 2 * pad) / Math.max(x1 - x0, 1e-12), (height - 2 * pad) / Math.max(y1 - y0, 1e-12));
    const ox = (width - scale * (x1 - x0)) / 2;
    const oy = (height - scale * (y1 - y0)) / 2;
    this._svgProject = (lon, lat) => {
      const [x, y] = merc([lon, lat]);
      return { x: ox + (x - x0) * scale, y: height - (oy + (y - y0) * scale) };
    };
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", "svg-map");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const background = document.createElementNS(NS, "rect");
    background.setAttribute("width", width);
    background.setAttribute("height", height);
    background.setAttribute("fill", "#eef2ee");
    svg.appendChild(background);
    this.svgOverlay = document.createElementNS(NS, "g");
    svg.appendChild(this.svgOverlay);
    const ringPath = (ring) =>
      ring
        .map(([lon, lat], i) => {
          const p = this._svgProject(lon, lat);
          return `${i ? "L" : "M"}${p.x.toFixed(2)},${p.y.toFixed(2)}`;
        })
        .join("") + "Z";
    const level = this.options.clickableLevel;
    const features = [...this.options.geojson.features].sort(
      (a, b) => (a.properties.level === level) - (b.properties.level === level),
    );
    this.svgPaths = new Map();
    for (const feature of features) {
      const g = feature.geometry;
      if (!g) continue;
      const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      const path = document.createElementNS(NS, "path");
      path.setAttribute("d", polygons.map((poly) => poly.map(ringPath).join("")).join(""));
      path.setAttribute("fill-rule", "evenodd");
      const clickable = feature.properties.level === level;
      path.setAttribute("class", clickable ? "svg-region clickable" : "svg-region");
      path.dataset.code = feature.properties.code;
      if (clickable) path.addEventListener("click", () => this.options.onSelect(String(feature.properties.code)));
      svg.appendChild(path);
      this.svgPaths.set(String(feature.properties.code), path);
    }
    this.svgLabels = document.createElementNS(NS, "g");
    this.svgLabels.setAttribute("pointer-events", "none");
    svg.appendChild(this.svgLabels);
    this.container.innerHTML = "";
    this.container.appendChild(svg);
    this.svg = svg;
    this._drawLabelsSvg();
  }

  _drawLabelsSvg() {
    const NS = "http://www.w3.org/2000/svg";
    this.svgLabels.innerHTML = "";
    for (const feature of this.options.geojson.features) {
      if (feature.properties.level !== this.options.clickableLevel) continue;
      const at = labelPoint(feature);
      if (!at) continue;
      const p = this._svgProject(at[0], at[1]);
      const text = document.createElementNS(NS, "text");
      text.setAttribute("x", p.x);
      text.setAttribute("y", p.y);
      text.setAttribute("class", "svg-label");
      text.textContent = this.options.labelOf(feature);
      this.svgLabels.appendChild(text);
    }
  }

  // ---- common -----------------------------------------------------------------------------------

  /** Show `url` (a PNG) stretched over bounds [w, s, e, n], or remove the overlay when url is null. */
  setOverlay(url, bounds) {
    this.overlay = url ? { url, bounds } : null;
    this.overlayState = url ? "loading" : "none";
    if (this.renderer === "maplibre") {
      // keep one image source and swap its image: removing a source while its image loads makes
      // MapLibre report a missing source
      const source = this.map.getSource("overlay");
      if (!url) {
        if (source) this.map.setLayoutProperty("overlay", "visibility", "none");
        return;
      }
      const [w, s, e, n] = bounds;
      const coordinates = [
        [w, n],
        [e, n],
        [e, s],
        [w, s],
      ];
      if (source) {
        source.updateImage({ url, coordinates });
        this.map.setLayoutProperty("overlay", "visibility", "visible");
        return;
      }
      this.map.addSource("overlay", { type: "image", url, coordinates });
      this.map.addLayer(
        { id: "overlay", type: "raster", source: "overlay", paint: { "raster-opacity": 0.85, "raster-resampling": "nearest" } },
        "region-fill",
      );
    } else if (this.renderer === "svg") {
      this.svgOverlay.innerHTML = "";
      if (!url) return;
      const [w, s, e, n] = bounds;
      const nw = this._svgProject(w, n);
      const se = this._svgProject(e, s);
      const image = document.createElementNS("http://www.w3.org/2000/svg", "image");
      image.setAttribute("href", url);
      image.setAttribute("x", nw.x);
      image.setAttribute("y", nw.y);
      image.setAttribute("width", se.x - nw.x);
      image.setAttribute("height", se.y - nw.y);
      image.setAttribute("preserveAspectRatio", "none");
      image.setAttribute("opacity", "0.85");
      image.setAttribute("style", "image-rendering: pixelated");
      image.addEventListener("load", () => (this.overlayState = "loaded"));
      image.addEventListener("error", () => (this.overlayState = "error"));
      this.svgOverlay.appendChild(image);
    }
  }

  highlight(code) {
    this.selected = code;
    if (this.renderer === "maplibre") {
      this.map.setFilter("region-selected", ["==", ["get", "code"], code ?? ""]);
    } else if (this.renderer === "svg") {
      for (const [key, path] of this.svgPaths) path.classList.toggle("selected", key === code);
    }
  }

  /** Redraw the labels (after a language switch). */
  relabel() {
    if (this.renderer === "maplibre") this._drawLabelsMapLibre();
    else if (this.renderer === "svg") this._drawLabelsSvg();
  }

  /** Container pixel coordinates {x, y} of a lon/lat point. */
  project(lon, lat) {
    if (this.renderer === "maplibre") {
      const p = this.map.project([lon, lat]);
      return { x: p.x, y: p.y };
    }
    return this._svgProject(lon, lat);
  }

  destroy() {
    for (const marker of this.markers ?? []) marker.remove();
    if (this.map) this.map.remove();
    this.map = null;
    this.ready = false;
  }
}
