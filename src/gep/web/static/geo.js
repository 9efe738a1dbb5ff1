// Small planar geometry helpers on lon/lat rings (label placement only; no areas are reported).

/** Area-weighted centroid {x, y, area} of a closed ring of [lon, lat] points (null if degenerate). */
export function ringCentroid(ring) {
  let area = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x0, y0] = ring[j];
    const [x1, y1] = ring[i];
    const cross = x0 * y1 - x1 * y0;
    area += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  if (Math.abs(area) < 1e-15) return null;
  return { x: cx / (3 * area), y: cy / (3 * area), area: Math.abs(area / 2) };
}
