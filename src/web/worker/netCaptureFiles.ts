/**
 * Capture files in the browser's storage: `xl network-capture DOM DEVID FILE` at the
 * browser's Domain-0 prompt writes FILE into the Origin Private File System's directory
 * `captures/` (beside `disks/`), where the Network tab lists them for download and
 * Domain-0's `ls` shows them as captures/FILE. The toolstack writes files synchronously
 * (XlIo.writeBytes) and OPFS is asynchronous, so a command's writes are kept and written
 * once it has finished, before its answer goes back.
 */
import type { CaptureFileRow } from '../protocol/netTypes';
import type { FileDirectory } from './opfsDir';

export const CAPTURE_DIR = 'captures';
/** A capture file larger than this is refused (it is built in memory first). */
export const CAPTURE_FILE_MAX = 64 << 20;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The file name a command's FILE means: its last path element, checked; `captures/x.pcap` and `x.pcap` are the same file. */
export function captureFileName(path: string): string {
  const base = path.trim().split('/').pop() ?? '';
  if (!NAME.test(base)) throw new Error(`${JSON.stringify(path.slice(0, 80))}: a capture file is named with letters, digits, '.', '_' and '-' (at most 64)`);
  return base;
}

export class CaptureFiles {
  private dir: Promise<FileDirectory> | undefined;

  constructor(private readonly open: () => Promise<FileDirectory>) {}

  private directory(): Promise<FileDirectory> {
    this.dir ??= this.open();
    return this.dir;
  }

  async list(): Promise<CaptureFileRow[]> {
    const d = await this.directory();
    const rows: CaptureFileRow[] = [];
    for (const name of await d.names()) {
      const h = await d.openSync(name, false);
      try {
        rows.push({ name, size: h.getSize() });
      } finally {
        h.close();
      }
    }
    return rows;
  }

  async read(name: string): Promise<Uint8Array> {
    return (await this.directory()).readFile(captureFileName(name));
  }

  async write(path: string, bytes: Uint8Array): Promise<string> {
    const name = captureFileName(path);
    if (bytes.length > CAPTURE_FILE_MAX) throw new Error(`${name}: ${bytes.length} bytes is more than a capture file may hold (${CAPTURE_FILE_MAX})`);
    const d = await this.directory();
    const h = await d.openSync(name, true);
    try {
      h.truncate(0);
      h.write(bytes, { at: 0 });
      h.flush();
    } finally {
      h.close();
    }
    return `${CAPTURE_DIR}/${name}`;
  }

  async remove(name: string): Promise<void> {
    await (await this.directory()).remove(captureFileName(name));
  }
}
