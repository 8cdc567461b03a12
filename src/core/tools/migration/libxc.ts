/**
 * The libxc stream ("XENF", version 3; Xen's docs/specs/libxc-migration-stream.pandoc): the
 * domain's memory and CPU state, inside the libxl stream's LIBXC_CONTEXT.
 *
 *   image header (24 bytes, big-endian): marker 0xFFFFFFFFFFFFFFFF, id "XENF", version 3,
 *     u16 options (bit 0: big-endian records), reserved
 *   domain header (16 bytes): u32 type (hyperlab's 0x48590001 RV32 hvm, 0x48590002 RV32 pv),
 *     u16 page_shift (12), reserved, u32 xen_major, u32 xen_minor
 *   records: STATIC_DATA_END, PAGE_DATA..., then the end-of-checkpoint state (vCPUs,
 *     HVM_CONTEXT or SHARED_INFO and the pv records), END; each with its checksum
 *     (framing.ts), the stream checksum before END.
 *
 * The writer is incremental (a live migration writes PAGE_DATA round after round); the
 * reader takes a whole stream and returns only once every checksum and rule has been
 * checked, so nothing of a bad stream is ever applied.
 */
import type { HartState } from '../../cpu/hartState';
import { ByteReader, ByteWriter, hex } from './bytes';
import { crc32c } from './crc32c';
import { readDeviceState, writeDeviceState, type DeviceStateEntry } from './deviceState';
import { RecordReader, RecordWriter, type RawRecord } from './framing';
import { MAX_BATCH_SIZE, PAGE_SHIFT, PAGE_SIZE, readPageData, writePageData, type PageEntry } from './pageData';
import {
  readEvtchnTable,
  readGrantTable,
  readXenstoreSubtree,
  writeEvtchnTable,
  writeGrantTable,
  writeXenstoreSubtree,
  readXenstoreWatches,
  writeXenstoreWatches,
  type XenstoreWatchRec,
  type EvtchnEntry,
  type GrantTableState,
  type XenstoreNode,
} from './pvState';
import { DHDR_SIZE, DHDR_TYPE, IHDR_ID, IHDR_OPT_BIG_ENDIAN, IHDR_SIZE, IHDR_VERSION, isOptional, XC, xcName } from './records';
import { readVcpuContext, writeVcpuContext } from './vcpuContext';
import { readVcpuTimers, writeVcpuTimers, type VcpuTimers } from './deviceCodec';

export type DomainKind = 'hvm' | 'pv';

/** What Xen's xen_version reports in hyperlab (xen/common/hypercall/misc.ts). */
export const XEN_MAJOR = 4,
  XEN_MINOR = 19;

export class LibxcWriter {
  private readonly rec: RecordWriter;
  private staticEnded = false;

  constructor(
    readonly w: ByteWriter,
    readonly kind: DomainKind,
    xen: { major: number; minor: number } = { major: XEN_MAJOR, minor: XEN_MINOR },
  ) {
    const start = w.length;
    w.u32(0xffff_ffff, false).u32(0xffff_ffff, false).u32(IHDR_ID, false).u32(IHDR_VERSION, false).u16(0, false).u16(0, false).u32(0, false);
    w.u32(kind === 'hvm' ? DHDR_TYPE.HYPERLAB_RV32_HVM : DHDR_TYPE.HYPERLAB_RV32_PV)
      .u16(PAGE_SHIFT)
      .u16(0)
      .u32(xen.major)
      .u32(xen.minor);
    this.rec = new RecordWriter(w, crc32c(w.view8().subarray(start)));
  }

  /** Any record: for hyperlab's own kinds, use the typed methods below. */
  record(type: number, body?: (w: ByteWriter) => void): this {
    this.rec.record(type, body);
    return this;
  }

  staticDataEnd(): this {
    this.staticEnded = true;
    return this.record(XC.STATIC_DATA_END);
  }

  /** Pages, in PAGE_DATA records of at most 1024. Returns the number of records. */
  pages(entries: readonly PageEntry[]): number {
    if (!this.staticEnded) this.staticDataEnd();
    let n = 0;
    for (let i = 0; i < entries.length; i += MAX_BATCH_SIZE, n++) {
      const batch = entries.slice(i, i + MAX_BATCH_SIZE);
      this.record(XC.PAGE_DATA, (w) => writePageData(w, batch));
    }
    return n;
  }

  vcpu(s: HartState): this {
    return this.record(XC.RV32_VCPU_CONTEXT, (w) => writeVcpuContext(w, s));
  }

  hvmContext(entries: readonly DeviceStateEntry[]): this {
    return this.record(XC.HVM_CONTEXT, (w) => writeDeviceState(w, entries));
  }

  sharedInfo(page: Uint8Array): this {
    if (page.length !== PAGE_SIZE) throw new Error('SHARED_INFO is one page');
    return this.record(XC.SHARED_INFO, (w) => w.bytes(page));
  }

  evtchnTable(ports: readonly EvtchnEntry[]): this {
    return this.record(XC.PV_EVTCHN_TABLE, (w) => writeEvtchnTable(w, ports));
  }

  grantTable(g: GrantTableState): this {
    return this.record(XC.PV_GRANT_TABLE, (w) => writeGrantTable(w, g));
  }

  xenstore(nodes: readonly XenstoreNode[]): this {
    return this.record(XC.PV_XENSTORE_SUBTREE, (w) => writeXenstoreSubtree(w, nodes));
  }

  xenstoreWatches(ws: readonly XenstoreWatchRec[]): this {
    return this.record(XC.PV_XENSTORE_WATCHES, (w) => writeXenstoreWatches(w, ws));
  }

  timers(ts: readonly VcpuTimers[]): this {
    return this.record(XC.RV32_VCPU_TIMERS, (w) => writeVcpuTimers(w, ts));
  }

  /** STREAM_CHECKSUM and END; returns the stream checksum (the libxl layer records it). */
  end(): number {
    if (!this.staticEnded) this.staticDataEnd();
    return this.rec.end();
  }
}

/** A whole domain image, as `writeLibxcStream` takes it and `readLibxcStream` returns it. */
export interface LibxcImage {
  kind: DomainKind;
  xenMajor: number;
  xenMinor: number;
  /** The domain's pages once every PAGE_DATA is applied in order (later rounds win). */
  pages: Map<number, Uint8Array | 'zero'>;
  vcpus: HartState[];
  hvmContext?: DeviceStateEntry[];
  sharedInfo?: Uint8Array;
  evtchn?: EvtchnEntry[];
  grants?: GrantTableState;
  xenstore?: XenstoreNode[];
  xenstoreWatches?: XenstoreWatchRec[];
  /** The vCPUs' timers and whether each was up (a save of a running domain has them). */
  timers?: VcpuTimers[];
}

export interface LibxcRead extends LibxcImage {
  /** Optional records this reader does not know, skipped (a newer writer's). */
  skipped: { type: number; offset: number; length: number }[];
  /** PAGE_DATA records and the pfn entries they held. */
  pageRecords: number;
  pageEntries: number;
  /** The stream checksum (verified). */
  streamCrc: number;
}

export function writeLibxcStream(w: ByteWriter, img: LibxcImage): number {
  const x = new LibxcWriter(w, img.kind, { major: img.xenMajor, minor: img.xenMinor });
  x.staticDataEnd();
  x.pages([...img.pages].map(([pfn, data]) => ({ pfn, data })));
  for (const v of img.vcpus) x.vcpu(v);
  if (img.timers !== undefined) x.timers(img.timers);
  if (img.hvmContext !== undefined) x.hvmContext(img.hvmContext);
  if (img.sharedInfo !== undefined) x.sharedInfo(img.sharedInfo);
  if (img.evtchn !== undefined) x.evtchnTable(img.evtchn);
  if (img.grants !== undefined) x.grantTable(img.grants);
  if (img.xenstore !== undefined) x.xenstore(img.xenstore);
  if (img.xenstoreWatches !== undefined) x.xenstoreWatches(img.xenstoreWatches);
  return x.end();
}

export interface LibxcLimits {
  /** Frames the domain may have (its maxmem): a pfn at or above is refused. */
  maxPfn: number;
  /** vCPUs the domain may have. */
  maxVcpus: number;
}

/** Records Xen defines that mean nothing for an RV32 domain, or that hyperlab does not implement. */
const NOT_FOR_RV32 = new Set<number>([
  XC.X86_PV_INFO,
  XC.X86_PV_P2M_FRAMES,
  XC.X86_PV_VCPU_BASIC,
  XC.X86_PV_VCPU_EXTENDED,
  XC.X86_PV_VCPU_XSAVE,
  XC.X86_TSC_INFO,
  XC.HVM_PARAMS,
  XC.TOOLSTACK,
  XC.X86_PV_VCPU_MSRS,
  XC.X86_CPUID_POLICY,
  XC.X86_MSR_POLICY,
]);
const UNSUPPORTED = new Set<number>([XC.VERIFY, XC.CHECKPOINT, XC.CHECKPOINT_DIRTY_PFN_LIST]);
const DOMAIN_TYPES: Record<number, string> = { 1: 'x86 PV', 2: 'x86 HVM', 3: 'x86 PVH', 4: 'ARM' };

/** Read the image and domain headers; returns the kind and the headers' CRC. */
function readHeaders(r: ByteReader): { kind: DomainKind; xenMajor: number; xenMinor: number; crc: number } {
  const start = r.pos,
    at = r.offset;
  r.need(IHDR_SIZE + DHDR_SIZE, 'image and domain headers');
  const m0 = r.u32('marker', false),
    m1 = r.u32('marker', false);
  if (m0 !== 0xffff_ffff || m1 !== 0xffff_ffff) r.fail('not a libxc v2+ stream: the marker has zero bits (a legacy image?)', at);
  const id = r.u32('id', false),
    version = r.u32('version', false),
    options = r.u16('options', false);
  if (id !== IHDR_ID) r.fail(`id ${hex(id)} is not "XENF"`, at + 8);
  if (version !== IHDR_VERSION) r.fail(`libxc stream version ${version}; hyperlab reads version ${IHDR_VERSION}`, at + 12);
  if ((options & IHDR_OPT_BIG_ENDIAN) !== 0) r.fail('a big-endian stream; RV32 streams are little-endian', at + 16);
  if ((options & ~IHDR_OPT_BIG_ENDIAN) !== 0) r.fail(`reserved option bits ${hex(options, 4)}`, at + 16);
  r.skip(6);
  const type = r.u32('domain type'),
    pageShift = r.u16('page_shift');
  r.skip(2);
  const xenMajor = r.u32('xen_major'),
    xenMinor = r.u32('xen_minor');
  let kind: DomainKind;
  if (type === DHDR_TYPE.HYPERLAB_RV32_HVM) kind = 'hvm';
  else if (type === DHDR_TYPE.HYPERLAB_RV32_PV) kind = 'pv';
  else r.fail(`domain type ${hex(type)}${DOMAIN_TYPES[type] ? ` (${DOMAIN_TYPES[type]})` : ''} is not an RV32 hyperlab domain`, at + 24);
  if (pageShift !== PAGE_SHIFT) r.fail(`page_shift ${pageShift}; RV32 pages are 4 KiB (12)`, at + 28);
  return { kind, xenMajor, xenMinor, crc: crc32c(r.bytes.subarray(start, r.pos)) };
}

/**
 * The libxc layer's rules, applied one verified record at a time: what each record holds,
 * the order they come in, what a stream must contain by END. Used by `readLibxcStream`
 * (a whole stream) and by the incremental SaveFileReader (saveFile.ts).
 */
export class LibxcRestore {
  readonly out: LibxcRead;
  readonly recs: RecordReader;
  private staticEnded = false;
  private stateStarted = false;
  private readonly seen = new Set<number>();

  /** Reads the image and domain headers from `r`. */
  constructor(
    r: ByteReader,
    private readonly limits: LibxcLimits,
  ) {
    const h = readHeaders(r);
    this.recs = new RecordReader(r, 'libxc', xcName, h.crc);
    this.out = {
      kind: h.kind,
      xenMajor: h.xenMajor,
      xenMinor: h.xenMinor,
      pages: new Map(),
      vcpus: [],
      skipped: [],
      pageRecords: 0,
      pageEntries: 0,
      streamCrc: 0,
    };
  }

  private fail(rec: RawRecord, why: string): never {
    return this.recs.r.fail(`libxc record ${rec.index} (${xcName(rec.type)}): ${why}`, rec.offset);
  }

  private once(rec: RawRecord): void {
    if (this.seen.has(rec.type)) this.fail(rec, 'appears twice');
    this.seen.add(rec.type);
  }

  private state(rec: RawRecord, kind?: DomainKind): void {
    if (!this.staticEnded) this.fail(rec, 'comes before STATIC_DATA_END');
    this.stateStarted = true;
    if (kind === undefined) return;
    this.once(rec);
    if (this.out.kind !== kind) this.fail(rec, `is for ${kind} domains and this one is ${this.out.kind}`);
  }

  /** Read the next record and apply it. Returns true once END has been read and the stream found whole. */
  step(): boolean {
    const out = this.out;
    const rec = this.recs.next();
    const { body, offset } = rec;
    switch (rec.type) {
      case XC.END:
        if (!this.staticEnded) this.fail(rec, 'the stream has no STATIC_DATA_END');
        if (out.vcpus.length === 0) this.fail(rec, 'the stream holds no vCPU context');
        out.vcpus.sort((a, b) => a.hartid - b.hartid);
        out.vcpus.forEach((v, i) => {
          if (v.hartid !== i) this.fail(rec, `vCPU ${i} has no context`);
        });
        if (out.kind === 'pv' && out.sharedInfo === undefined) this.fail(rec, 'a pv stream without SHARED_INFO');
        out.streamCrc = this.recs.streamCrc;
        return true;
      case XC.STATIC_DATA_END:
        this.once(rec);
        if (body.length !== 0) this.fail(rec, 'has a body');
        this.staticEnded = true;
        break;
      case XC.PAGE_DATA:
        if (!this.staticEnded) this.fail(rec, 'comes before STATIC_DATA_END');
        if (this.stateStarted) this.fail(rec, 'comes after the vCPU and device state');
        for (const p of readPageData(body, offset + 8, this.limits.maxPfn)) {
          if (p.data === 'invalid') out.pages.delete(p.pfn);
          else out.pages.set(p.pfn, p.data);
        }
        out.pageRecords++;
        out.pageEntries += new DataView(body.buffer, body.byteOffset).getUint32(0, true);
        break;
      case XC.RV32_VCPU_CONTEXT: {
        this.state(rec);
        const v = readVcpuContext(body, offset + 8);
        if (v.hartid >= this.limits.maxVcpus) this.fail(rec, `vCPU ${v.hartid}, where the domain has ${this.limits.maxVcpus}`);
        if (out.vcpus.some((o) => o.hartid === v.hartid)) this.fail(rec, `vCPU ${v.hartid} twice`);
        out.vcpus.push(v);
        break;
      }
      case XC.HVM_CONTEXT:
        this.state(rec, 'hvm');
        out.hvmContext = readDeviceState(body, offset + 8, 'HVM_CONTEXT');
        break;
      case XC.SHARED_INFO:
        this.state(rec, 'pv');
        if (body.length !== PAGE_SIZE) this.fail(rec, `${body.length} bytes, where shared_info is one page`);
        out.sharedInfo = body;
        break;
      case XC.PV_EVTCHN_TABLE:
        this.state(rec, 'pv');
        out.evtchn = readEvtchnTable(body, offset + 8);
        break;
      case XC.PV_GRANT_TABLE:
        this.state(rec, 'pv');
        out.grants = readGrantTable(body, offset + 8);
        break;
      case XC.PV_XENSTORE_SUBTREE:
        this.state(rec, 'pv');
        out.xenstore = readXenstoreSubtree(body, offset + 8);
        break;
      case XC.PV_XENSTORE_WATCHES:
        this.state(rec, 'pv');
        out.xenstoreWatches = readXenstoreWatches(body, offset + 8);
        break;
      case XC.RV32_VCPU_TIMERS:
        this.state(rec);
        this.once(rec);
        out.timers = readVcpuTimers(body, offset + 8);
        if (out.timers.length > this.limits.maxVcpus) this.fail(rec, `${out.timers.length} vCPUs, where the domain has ${this.limits.maxVcpus}`);
        break;
      default:
        if (NOT_FOR_RV32.has(rec.type)) this.fail(rec, 'is an x86 record: this is an RV32 domain');
        if (UNSUPPORTED.has(rec.type)) this.fail(rec, 'checkpointed streams (Remus, COLO) are not supported');
        if (!isOptional(rec.type)) this.fail(rec, 'unknown mandatory record: this stream needs a newer hyperlab');
        out.skipped.push({ type: rec.type, offset, length: body.length });
    }
    return false;
  }
}

/**
 * Read and check a whole libxc stream from `r` (left just after END). Throws StreamError
 * with the byte offset of the first bad record; returns only a fully verified image.
 */
export function readLibxcStream(r: ByteReader, limits: LibxcLimits): LibxcRead {
  const x = new LibxcRestore(r, limits);
  while (!x.step());
  return x.out;
}

/** Convenience for tests and tools: a whole image to bytes. */
export function libxcBytes(img: LibxcImage): Uint8Array {
  const w = new ByteWriter();
  writeLibxcStream(w, img);
  return w.finish();
}
