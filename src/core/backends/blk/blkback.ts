/**
 * blkback: Domain-0's backend for Xen's split block driver (io/blkif.h), one VbdDevice per
 * virtual disk a pv domain has, over an image of the image layer (src/core/block).
 *
 * The handshake is XenbusState through xenstore (io/blkif.h "STATE DIAGRAMS"). The
 * toolstack has written both areas in Initialising (tools/vbd.ts, libxl's part); the
 * backend publishes the disk (sectors, sector-size, info, feature-flush-cache) and goes
 * InitWait, then follows the frontend's `state`:
 *   Initialised or Connected (a frontend may skip Initialised): read ring-ref,
 *     event-channel and protocol, map the ring page (GrantTables.dom0Map), bind the
 *     channel, go Connected and serve the ring;
 *   Closing: stop serving, unmap, go Closing; Closed (or the node gone): go Closed;
 *   Initialising after Closed: the frontend reconnects (save/restore): InitWait again.
 * The state machine itself is ../xenbus/device.ts (XenbusBackendDevice), shared with
 * netback; this file supplies what is a disk's: the nodes it publishes, the ring, the requests.
 * Detach (`close`) goes Closing and waits for the frontend to close; destroy (`kill`)
 * tears down at once. A domain that dies leaves the backend's mapping valid: the frame
 * stays referenced until the backend unmaps (gnttab.ts).
 *
 * Requests are served synchronously in the event handler (Domain-0's thread), at most
 * MAX_PER_ROUND before the rest is left to the next task. Data moves only through
 * GrantTables.dom0Copy; every guest-written field is checked (request.ts) and a bad one
 * costs the guest an error response and a counter, never a crash.
 */
import type { BlockImage } from '../../block/image';
import * as B from '../../xen/public/blkif';
import { GNTST_okay } from '../../xen/public/xen';
import { BackRing } from '../xenbus/backRing';
import { BackendDevices, XenbusBackendDevice } from '../xenbus/device';
import type { BackendHost, BackendXenstore } from '../xenbus/host';
import { decodeRequest, encodeResponse, type BlkRefusal, type BlkRequest } from './request';

/** The xenstore calls the backend makes and what it uses of the hypervisor (shared with netback: ../xenbus/host.ts). */
export type BlkXenstore = BackendXenstore;
export type BlkHost = BackendHost;

export interface VbdSpec {
  domid: number;
  devid: number;
  image: BlockImage;
  readOnly: boolean;
  cdrom: boolean;
  backendPath: string;
  frontendPath: string;
  /** The disk's logical sector size in bytes (xl.cfg's hyperlab key `sector-size=`): 512 when absent. */
  sectorSize?: number;
}

/** A logical sector size blkback and virtio-blk serve: a power of two from 512 (blkif.h's minimum) to a page. */
export const validSectorSize = (n: number): boolean => Number.isInteger(n) && n >= B.BLKIF_SECTOR_SIZE && n <= 4096 && (n & (n - 1)) === 0;

/** Requests served per event before the rest waits for the next task (a frontend can keep producing). */
export const MAX_PER_ROUND = 256;

export interface VbdStats {
  /** xentop's VBD_RD / VBD_WR / VBD_RSECT / VBD_WSECT, and flushes: requests served (refused ones count in `refused` only). */
  rdReq: number;
  wrReq: number;
  flReq: number;
  rdSect: number;
  wrSect: number;
  /** Refused requests by reason (each answered BLKIF_RSP_ERROR or EOPNOTSUPP). */
  refused: Record<BlkRefusal, number>;
  /** Times the frontend's req_prod was more than a ring ahead (that batch is ignored). */
  badRing: number;
  notifyIn: number;
  notifyOut: number;
}

/** Counters at zero (also the virtio-blk device's: VbdStats count both front doors). */
export const newVbdStats = (): VbdStats => ({
  rdReq: 0,
  wrReq: 0,
  flReq: 0,
  rdSect: 0,
  wrSect: 0,
  badRing: 0,
  notifyIn: 0,
  notifyOut: 0,
  refused: { badSegments: 0, badSector: 0, misaligned: 0, pastEnd: 0, readOnly: 0, badGrant: 0, ioError: 0, closed: 0, notSupported: 0 },
});

export class VbdDevice extends XenbusBackendDevice {
  readonly stats = newVbdStats();
  /** The disk's size in 512-byte sectors (blkif's unit, whatever sectorSize is). */
  readonly sectors: number;
  /** The logical sector size published as `sector-size` (and `physical-sector-size`). */
  readonly sectorSize: number;
  /** The frontend as last seen: its ring-ref and event channel (for `xl block-list`). */
  ringRef = -1;
  evtchn = -1;
  private ring: BackRing | undefined;
  private mapHandle = 0;
  private port = 0;
  private loggedBadRing = false;
  private readonly slot = new Uint8Array(B.BLKIF_REQUEST_SIZE);
  private readonly buf = new Uint8Array(B.BLKIF_MAX_SEGMENTS_PER_REQUEST * 4096);

  constructor(
    host: BlkHost,
    readonly spec: VbdSpec,
    onGone: (d: VbdDevice) => void,
  ) {
    super(host, spec, 'blkback', (d) => onGone(d as VbdDevice));
    this.sectorSize = spec.sectorSize ?? B.BLKIF_SECTOR_SIZE;
    if (!validSectorSize(this.sectorSize)) throw new Error(`disk ${spec.devid}: sector-size ${this.sectorSize} is not a power of two from 512 to 4096`);
    // Whole logical sectors only (tools/vbd.ts refuses an image that is not), counted in 512-byte units.
    this.sectors = Math.floor(spec.image.size / this.sectorSize) * (this.sectorSize / B.BLKIF_SECTOR_SIZE);
  }

  /** The machine frame of the mapped ring page (for inspectors and tests), or -1 when not connected. */
  get ringMfn(): number {
    return this.ring ? this.ring.mfn : -1;
  }

  /** The ring's indices as the backend keeps them (for inspectors), or undefined when not connected. */
  get ringIndices(): { reqCons: number; rspProd: number; reqProd: number } | undefined {
    const r = this.ring;
    return r ? { reqCons: r.reqCons, rspProd: r.rspProdPvt, reqProd: r.reqProd() } : undefined;
  }

  /**
   * Publish the disk (before InitWait). io/blkif.h: `sector-size` is "the logical block size,
   * in bytes, of the underlying storage", `physical-sector-size` "the physical block size"
   * (an image file has one size for both: the config's). `sectors` is written in 512-byte
   * units, as Linux's xen-blkback does (vbd_sz) and its blkfront reads it; the header's
   * current text says "in units of sector-size" and wants sector-size 512 for a frontend
   * that does not write `feature-large-sector-size`: the departure is in docs/storage.md.
   */
  protected async publish(): Promise<void> {
    const { xs } = this.host;
    const be = this.spec.backendPath;
    const info = (this.spec.readOnly ? B.VDISK_READONLY : 0) | (this.spec.cdrom ? B.VDISK_CDROM : 0);
    await xs.write(`${be}/sectors`, String(this.sectors));
    await xs.write(`${be}/sector-size`, String(this.sectorSize));
    await xs.write(`${be}/physical-sector-size`, String(this.sectorSize));
    await xs.write(`${be}/info`, String(info));
    await xs.write(`${be}/feature-flush-cache`, '1');
    await xs.write(`${be}/feature-barrier`, '0');
  }

  /** The device is gone for good: close the image. */
  protected release(): void {
    try {
      this.spec.image.close();
    } catch (e) {
      this.log(`closing the image failed: ${String(e)}`);
    }
  }

  protected async connect(): Promise<string | undefined> {
    const ringRef = Number(await this.readFront('ring-ref'));
    const evtchn = Number(await this.readFront('event-channel'));
    const protocol = (await this.readFront('protocol')) ?? B.XEN_IO_PROTO_ABI_NATIVE;
    if (this.gone) return undefined; // destroyed meanwhile: nothing to connect, nothing to write
    if (protocol !== B.XEN_IO_PROTO_ABI_NATIVE) return `protocol '${protocol.slice(0, 32)}' is not supported (only ${B.XEN_IO_PROTO_ABI_NATIVE})`;
    if (!Number.isInteger(ringRef) || ringRef < 0 || ringRef > 0xffff_ffff) return 'bad ring-ref';
    if (!Number.isInteger(evtchn) || evtchn <= 0) return 'bad event-channel';
    const m = this.host.gnttab.dom0Map(this.domid, ringRef, false);
    if (m.status !== GNTST_okay) return `mapping ring-ref ${ringRef} failed (GNTST ${m.status})`;
    const start = BackRing.attachIndex(this.host.machine, m.mfn, B.BLKIF_RING_SIZE);
    if (start === undefined) {
      this.host.gnttab.dom0Unmap(m.handle);
      return `ring-ref ${ringRef}: req_prod is more than a ring ahead of rsp_prod`;
    }
    const port = this.host.dom0Bind(this.domid, evtchn, () => this.kick());
    if (port <= 0) {
      this.host.gnttab.dom0Unmap(m.handle);
      return `binding event-channel ${evtchn} failed (${port})`;
    }
    this.mapHandle = m.handle;
    this.ringRef = ringRef;
    this.evtchn = evtchn;
    this.port = port;
    this.ring = new BackRing(this.host.machine, m.mfn, B.BLKIF_RING_SIZE, B.BLKIF_REQUEST_SIZE, start);
    return undefined;
  }

  /** Connected is published: serve the requests the frontend queued before. */
  protected override connected(): void {
    this.process();
  }

  protected disconnect(): void {
    this.ring = undefined;
    if (this.port > 0) this.host.dom0Close(this.port);
    this.port = 0;
    if (this.mapHandle > 0) this.host.gnttab.dom0Unmap(this.mapHandle);
    this.mapHandle = 0;
  }

  /**
   * Before a save, with the domain paused: serve every request the frontend has queued (Xen's
   * blkback finishes its requests when the domain suspends; requests are served
   * synchronously here, so none is left half-done), then flush the image, so that the disk
   * holds every write the saved memory says was done.
   */
  quiesce(): void {
    this.process();
    this.spec.image.flush();
  }

  /** The frontend notified us. */
  private kick(): void {
    this.stats.notifyIn++;
    this.process();
  }

  /** Consume requests until none is left (RING_FINAL_CHECK_FOR_REQUESTS), answering each. */
  protected serveRings(): void {
    const ring = this.ring;
    if (!ring) return;
    let budget = MAX_PER_ROUND;
    let notify = false;
    let prod: number | undefined = ring.reqProd();
    while (prod !== undefined) {
      if (ring.prodOverflow(prod)) {
        // A req_prod more than a ring ahead is not a batch of requests but a broken or
        // hostile frontend: nothing in it is served, until a notification finds sane indices.
        this.stats.badRing++;
        if (!this.loggedBadRing) this.log(`req_prod ${prod} is more than a ring ahead of ${ring.rspProdPvt}: ignored`);
        this.loggedBadRing = true;
        break;
      }
      for (let n = ring.unconsumed(prod); n > 0 && budget > 0; n--, budget--) {
        ring.copyRequest(this.slot);
        this.handle(ring);
      }
      if (ring.pushResponses()) notify = true;
      if (budget === 0) {
        setTimeout(() => this.process(), 0);
        break;
      }
      prod = ring.finalCheck();
    }
    if (notify && this.port > 0) {
      this.stats.notifyOut++;
      this.host.dom0Notify(this.port);
    }
  }

  /** Serve the request in `this.slot` and put its response in the ring. */
  private handle(ring: BackRing): void {
    const d = decodeRequest(this.slot, this.sectors, this.spec.readOnly, this.sectorSize);
    let status: number;
    if (!d.ok) {
      this.stats.refused[d.why]++;
      status = d.why === 'notSupported' ? B.BLKIF_RSP_EOPNOTSUPP : B.BLKIF_RSP_ERROR;
      this.respond(ring, d.idLo, d.idHi, d.operation, status);
      return;
    }
    const r = d.req;
    const why = this.closing ? 'closed' : this.execute(r);
    if (why !== undefined) this.stats.refused[why]++;
    this.respond(ring, r.idLo, r.idHi, r.operation, why === undefined ? B.BLKIF_RSP_OKAY : B.BLKIF_RSP_ERROR);
  }

  private respond(ring: BackRing, idLo: number, idHi: number, op: number, status: number): void {
    encodeResponse(this.host.machine.u8, ring.responseSlot(), idLo, idHi, op, status);
    ring.produced();
  }

  /** Do a checked request; returns why it failed, or undefined. */
  private execute(r: BlkRequest): BlkRefusal | undefined {
    const img = this.spec.image;
    const data = this.buf.subarray(0, r.nrSectors * B.BLKIF_SECTOR_SIZE);
    try {
      if (r.operation === B.BLKIF_OP_FLUSH_DISKCACHE) {
        img.flush();
        this.stats.flReq++;
        return undefined;
      }
      if (r.operation === B.BLKIF_OP_READ) {
        img.readSectors(r.sector, data);
        if (!this.copySegments(r, data, true)) return 'badGrant';
        this.stats.rdReq++;
        this.stats.rdSect += r.nrSectors;
        return undefined;
      }
      // Every segment is fetched before anything is written: a bad grant writes nothing.
      if (!this.copySegments(r, data, false)) return 'badGrant';
      img.writeSectors(r.sector, data);
      this.stats.wrReq++;
      this.stats.wrSect += r.nrSectors;
      return undefined;
    } catch (e) {
      this.log(e instanceof Error ? e.message : String(e));
      return 'ioError';
    }
  }

  /** Move each segment between `data` and its granted frame; false at the first grant refused. */
  private copySegments(r: BlkRequest, data: Uint8Array, toGuest: boolean): boolean {
    let off = 0;
    for (const s of r.segments) {
      const len = (s.lastSect - s.firstSect + 1) * B.BLKIF_SECTOR_SIZE;
      const st = this.host.gnttab.dom0Copy(this.domid, s.gref, s.firstSect * B.BLKIF_SECTOR_SIZE, data.subarray(off, off + len), toGuest);
      if (st !== GNTST_okay) return false;
      off += len;
    }
    return true;
  }
}

/** The driver: every virtual disk Domain-0 serves, by domain and device id. */
export class BlkBack extends BackendDevices<VbdDevice, VbdSpec> {
  constructor(host: BlkHost) {
    super('disk', (spec, onGone) => new VbdDevice(host, spec, onGone));
  }
}
