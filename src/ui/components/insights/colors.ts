/**
 * Colours of the graphs, the scheduler lanes and the memory map: one per domain (by domid,
 * so a domain keeps its colour in every view), and a few for reasons and frame kinds. They
 * are CSS custom properties (insights.css), so light and dark themes each have their own.
 */
export const SERIES_COLOURS = 10;

export function domainColour(domid: number): string {
  return `var(--series-${domid % SERIES_COLOURS})`;
}

/** Colour of the i-th line of a breakdown (exit reasons, hypercall types). */
export function indexColour(i: number): string {
  return `var(--series-${(i + 1) % SERIES_COLOURS})`;
}

/** Resolve `var(--x)` to a colour a canvas can use, from the element's computed style. */
export function resolveColour(el: Element, colour: string): string {
  const m = /^var\((--[\w-]+)\)$/.exec(colour);
  if (!m) return colour;
  return getComputedStyle(el).getPropertyValue(m[1]!).trim() || '#888';
}
