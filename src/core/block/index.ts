/** The image layer: byte stores, raw and qcow2 images, backing chains. See README.md. */
export { MemoryStore, type ByteStore } from './store';
export { ImageError, RawImage, SECTOR_SIZE, type BlockImage, type ImageFormat, type ImageInfo } from './image';
export { Qcow2Image, createQcow2, isQcow2, readQcow2Header, type Qcow2CreateOptions, type Qcow2Header } from './qcow2';
export { MAX_CHAIN_DEPTH, createOverlay, openImage, probeFormat, type BackingResolver, type OpenImageOptions, type ResolvedStore } from './open';
export { checkQcow2, type CheckResult } from './check';
export { checkByteStore } from './conformance';
export { firstDifference } from './bytes';
