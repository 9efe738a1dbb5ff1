// Fetching JSON from the REST API (/api/v1). Every call reports failures as an Error whose message
// names the path, the HTTP status and the API's message (errors are {"error": {message_zh,
// message_en, ...}}), so the page can show it.

import { lang } from "./i18n.js";

export const API = "/api/v1";

export async function getJSON(path) {
  let response;
  try {
    response = await fetch(`${API}${path}`, { headers: { accept: "application/json" } });
  } catch (err) {
    throw new Error(`${path}: ${err.message}`);
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      const error = body.error ?? {};
      detail = error[`message_${lang()}`] ?? error.message ?? (typeof body.detail === "string" ? body.detail : JSON.stringify(body));
    } catch {
      // not JSON; keep the status text
    }
    const error = new Error(`${path}: HTTP ${response.status} ${detail}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

/** GET that answers `fallback` on 404 (an endpoint or record the server does not have). */
export async function getOptional(path, fallback) {
  try {
    return await getJSON(path);
  } catch (err) {
    if (err.status === 404) return fallback;
    throw err;
  }
}

export function mapUrl(accountId, item, kind = "value") {
  return `${API}/accounts/${encodeURIComponent(accountId)}/maps/${encodeURIComponent(item)}.png?kind=${kind}`;
}
