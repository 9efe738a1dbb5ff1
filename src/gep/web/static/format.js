// Number formatting of the dashboard. Money arrives in yuan; 万元/亿元 (zh) and million/billion
// yuan (en) are display units only. tests/test_web.py re-implements formatYuan to check the panel.

import { lang, t } from "./i18n.js";

const DASH = "—";

/** "1234567.891" -> "1,234,567.891": thousands separators in the integer part. */
export function group(text) {
  const [integer, fraction] = text.split(".");
  const grouped = integer.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

function missing(value) {
  return value === null || value === undefined || Number.isNaN(Number(value));
}

/**
 * A sum of money in yuan, scaled for reading, two decimals (Number.toFixed rounding):
 * zh: >= 1e8 -> 亿元, >= 1e4 -> 万元, else 元; en: >= 1e9 -> billion yuan, >= 1e6 -> million yuan,
 * else yuan. Missing values give "—".
 */
export function formatYuan(value, language = lang()) {
  if (missing(value)) return DASH;
  const v = Number(value);
  const a = Math.abs(v);
  let scaled;
  let unit;
  if (language === "zh") {
    if (a >= 1e8) [scaled, unit] = [v / 1e8, "亿元"];
    else if (a >= 1e4) [scaled, unit] = [v / 1e4, "万元"];
    else [scaled, unit] = [v, "元"];
  } else if (a >= 1e9) [scaled, unit] = [v / 1e9, "billion yuan"];
  else if (a >= 1e6) [scaled, unit] = [v / 1e6, "million yuan"];
  else [scaled, unit] = [v, "yuan"];
  return `${group(scaled.toFixed(2))} ${unit}`;
}

/** A plain number with `digits` decimals and thousands separators ("—" if missing). */
export function formatNumber(value, digits = 2) {
  if (missing(value)) return DASH;
  return group(Number(value).toFixed(digits));
}

/** A physical quantity: no decimals from 1000 up, 2 from 1, else 4; powers of ten from 1e12. */
export function formatQuantity(value, unit = "") {
  if (missing(value)) return DASH;
  const v = Number(value);
  const a = Math.abs(v);
  const text = a >= 1e12 ? v.toExponential(3) : formatNumber(v, a >= 1000 ? 0 : a >= 1 ? 2 : 4);
  return unit ? `${text} ${unit}` : text;
}

/** A ratio such as GEP/GDP, shown with two decimals ("—" if missing). */
export function formatRatio(value) {
  return missing(value) ? DASH : Number(value).toFixed(2);
}

export function formatArea(km2) {
  return missing(km2) ? DASH : `${formatNumber(km2, 2)} ${t("unit.km2")}`;
}

/** Yuan per km², scaled like formatYuan, with the "/km²" suffix. */
export function formatYuanPerKm2(value) {
  return missing(value) ? DASH : `${formatYuan(value)}${t("unit.per_km2")}`;
}

export function formatYuanPerCapita(value) {
  return missing(value) ? DASH : `${formatYuan(value)}${t("unit.per_capita")}`;
}

/** Chart axis unit for values up to `max` yuan: 亿元 or 万元 (zh), billion or million yuan (en). */
export function chartScale(max = Infinity, language = lang()) {
  if (language === "zh") return max >= 1e8 ? { factor: 1e8, unit: "亿元" } : { factor: 1e4, unit: "万元" };
  return max >= 1e9 ? { factor: 1e9, unit: "billion yuan" } : { factor: 1e6, unit: "million yuan" };
}
