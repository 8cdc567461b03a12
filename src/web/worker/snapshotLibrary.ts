/**
 * Save files kept in the browser: OPFS `snapshots/` (opfsDir.ts; `MemoryDirectory` in tests).
 * A snapshot NAME is the xl save file itself, the same bytes `xl save` writes on a Node
 * host, stored as the file NAME, and a small JSON record `.NAME.json` beside it with what
 * the panel lists (the domain's name and type, the date, the size). The record is a
 * convenience: a file without one (or with a damaged one) is still listed, from its xl
 * header (xlHeader.ts), so nothing is lost if a tab dies between the two writes.
 *
 * Files are written through the directory's one synchronous handle (exclusive in OPFS: a
 * snapshot being written in one tab cannot be opened in another), truncated to length,
 * flushed, closed.
 */
import { ByteReader } from '../../core/tools/migration/bytes';
import { readXlHeader } from '../../core/tools/migration/xlHeader';
import type { SnapshotList, SnapshotRow } from '../protocol/hvProtocol';
import type { FileDirectory } from './opfsDir';

/** Names a user may give: a file name of OPFS, not hidden, no path. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

interface Meta {
  readonly domain: string;
  readonly type: 'pv' | 'hvm';
  readonly date: number;
  readonly size: number;
  readonly from?: string;
}

const metaName = (name: string): string => `.${name}.json`;

/** Throws one line unless `name` can name a snapshot. */
export function checkSnapshotName(name: string): void {
  if (!NAME.test(name)) {
    throw new Error(`${JSON.stringify(name.slice(0, 70))}: a snapshot name is 1 to 64 letters, digits and _ . + - (not starting with . or -)`);
  }
}

/** The domain name and type an xl save file's header names (throws one line for something that is not one). */
export function describeSaveFile(bytes: Uint8Array): { domain: string; type: 'pv' | 'hvm' } {
  const h = readXlHeader(new ByteReader(bytes, 0, true, 'save file'));
  const field = (key: string): string | undefined => new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, 'm').exec(h.config)?.[1];
  const type = field('type');
  return { domain: field('name') ?? '?', type: type === 'pv' ? 'pv' : 'hvm' };
}

export class SnapshotLibrary {
  constructor(readonly dir: FileDirectory) {}

  get where(): string {
    return this.dir.where;
  }

  async list(): Promise<SnapshotList> {
    const names = await this.dir.names();
    const rows: SnapshotRow[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      rows.push(await this.row(name));
    }
    rows.sort((a, b) => b.date - a.date || a.name.localeCompare(b.name));
    const { quota, usage } = await this.dir.estimate();
    return { snapshots: rows, where: this.dir.where, quota, usage };
  }

  async has(name: string): Promise<boolean> {
    return this.dir.has(name);
  }

  /** Keep `bytes` (an xl save file: its header is checked) as NAME; refuses a name that is taken unless `replace`. */
  async put(name: string, bytes: Uint8Array, opts: { replace?: boolean; from?: string } = {}): Promise<SnapshotRow> {
    checkSnapshotName(name);
    const { domain, type } = describeSaveFile(bytes);
    if (!opts.replace && (await this.dir.has(name))) throw new Error(`${name}: a snapshot of that name exists in ${this.dir.where}`);
    const { quota, usage } = await this.dir.estimate();
    if (bytes.length > quota - usage) throw new Error(`${name}: the browser's storage quota is used up (${bytes.length} bytes needed)`);
    await this.write(name, bytes);
    const meta: Meta = { domain, type, date: Date.now(), size: bytes.length, ...(opts.from !== undefined ? { from: opts.from } : {}) };
    try {
      await this.write(metaName(name), new TextEncoder().encode(JSON.stringify(meta)));
    } catch {
      // the file is what matters; its row is rebuilt from the header
    }
    return { name, ...meta, error: null };
  }

  async get(name: string): Promise<Uint8Array> {
    checkSnapshotName(name);
    if (!(await this.dir.has(name))) throw new Error(`${name}: no such snapshot in ${this.dir.where}`);
    return this.dir.readFile(name);
  }

  async remove(name: string): Promise<void> {
    checkSnapshotName(name);
    if (!(await this.dir.has(name))) throw new Error(`${name}: no such snapshot in ${this.dir.where}`);
    await this.dir.remove(name);
    if (await this.dir.has(metaName(name))) await this.dir.remove(metaName(name));
  }

  private async row(name: string): Promise<SnapshotRow> {
    try {
      const meta = JSON.parse(new TextDecoder().decode(await this.dir.readFile(metaName(name)))) as Meta;
      if (typeof meta.domain === 'string' && typeof meta.date === 'number' && typeof meta.size === 'number' && (meta.type === 'pv' || meta.type === 'hvm'))
        return { name, domain: meta.domain, type: meta.type, date: meta.date, size: meta.size, ...(meta.from ? { from: meta.from } : {}), error: null };
    } catch {
      // no record, or a damaged one: from the file
    }
    try {
      const bytes = await this.dir.readFile(name);
      return { name, ...describeSaveFile(bytes), date: 0, size: bytes.length, error: null };
    } catch (e) {
      return { name, domain: '?', type: 'hvm', date: 0, size: 0, error: (e instanceof Error ? e.message : String(e)).split('\n')[0]! };
    }
  }

  private async write(name: string, bytes: Uint8Array): Promise<void> {
    const h = await this.dir.openSync(name, true);
    try {
      h.truncate(0);
      let at = 0;
      while (at < bytes.length) {
        const n = h.write(bytes.subarray(at), { at });
        if (n <= 0) throw new Error(`${name}: the file took no bytes at ${at}`);
        at += n;
      }
      h.flush();
    } finally {
      h.close();
    }
  }
}
