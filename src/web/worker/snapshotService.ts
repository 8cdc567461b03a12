/**
 * Save, restore and snapshots in the browser's hypervisor worker. Every path goes through
 * the toolstack's own `xl save` / `xl restore` (tools/migration/xlCommands.ts), so a file
 * made here is byte for byte what `xl save` writes on a Node host, and the checks, the
 * messages and the failure handling are the same:
 *
 *  - Save (the page downloads the bytes): `xl save [-c] DOM`;
 *  - Restore (an uploaded file): `xl restore [-p] [CONFIG] FILE`, the file checked whole
 *    before anything is built, a bad one refused in one line;
 *  - snapshots in OPFS `snapshots/` (snapshotLibrary.ts): `xl save -c`, the domain runs on;
 *  - Domain-0's `xl save` / `xl restore` read and write OPFS `snapshots/`.
 *
 * OPFS is asynchronous and xl's file access is not, so a save first captures the bytes
 * with the domain left paused (`-p`), writes them to OPFS, and only then does what was
 * asked (destroy it, let it run on, leave it paused): a write that fails (the quota) leaves
 * the domain running as it was, as a failed `xl save` does. A restore reads the file first.
 *
 * Disks are shared storage, as with Xen's xl save: the file names each disk's image (OPFS
 * disks/) and the save flushes them (blkback's quiesce, virtio-blk's flush: xlCommands.ts);
 * a restore opens the images' handles (diskLibrary.ts `prepare`: asynchronous, as OPFS is)
 * before xl restore attaches them. An image that is missing is refused in one line: a
 * restore never makes a fresh overlay under a domain that had written its disk.
 */
import type { Toolstack } from '../../core/tools/toolstack';
import type { XlIo } from '../../core/tools/xl';
import { parseXlConfig } from '../../core/tools/xlConfig';
import { ByteReader } from '../../core/tools/migration/bytes';
import { readXlHeader } from '../../core/tools/migration/xlHeader';
import { xlRestore, xlSave } from '../../core/tools/migration/xlCommands';
import type { RestoreRequest, SnapshotList, SnapshotRow, XlOutput } from '../protocol/hvProtocol';
import type { Dom0Files } from './dom0Files';
import type { DiskTarget } from './diskLibrary';
import { checkSnapshotName, type SnapshotLibrary } from './snapshotLibrary';

export const SNAPSHOT_DIR = 'snapshots';

const line = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** The config a save file carries, renamed. */
export function renamedConfig(bytes: Uint8Array, name: string): string {
  const { config } = readXlHeader(new ByteReader(bytes, 0, true, 'save file'));
  const named = /^[ \t]*name[ \t]*=.*$/m;
  const entry = `name = ${JSON.stringify(name)}`;
  return named.test(config) ? config.replace(named, entry) : `${entry}\n${config}`;
}

/** Opens the handles the disks of a config will need (diskLibrary.ts `prepare`); resolves with their release. */
export type PrepareDisks = (disks: readonly DiskTarget[]) => Promise<() => void>;

/**
 * The images a config's disks name, for `prepare`: without `backing=`, so that a missing image
 * is refused rather than made afresh (the saved domain wrote the one it had).
 */
export function diskTargetsOf(configText: string): DiskTarget[] {
  let disks;
  try {
    disks = parseXlConfig(configText).disk ?? [];
  } catch {
    return []; // a config that does not parse: xl restore refuses it, in its words
  }
  return disks.map((d) => ({ target: d.target }));
}

/** With the disks of `configText` prepared, run `body`; the handles' pins go when it is over. */
export async function withDisks<T>(prepare: PrepareDisks | undefined, configText: string, body: () => Promise<T>): Promise<T> {
  const disks = diskTargetsOf(configText);
  if (disks.length === 0) return body();
  if (!prepare) throw new Error('the domain has disks and this host keeps no disk images');
  const release = await prepare(disks);
  try {
    return await body();
  } finally {
    release();
  }
}

/** A path of Domain-0's `xl save`/`xl restore`: NAME or snapshots/NAME (OPFS snapshots/). */
export function snapshotPath(path: string): string {
  const p = path.replace(/^\/+/, '');
  const name = p.startsWith(`${SNAPSHOT_DIR}/`) ? p.slice(SNAPSHOT_DIR.length + 1) : p;
  if (name.includes('/')) throw new Error(`${path}: save files live in OPFS ${SNAPSHOT_DIR}/ (name one as NAME or ${SNAPSHOT_DIR}/NAME)`);
  checkSnapshotName(name);
  return name;
}

export class SnapshotService {
  constructor(
    private readonly ts: Toolstack,
    private readonly files: () => Dom0Files,
    private readonly library: () => Promise<SnapshotLibrary>,
    /** `base`, or a free variant of it (base-2...). */
    private readonly freeName: (base: string) => string,
    /** Opens disk images' handles before a restore attaches them (absent: a host without disks). */
    private readonly prepareDisks?: PrepareDisks,
  ) {}

  /** `xl save [-c] DOM` to bytes (the page's Save: a download); without `checkpoint` the domain is gone afterwards. */
  async save(domid: number, checkpoint: boolean): Promise<{ bytes: Uint8Array; message: string }> {
    let bytes: Uint8Array | undefined;
    const out: string[] = [];
    const name = `${this.ts.hv.getDomain(domid).name}.save`;
    await xlSave(this.ts, [...(checkpoint ? ['-c'] : []), String(domid), name], this.io(out, { write: (_p, b) => (bytes = b) }));
    return { bytes: bytes!, message: out.join('\n') };
  }

  /** `xl restore` of bytes (an upload, a snapshot, a migration's file); resolves with the new domid. */
  async restore(bytes: Uint8Array, req: RestoreRequest = {}, file = 'upload'): Promise<{ domid: number; message: string }> {
    let name = req.name;
    if (name === undefined && req.uniqueName) {
      let own: string | undefined;
      try {
        own = /^[ \t]*name[ \t]*=[ \t]*"([^"]*)"/m.exec(readXlHeader(new ByteReader(bytes, 0, true, 'save file')).config)?.[1];
      } catch {
        // not a save file: xl restore says why, below
      }
      if (own !== undefined && this.freeName(own) !== own) name = this.freeName(own);
    }
    const config = name !== undefined ? renamedConfig(bytes, name) : undefined;
    const out: string[] = [];
    const before = new Set(this.ts.hv.domains.keys());
    const args = [...(req.paused ? ['-p'] : []), ...(config !== undefined ? ['renamed.cfg'] : []), file];
    await withDisks(this.prepareDisks, config ?? embeddedConfig(bytes), () => xlRestore(this.ts, args, this.io(out, { read: () => bytes, config })));
    const domid = [...this.ts.hv.domains.keys()].find((id) => !before.has(id));
    if (domid === undefined) throw new Error('the restored domain is gone already');
    return { domid, message: out.join('\n') };
  }

  async list(): Promise<SnapshotList> {
    return (await this.library()).list();
  }

  /** A snapshot in OPFS: `xl save -c DOM snapshots/NAME` (the domain runs on). */
  async take(domid: number, name?: string): Promise<SnapshotRow> {
    const d = this.ts.hv.getDomain(domid);
    const lib = await this.library();
    const chosen = name ?? (await this.freeSnapshotName(lib, `${d.name.replace(/[^A-Za-z0-9_.+-]/g, '_').replace(/^[.-]/, '_')}-${stamp(new Date())}`));
    checkSnapshotName(chosen);
    if (await lib.has(chosen)) throw new Error(`${chosen}: a snapshot of that name exists in ${lib.where}`);
    const r = await this.saveTo(lib, ['-c', String(domid), chosen], false);
    return r.row;
  }

  async restoreSnapshot(name: string, req: RestoreRequest = {}): Promise<{ domid: number; message: string }> {
    const bytes = await (await this.library()).get(name);
    return this.restore(bytes, req, `${SNAPSHOT_DIR}/${name}`);
  }

  async download(name: string): Promise<Uint8Array> {
    return (await this.library()).get(name);
  }

  async remove(name: string): Promise<void> {
    await (await this.library()).remove(name);
  }

  /** Domain-0's `xl save` / `xl restore` over OPFS snapshots/; null for any other command. */
  async dom0(words: readonly string[]): Promise<XlOutput | null> {
    const [cmd, ...args] = words;
    if (cmd !== 'save' && cmd !== 'restore') return null;
    try {
      if (cmd === 'save') {
        const opts = args.filter((a) => a.startsWith('-'));
        const rest = args.filter((a) => !a.startsWith('-'));
        if (rest.length !== 2 || opts.some((o) => o !== '-c' && o !== '-p')) throw new Error('usage: xl save [-c] [-p] DOM FILE');
        const r = await this.saveTo(await this.library(), [...opts, ...rest], true);
        return { status: 0, output: r.message };
      }
      const rest = args.filter((a) => a !== '-p');
      if (rest.length < 1 || rest.length > 2) throw new Error('usage: xl restore [-p] [CONFIG] FILE');
      const name = snapshotPath(rest[rest.length - 1]!);
      const bytes = await (await this.library()).get(name);
      if (rest.length === 2) await this.files().load(rest[0]!);
      const out: string[] = [];
      const config = rest.length === 2 ? this.files().readText(rest[0]!) : embeddedConfig(bytes);
      await withDisks(this.prepareDisks, config, () => xlRestore(this.ts, args, this.io(out, { read: () => bytes })));
      return { status: 0, output: out.join('\n') };
    } catch (e) {
      return { status: 1, output: `xl: ${line(e)}` };
    }
  }

  /**
   * `xl save [-c] [-p] DOM NAME` into the library: captured with the domain left paused,
   * written, then destroyed / unpaused as asked. `replace`: overwrite NAME (xl's files are).
   */
  private async saveTo(lib: SnapshotLibrary, args: readonly string[], replace: boolean): Promise<{ row: SnapshotRow; message: string }> {
    const checkpoint = args.includes('-c');
    const paused = args.includes('-p');
    const [dom, path] = args.filter((a) => !a.startsWith('-'));
    const name = snapshotPath(path!);
    const d = this.ts.find(dom!);
    const wasPaused = d.paused;
    let bytes: Uint8Array | undefined;
    const out: string[] = [];
    // -c -p: the save only captures, leaving the domain paused, whatever was asked.
    await xlSave(this.ts, ['-c', '-p', String(d.domid), `${SNAPSHOT_DIR}/${name}`], this.io(out, { write: (_p, b) => (bytes = b) }));
    let row: SnapshotRow;
    try {
      row = await lib.put(name, bytes!, { replace, from: `${d.name} (domain ${d.domid})` });
    } catch (e) {
      if (!wasPaused && this.ts.hv.domains.get(d.domid) === d) this.ts.hv.unpauseDomain(d.domid);
      throw new Error(`save of domain ${d.domid} failed: ${line(e)}`, { cause: e });
    }
    if (this.ts.hv.domains.get(d.domid) === d) {
      if (!checkpoint && !paused) this.ts.hv.destroyDomain(d.domid, 'saved');
      else if (!paused) this.ts.hv.unpauseDomain(d.domid);
    }
    return { row, message: out.join('\n') };
  }

  private io(out: string[], f: { read?: () => Uint8Array; write?: (path: string, bytes: Uint8Array) => void; config?: string | undefined }): XlIo {
    return {
      out: (t) => out.push(t),
      readFile: (p) => (f.config !== undefined && p === 'renamed.cfg' ? f.config : this.files().readText(p)),
      ...(f.read ? { readBytes: f.read } : {}),
      ...(f.write ? { writeBytes: f.write } : {}),
    };
  }

  private async freeSnapshotName(lib: SnapshotLibrary, base: string): Promise<string> {
    const cut = base.slice(0, 60);
    if (!(await lib.has(cut))) return cut;
    for (let i = 2; ; i++) if (!(await lib.has(`${cut}-${i}`))) return `${cut}-${i}`;
  }
}

/** The config a save file carries; '' when it is no save file (xl restore then says why, in its words). */
function embeddedConfig(bytes: Uint8Array): string {
  try {
    return readXlHeader(new ByteReader(bytes, 0, true, 'save file')).config;
  } catch {
    return '';
  }
}

/** 2026-12-03T22-41-07: a date in a file name. */
function stamp(d: Date): string {
  return d.toISOString().slice(0, 19).replace(/:/g, '-');
}
