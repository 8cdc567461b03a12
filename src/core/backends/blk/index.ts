/** Domain-0's block backend (blkback) for pv guests: see README.md. */
export { BlkBack, MAX_PER_ROUND, VbdDevice, type BlkHost, type BlkXenstore, type VbdSpec, type VbdStats } from './blkback';
export { BackRing } from '../xenbus/backRing';
export { decodeRequest, encodeResponse, type BlkRefusal, type BlkRequest, type BlkSegment } from './request';
