/**
 * Domain-0's files in the browser: the preset configs in /etc/xen, the guest images the
 * site serves under guests/ (fetched once, then kept), and images the user uploaded
 * (uploads/). The toolstack reads files synchronously (Toolstack's ToolstackIo, as libxl
 * reads a disk), so a command first `load`s what it will need, then runs.
 */
import type { GuestFile, PresetInfo } from '../protocol/hvProtocol';
import { CONFIG_DIR, GUEST_DIR, UPLOAD_DIR } from '../protocol/presets';

export type FetchGuest = (file: string) => Promise<Uint8Array>;

type Where = { kind: 'config'; preset: PresetInfo } | { kind: 'upload'; key: string } | { kind: 'guest'; file: string };

export class Dom0Files {
  private readonly uploads = new Map<string, Uint8Array>();
  private readonly guests = new Map<string, Uint8Array>();

  constructor(
    private readonly catalog: readonly GuestFile[],
    private readonly presets: readonly PresetInfo[],
    private readonly fetchGuest: FetchGuest,
  ) {}

  /** Keep an uploaded image; returns the path configs can name it by. */
  addUpload(name: string, bytes: Uint8Array): string {
    const base = name.split('/').pop() || 'upload';
    this.uploads.set(base, bytes);
    return `${UPLOAD_DIR}/${base}`;
  }

  /** Make `path` readable by readBytes/readText; rejects with a readable message. */
  async load(path: string): Promise<void> {
    const w = this.where(path);
    if (w.kind !== 'guest' || this.guests.has(w.file)) return;
    this.guests.set(w.file, await this.fetchGuest(w.file));
  }

  readBytes(path: string): Uint8Array {
    const w = this.where(path);
    if (w.kind === 'config') return new TextEncoder().encode(w.preset.config);
    if (w.kind === 'upload') return this.uploads.get(w.key)!;
    const bytes = this.guests.get(w.file);
    if (!bytes) throw new Error(`${path}: not loaded yet`);
    return bytes;
  }

  readText(path: string): string {
    return new TextDecoder().decode(this.readBytes(path));
  }

  /** `ls`: every file, one per line, with its size. */
  list(): string[] {
    const rows: string[] = [];
    for (const p of this.presets) rows.push(`${CONFIG_DIR}/${p.name}.cfg`.padEnd(40) + `${p.config.length}`.padStart(9));
    for (const g of this.catalog) rows.push(`${GUEST_DIR}/${g.file}`.padEnd(40) + `${g.size}`.padStart(9));
    for (const [name, bytes] of this.uploads) rows.push(`${UPLOAD_DIR}/${name}`.padEnd(40) + `${bytes.length}`.padStart(9));
    return rows;
  }

  /**
   * Which file a path means. Configs: /etc/xen/NAME.cfg, NAME.cfg or NAME. Images:
   * guests/FILE (also /guests/ and public/guests/, as the repository's examples say),
   * uploads/FILE, or a bare file name of either.
   */
  private where(path: string): Where {
    const p = path.trim().replace(/^\.\//, '');
    const base = p.split('/').pop() ?? p;
    const dir = p.slice(0, p.length - base.length).replace(/^\/+|\/+$/g, '');
    if (dir === '' || dir === CONFIG_DIR.slice(1)) {
      const preset = this.presets.find((x) => `${x.name}.cfg` === base || (dir === '' && x.name === base));
      if (preset) return { kind: 'config', preset };
    }
    if ((dir === '' || dir === UPLOAD_DIR) && this.uploads.has(base)) return { kind: 'upload', key: base };
    // In a subdirectory of guests/ (the Linux guests' guests/linux/...): by the path under guests/.
    const sub = dir.replace(/^(public\/)?/, '').startsWith(`${GUEST_DIR}/`) ? `${dir.replace(/^(public\/)?[^/]+\//, '')}/${base}` : undefined;
    const inSub = sub === undefined ? undefined : this.catalog.find((x) => x.file === sub);
    if (inSub) return { kind: 'guest', file: inSub.file };
    if (dir === '' || dir === GUEST_DIR || dir === `public/${GUEST_DIR}`) {
      const g = this.catalog.find((x) => x.file === base);
      if (g) return { kind: 'guest', file: g.file };
    }
    throw new Error(`${path}: no such file (try: ls)`);
  }
}

/** Read guests/FILE with fetch() from the site's guests/ directory (`baseUrl` ends in '/'). */
export function fetchGuestFrom(baseUrl: string): FetchGuest {
  return async (file) => {
    const url = `${baseUrl}${file}`;
    const res = await fetch(url);
    if (res.status === 404) throw new Error(`${file}: not found on the server (${url})`);
    if (!res.ok) throw new Error(`${file}: the server answered ${res.status} ${res.statusText}`.trim());
    // Single-page-app hosts (vite preview among them) answer unknown paths with index.html.
    if (res.headers.get('Content-Type')?.startsWith('text/html')) throw new Error(`${file}: not found on the server (it answered with a web page)`);
    return new Uint8Array(await res.arrayBuffer());
  };
}
