/** mstatus / sstatus fields for RV32 (privileged spec 1.12, section 3.1.6, figure 3.7). */
export const SIE = 1 << 1;
export const MIE = 1 << 3;
export const SPIE = 1 << 5;
export const MPIE = 1 << 7;
export const SPP_SHIFT = 8;
export const SPP = 1 << SPP_SHIFT;
export const MPP_SHIFT = 11;
export const MPP = 3 << MPP_SHIFT;
export const MPRV = 1 << 17;
export const SUM = 1 << 18;
export const MXR = 1 << 19;
export const TVM = 1 << 20;
export const TW = 1 << 21;
export const TSR = 1 << 22;

/** Bits M-mode can write. No F/V extension: FS, VS, XS and SD stay 0; UBE/SBE/MBE are 0 (little-endian). */
export const MSTATUS_WRITABLE = SIE | MIE | SPIE | MPIE | SPP | MPP | MPRV | SUM | MXR | TVM | TW | TSR;
/** The view of mstatus that sstatus gives (section 4.1.1). */
export const SSTATUS_MASK = SIE | SPIE | SPP | SUM | MXR;

/** satp for Sv32 (section 4.1.11): MODE bit 31, ASID bits 30:22, PPN bits 21:0. */
export const SATP_MODE_SV32 = 1 << 31;
export const SATP_PPN_MASK = 0x003f_ffff;
