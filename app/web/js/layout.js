// The dashboard grid: 12 columns, rows of fixed height; each widget's `position` is {x, y, w, h} in cells.
// Moving is by one cell (or a swap with the neighbour it meets); overlaps are resolved by pushing down.

export const COLUMNS = 12;
export const MAX_HEIGHT = 12;

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** A position made valid for the grid (whole cells, inside the 12 columns). */
export function normalize(pos) {
  const w = clamp(Math.round(pos?.w ?? 4), 1, COLUMNS);
  const h = clamp(Math.round(pos?.h ?? 3), 1, MAX_HEIGHT);
  const x = clamp(Math.round(pos?.x ?? 0), 0, COLUMNS - w);
  const y = Math.max(0, Math.round(pos?.y ?? 0));
  return { x, y, w, h };
}

const columnsOverlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w;
const overlaps = (a, b) => columnsOverlap(a, b) && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Resolve overlaps: the widget at `first` keeps its place, then the others in reading order (y, x); each one
 * that overlaps a widget already placed goes down just below it.
 */
export function resolve(positions, first = -1) {
  const out = positions.map(normalize);
  const order = out.map((_, i) => i).filter((i) => i !== first)
    .sort((i, j) => out[i].y - out[j].y || out[i].x - out[j].x || i - j);
  if (first >= 0) order.unshift(first);
  const placed = [];
  for (const i of order) {
    const p = out[i];
    for (let hit = placed.find((q) => overlaps(p, q)); hit; hit = placed.find((q) => overlaps(p, q))) {
      p.y = hit.y + hit.h;
    }
    placed.push(p);
  }
  return out;
}

/** Move widget `index` one step ("up" | "down" | "left" | "right"); answers the new positions of all widgets. */
export function move(positions, index, direction) {
  const out = positions.map(normalize);
  const a = out[index];
  const others = out.filter((_, j) => j !== index);
  if (direction === "left") a.x = Math.max(0, a.x - 1);
  if (direction === "right") a.x = Math.min(COLUMNS - a.w, a.x + 1);
  if (direction === "up") {
    const above = others.filter((b) => columnsOverlap(a, b) && b.y + b.h === a.y)[0];
    if (above) {
      // Swap with the widget right above: a takes its top, it goes just below a.
      const top = above.y;
      a.y = top;
      above.y = top + a.h;
    } else {
      a.y = Math.max(0, a.y - 1);
    }
  }
  if (direction === "down") {
    const below = others.filter((b) => columnsOverlap(a, b) && b.y === a.y + a.h)[0];
    if (below) {
      const top = a.y;
      below.y = top;
      a.y = top + below.h;
    } else {
      a.y += 1;
    }
  }
  return resolve(out, index);
}

/** Where a new widget of size w x h goes: at the left, below everything. */
export function nextSlot(positions, w = 6, h = 4) {
  const bottom = positions.map(normalize).reduce((m, p) => Math.max(m, p.y + p.h), 0);
  return normalize({ x: 0, y: bottom, w, h });
}

/** Place an element on the grid (CSSOM only: no inline style attributes under our Content-Security-Policy). */
export function place(el, pos) {
  const p = normalize(pos);
  el.style.gridColumn = `${p.x + 1} / span ${p.w}`;
  el.style.gridRow = `${p.y + 1} / span ${p.h}`;
}
