/**
 * The pv domain builder (Xen's libxenguest xc_dom_* for a PV kernel, fitted to RV32):
 * populate RAM, load the ELF kernel (and ramdisk), and set up the special pages at the top
 * of RAM: start_info, shared_info, the console ring, the xenstore ring and the grant table
 * frames (docs/abi.md sections 3 to 5). vCPU 0 starts in S-mode at the ELF entry with
 * a0 = 0 and a1 = start_info.
 */
import { Bus } from '../../bus/bus';
import { detectImageFormat } from '../../loader/image';
import { loadKernel } from '../../loader/kernel';
import type { BuiltDomain, DomainImages } from '../common/domain';
import type { MachineMemory } from '../common/machineMemory';
import { P2m, releaseFrames } from '../common/p2m';
import * as X from '../public/xen';
import type { DomainConfig } from '../../tools/xlConfig';

export const PV_RAM_BASE = 0x8000_0000;
/** Grant table frames per domain (1024 v1 entries). */
export const GNTTAB_FRAMES = 2;
/** Special pages at the top of RAM, from the top down. */
export const SPECIAL_START_INFO = 1,
  SPECIAL_SHARED_INFO = 2,
  SPECIAL_CONSOLE = 3,
  SPECIAL_XENSTORE = 4,
  SPECIAL_GNTTAB = 5;
export const NR_SPECIAL_PAGES = SPECIAL_GNTTAB + GNTTAB_FRAMES - 1;
/** Guest frames above maxmem where grants may be mapped (docs/abi.md section 2). */
export const GRANT_WINDOW_PAGES = 256;

export interface BuiltPv extends BuiltDomain {
  startInfo: number;
  sharedInfo: number;
  consoleGfn: number;
  xenstoreGfn: number;
  grantFrames: number[];
  /** Every special page, for the balloon to refuse. */
  specialGfns: number[];
  /** Bytes of guest-physical space the P2M covers (RAM up to maxmem, then the grant window). */
  physSize: number;
}

const MiB = 1024 * 1024;

export function buildPv(mem: MachineMemory, domid: number, cfg: DomainConfig, images: DomainImages, ports: { console: number; xenstore: number }): BuiltPv {
  // Xen's pv builder loads ELF kernels only: anything else would run as garbage.
  if (detectImageFormat(images.kernel) !== 'elf') throw new Error('a pv kernel must be an ELF file');
  const nrPages = (cfg.memory * MiB) / 4096;
  const maxPages = (cfg.maxmem * MiB) / 4096;
  const p2m = new P2m(maxPages + GRANT_WINDOW_PAGES);
  try {
    for (let gfn = 0; gfn < nrPages; gfn++) p2m.populate(mem, gfn, domid);
    const physSize = p2m.maxFrames * 4096;
    const bus = new Bus({ ramBase: PV_RAM_BASE, ramSize: physSize, buffer: mem.buffer, p2m: p2m.table });
    const special = (i: number): number => nrPages - i;
    const gpa = (gfn: number): number => PV_RAM_BASE + gfn * 4096;
    const reservedFrom = gpa(special(NR_SPECIAL_PAGES));
    const image = loadKernel(images.kernel, bus);
    for (const s of image.segments) {
      if (s.paddr + s.memsz > reservedFrom)
        throw new RangeError(`the kernel reaches into the special pages at 0x${reservedFrom.toString(16)}: give the domain more memory`);
    }
    let modStart = 0;
    if (images.ramdisk) {
      const end = Math.max(...image.segments.map((s) => s.paddr + s.memsz));
      modStart = Math.ceil(end / 4096) * 4096;
      if (modStart + images.ramdisk.length > reservedFrom) throw new RangeError('the ramdisk does not fit below the special pages');
      bus.writePhys(modStart, images.ramdisk);
    }
    const si = gpa(special(SPECIAL_START_INFO));
    const w32 = (a: number, v: number): void => bus.writePhys(a, new Uint8Array(Uint32Array.of(v >>> 0).buffer));
    bus.writePhys(si, new TextEncoder().encode(X.START_INFO_MAGIC));
    w32(si + X.SI_NR_PAGES, nrPages);
    w32(si + X.SI_SHARED_INFO, gpa(special(SPECIAL_SHARED_INFO)));
    w32(si + X.SI_FLAGS, 0);
    const pfn = (i: number): number => PV_RAM_BASE / 4096 + i; // frame numbers in the ABI: address >> 12
    w32(si + X.SI_STORE_MFN, pfn(special(SPECIAL_XENSTORE)));
    w32(si + X.SI_STORE_EVTCHN, ports.xenstore);
    w32(si + X.SI_CONSOLE_MFN, pfn(special(SPECIAL_CONSOLE)));
    w32(si + X.SI_CONSOLE_EVTCHN, ports.console);
    w32(si + X.SI_MOD_START, modStart);
    w32(si + X.SI_MOD_LEN, images.ramdisk?.length ?? 0);
    const cmd = new TextEncoder().encode((cfg.cmdline ?? '').slice(0, X.MAX_GUEST_CMDLINE - 1));
    bus.writePhys(si + X.SI_CMD_LINE, cmd);
    // shared_info starts zeroed: no port pending or masked, and evtchn_upcall_mask = 0,
    // since sie.SEIE and sstatus.SIE already let the guest hold the upcall off (docs/abi.md).
    const sharedInfo = gpa(special(SPECIAL_SHARED_INFO));
    const grantFrames = Array.from({ length: GNTTAB_FRAMES }, (_, i) => special(SPECIAL_GNTTAB + i));
    return {
      p2m,
      ramBase: PV_RAM_BASE,
      entry: image.entry,
      args: [0, si, 0],
      startInfo: si,
      sharedInfo,
      consoleGfn: special(SPECIAL_CONSOLE),
      xenstoreGfn: special(SPECIAL_XENSTORE),
      grantFrames,
      physSize,
      specialGfns: Array.from({ length: NR_SPECIAL_PAGES }, (_, i) => special(i + 1)),
    };
  } catch (e) {
    releaseFrames(mem, p2m);
    throw e;
  }
}

/**
 * Where buildPv puts a domain of `cfg`'s special pages, without building it: a restore
 * builds the P2M from the stream and finds the pages where the saved domain had them.
 */
export function pvLayout(cfg: DomainConfig): Omit<BuiltPv, 'p2m' | 'entry' | 'args'> & { p2mFrames: number } {
  const nrPages = (cfg.memory * MiB) / 4096;
  const p2mFrames = (cfg.maxmem * MiB) / 4096 + GRANT_WINDOW_PAGES;
  const special = (i: number): number => nrPages - i;
  const gpa = (gfn: number): number => PV_RAM_BASE + gfn * 4096;
  return {
    p2mFrames,
    ramBase: PV_RAM_BASE,
    startInfo: gpa(special(SPECIAL_START_INFO)),
    sharedInfo: gpa(special(SPECIAL_SHARED_INFO)),
    consoleGfn: special(SPECIAL_CONSOLE),
    xenstoreGfn: special(SPECIAL_XENSTORE),
    grantFrames: Array.from({ length: GNTTAB_FRAMES }, (_, i) => special(SPECIAL_GNTTAB + i)),
    physSize: p2mFrames * 4096,
    specialGfns: Array.from({ length: NR_SPECIAL_PAGES }, (_, i) => special(i + 1)),
  };
}
