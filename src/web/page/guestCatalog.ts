/**
 * The guest images the lab ships: public/guests/*.elf, as listed by guests/index.json,
 * which vite.config.ts writes at build time and serves in dev, and the Linux guests'
 * files under guests/linux/ (presets.ts LINUX_FILES), each listed if the site has it.
 */

import type { GuestFile } from '../protocol/hvProtocol';
import { LINUX_FILES } from '../protocol/presets';

/** One image: its name without extension ("hello"), its file under guests/, its size. */
export type GuestEntry = GuestFile;

/** Absolute URL of a file under the site's guests/ directory (works under any base path). */
export function guestUrl(file: string, base: string = document.baseURI): string {
  return new URL(`guests/${file}`, base).href;
}

function isGuestEntry(v: unknown): v is GuestEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e['name'] === 'string' && typeof e['file'] === 'string' && typeof e['size'] === 'number';
}

export async function fetchGuestCatalog(): Promise<GuestEntry[]> {
  const url = guestUrl('index.json');
  const res = await fetch(url, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`cannot list guest images (${url}: ${res.status})`);
  const body: unknown = await res.json();
  const list = (body as { guests?: unknown } | null)?.guests;
  if (!Array.isArray(list) || !list.every(isGuestEntry)) throw new Error(`${url} is not a guest list`);
  const linux = await Promise.all(LINUX_FILES.map((f) => probeGuest(f)));
  return [...list, ...linux.filter((g): g is GuestEntry => g !== undefined)];
}

/** A file under guests/ as a catalog entry, by a HEAD request; undefined if the site lacks it. */
async function probeGuest(file: string): Promise<GuestEntry | undefined> {
  try {
    const res = await fetch(guestUrl(file), { method: 'HEAD', cache: 'no-cache' });
    // Single-page-app hosts (vite preview among them) answer unknown paths with index.html.
    if (!res.ok || res.headers.get('Content-Type')?.startsWith('text/html')) return undefined;
    const size = Number(res.headers.get('Content-Length') ?? '0');
    return { name: (file.split('/').pop() ?? file).replace(/\.[^.]*$/, ''), file, size };
  } catch {
    return undefined;
  }
}
