/**
 * hyperlab's records for a pv domain's hypervisor-side state, which Xen's stream does not
 * carry (docs/designs/non-cooperative-migration.md lists them as its gaps). Layouts only:
 * capturing and reinstating the state comes with the pv suspend work of issue 15. The
 * shared_info page itself travels in Xen's own SHARED_INFO record (0x07, one page), and the
 * grant table's entries in PAGE_DATA (in hyperlab they live in the domain's own frames).
 *
 * PV_EVTCHN_TABLE (0x48590011): {u32 count, u32 reserved}, then `count` entries of 24 bytes
 *   {u32 port, u32 state, u32 notify_vcpu, u32 a, u32 b, u32 reserved}, ports ascending.
 *   state is Xen's ECS_* number: 2 unbound (a = remote domid), 3 interdomain (a = remote
 *   domid, b = remote port), 5 virq (a = virq), 6 ipi. Free ports are not listed.
 * PV_GRANT_TABLE (0x48590012): {u32 version (1), u32 nr_frames, u32 nr_maptrack,
 *   u32 reserved}, then nr_frames u32 gfns of the table's frames, then nr_maptrack entries of
 *   24 bytes {u32 handle, u32 granter domid, u32 ref, u32 gfn, u32 flags (bit 0 read-only),
 *   u32 reserved}: the grants this domain has mapped from others (machine frames are not
 *   carried: they mean nothing on another host).
 * PV_XENSTORE_SUBTREE (0x48590013): {u32 count, u32 reserved}, then per node
 *   {u32 path_len, u32 value_len, u32 perm_count, u32 reserved}, perm_count u32 permissions
 *   (bits 15:0 domid, bits 23:16 the permission letter 'n' 'r' 'w' or 'b' as in xenstore's
 *   wire protocol), the path (relative to /local/domain/DOMID, no NUL), the value, then
 *   zero padding to 4 bytes. Modelled on NODE_DATA of Xen's xenstore migration format.
 */
import { ByteReader, type ByteWriter } from './bytes';

export const NR_EVTCHN_PORTS = 1024; // the 2-level ABI with 32-bit words (DESIGN.md section 4)
export const ECS = { UNBOUND: 2, INTERDOMAIN: 3, VIRQ: 5, IPI: 6 } as const;

export interface EvtchnEntry {
  port: number;
  state: number;
  vcpu: number;
  a: number;
  b: number;
}

export function writeEvtchnTable(w: ByteWriter, ports: readonly EvtchnEntry[]): void {
  w.u32(ports.length).u32(0);
  for (const p of ports) w.u32(p.port).u32(p.state).u32(p.vcpu).u32(p.a).u32(p.b).u32(0);
}

export function readEvtchnTable(body: Uint8Array, base: number, le = true): EvtchnEntry[] {
  const r = new ByteReader(body, base, le, 'PV_EVTCHN_TABLE');
  const count = r.u32('count');
  r.skip(4);
  if (count > NR_EVTCHN_PORTS) r.fail(`${count} ports, over the ${NR_EVTCHN_PORTS} of the 2-level ABI`, base);
  r.need(count * 24, `${count} entries`);
  const out: EvtchnEntry[] = [];
  const states = new Set<number>(Object.values(ECS));
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const e = { port: r.u32(), state: r.u32(), vcpu: r.u32(), a: r.u32(), b: r.u32() };
    r.skip(4);
    if (e.port >= NR_EVTCHN_PORTS || (i > 0 && e.port <= out[i - 1]!.port)) r.fail(`port ${e.port} out of range or out of order`, at);
    if (!states.has(e.state)) r.fail(`port ${e.port}: unknown state ${e.state}`, at);
    out.push(e);
  }
  r.end();
  return out;
}

export interface GrantMapping {
  handle: number;
  granter: number;
  ref: number;
  gfn: number;
  readonly: boolean;
}

export interface GrantTableState {
  frames: number[];
  maptrack: GrantMapping[];
}

export function writeGrantTable(w: ByteWriter, g: GrantTableState): void {
  w.u32(1).u32(g.frames.length).u32(g.maptrack.length).u32(0);
  for (const f of g.frames) w.u32(f);
  for (const m of g.maptrack)
    w.u32(m.handle)
      .u32(m.granter)
      .u32(m.ref)
      .u32(m.gfn)
      .u32(m.readonly ? 1 : 0)
      .u32(0);
}

/** Grant frames a v1 table may have (Xen's default max_grant_frames is 64). */
export const MAX_GRANT_FRAMES = 64;

export function readGrantTable(body: Uint8Array, base: number, le = true): GrantTableState {
  const r = new ByteReader(body, base, le, 'PV_GRANT_TABLE');
  const version = r.u32('version'),
    nFrames = r.u32('nr_frames'),
    nMaps = r.u32('nr_maptrack');
  r.skip(4);
  if (version !== 1) r.fail(`grant table version ${version}; hyperlab has v1 only`, base);
  if (nFrames > MAX_GRANT_FRAMES) r.fail(`${nFrames} grant frames, over ${MAX_GRANT_FRAMES}`, base + 4);
  r.need(nFrames * 4 + nMaps * 24, 'frames and maptrack');
  const frames = Array.from({ length: nFrames }, () => r.u32());
  const maptrack: GrantMapping[] = [];
  for (let i = 0; i < nMaps; i++) {
    const m = { handle: r.u32(), granter: r.u32(), ref: r.u32(), gfn: r.u32(), readonly: (r.u32() & 1) !== 0 };
    r.skip(4);
    maptrack.push(m);
  }
  r.end();
  return { frames, maptrack };
}

export interface XenstoreNode {
  /** Relative to the domain's home path, e.g. "device/vbd/768/state". */
  path: string;
  value: Uint8Array;
  /** xenstore permission strings: "n0", "r1", "b0"... */
  perms: string[];
}

const PERM_LETTERS = 'nrwb';
const utf8 = new TextEncoder(),
  fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function writeXenstoreSubtree(w: ByteWriter, nodes: readonly XenstoreNode[]): void {
  w.u32(nodes.length).u32(0);
  for (const n of nodes) {
    const path = utf8.encode(n.path);
    w.u32(path.length).u32(n.value.length).u32(n.perms.length).u32(0);
    for (const p of n.perms) {
      const letter = p.charCodeAt(0),
        domid = Number(p.slice(1));
      if (!PERM_LETTERS.includes(p[0] ?? '') || !Number.isInteger(domid) || domid < 0 || domid > 0xffff) throw new Error(`bad xenstore permission '${p}'`);
      w.u32(domid | (letter << 16));
    }
    w.bytes(path)
      .bytes(n.value)
      .zeros((4 - ((path.length + n.value.length) % 4)) % 4);
  }
}

/** xenstored's limits (XENSTORE_ABS_PATH_MAX 3072, XENSTORE_PAYLOAD_MAX 4096). */
const PATH_MAX = 3072,
  VALUE_MAX = 4096,
  PERMS_MAX = 64;

export function readXenstoreSubtree(body: Uint8Array, base: number, le = true): XenstoreNode[] {
  const r: ByteReader = new ByteReader(body, base, le, 'PV_XENSTORE_SUBTREE');
  const count = r.u32('count');
  r.skip(4);
  const out: XenstoreNode[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const pathLen = r.u32('path_len'),
      valueLen = r.u32('value_len'),
      permCount = r.u32('perm_count');
    r.skip(4);
    if (pathLen === 0 || pathLen > PATH_MAX || valueLen > VALUE_MAX || permCount > PERMS_MAX) r.fail(`node ${i}: lengths out of xenstore's limits`, at);
    const perms: string[] = [];
    for (let k = 0; k < permCount; k++) {
      const v = r.u32('permission');
      const letter = String.fromCharCode((v >>> 16) & 0xff);
      if (!PERM_LETTERS.includes(letter) || v >>> 24 !== 0) r.fail(`node ${i}: bad permission 0x${v.toString(16)}`, at);
      perms.push(letter + String(v & 0xffff));
    }
    let path: string;
    try {
      path = fromUtf8.decode(r.bytesOf(pathLen, 'path'));
    } catch {
      r.fail(`node ${i}: the path is not UTF-8`, at);
    }
    if (path.startsWith('/') || path.includes('\0')) r.fail(`node ${i}: path '${path}' must be relative`, at);
    const value = r.bytesOf(valueLen, 'value');
    r.skip((4 - ((pathLen + valueLen) % 4)) % 4);
    out.push({ path, value, perms });
  }
  r.end();
  return out;
}

/**
 * PV_XENSTORE_WATCHES (0x48590015): the watches of the domain's xenstore connection, as
 * WATCH_DATA of Xen's xenstore migration format: {u32 count, u32 reserved}, then per watch
 * {u32 path_len, u32 token_len, u32 flags (bit 0: given as a relative path), u32 reserved},
 * the path, the token (bytes), zero padding to 4. A path under the domain's own home is
 * stored relative to it (without the leading "/local/domain/DOMID/"), marked by bit 1, so it
 * follows the domain to its new id.
 */
export interface XenstoreWatchRec {
  path: string;
  token: string;
  relative: boolean;
  /** The path is relative to the domain's home (it was under it). */
  inHome: boolean;
}

export function writeXenstoreWatches(w: ByteWriter, ws: readonly XenstoreWatchRec[]): void {
  w.u32(ws.length).u32(0);
  for (const x of ws) {
    const path = utf8.encode(x.path),
      token = Uint8Array.from(x.token, (c) => c.charCodeAt(0) & 0xff);
    w.u32(path.length)
      .u32(token.length)
      .u32((x.relative ? 1 : 0) | (x.inHome ? 2 : 0))
      .u32(0);
    w.bytes(path)
      .bytes(token)
      .zeros((4 - ((path.length + token.length) % 4)) % 4);
  }
}

export function readXenstoreWatches(body: Uint8Array, base: number, le = true): XenstoreWatchRec[] {
  const r: ByteReader = new ByteReader(body, base, le, 'PV_XENSTORE_WATCHES');
  const count = r.u32('count');
  r.skip(4);
  if (count > 1024) r.fail(`${count} watches, over xenstored's quota`, base);
  const out: XenstoreWatchRec[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const pathLen = r.u32('path_len'),
      tokenLen = r.u32('token_len'),
      flags = r.u32('flags');
    r.skip(4);
    if (pathLen === 0 || pathLen > PATH_MAX || tokenLen > VALUE_MAX || flags > 3) r.fail(`watch ${i}: lengths or flags out of range`, at);
    let path: string;
    try {
      path = fromUtf8.decode(r.bytesOf(pathLen, 'path'));
    } catch {
      r.fail(`watch ${i}: the path is not UTF-8`, at);
    }
    if (path.includes('\0') || ((flags & 2) !== 0 && path.startsWith('/'))) r.fail(`watch ${i}: bad path '${path}'`, at);
    const token = String.fromCharCode(...r.bytesOf(tokenLen, 'token'));
    r.skip((4 - ((pathLen + tokenLen) % 4)) % 4);
    out.push({ path, token, relative: (flags & 1) !== 0, inHome: (flags & 2) !== 0 });
  }
  r.end();
  return out;
}
