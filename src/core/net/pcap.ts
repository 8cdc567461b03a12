/**
 * Packet captures in the classic libpcap format (the "pcap" of tcpdump -w and Wireshark,
 * https://www.tcpdump.org/manpages/pcap-savefile.5.txt): a 24-byte file header (magic
 * 0xa1b2c3d4 for microsecond time stamps, version 2.4, zone 0, sigfigs 0, snaplen,
 * LINKTYPE_ETHERNET = 1), then one record per frame: a 16-byte header (seconds,
 * microseconds, captured length, original length) and the captured bytes. Written in
 * little-endian byte order; readers tell the order from the magic.
 */

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
export const PCAP_SNAPLEN = 65535;

export function pcapFileHeader(snaplen = PCAP_SNAPLEN): Uint8Array {
  const b = new Uint8Array(PCAP_HEADER_LEN);
  const v = new DataView(b.buffer);
  v.setUint32(0, PCAP_MAGIC_US, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true);
  v.setUint32(12, 0, true);
  v.setUint32(16, snaplen, true);
  v.setUint32(20, LINKTYPE_ETHERNET, true);
  return b;
}

/** One record: the frame (cut to `snaplen`) stamped with `epochMs` (milliseconds since 1970, fractions kept to the microsecond). */
export function pcapRecord(frame: Uint8Array, epochMs: number, snaplen = PCAP_SNAPLEN): Uint8Array {
  const cap = Math.min(frame.length, snaplen);
  const b = new Uint8Array(PCAP_RECORD_HEADER_LEN + cap);
  const v = new DataView(b.buffer);
  const us = Math.round(epochMs * 1000);
  v.setUint32(0, Math.floor(us / 1e6), true);
  v.setUint32(4, us % 1e6, true);
  v.setUint32(8, cap, true);
  v.setUint32(12, frame.length, true);
  b.set(frame.subarray(0, cap), PCAP_RECORD_HEADER_LEN);
  return b;
}

export interface PcapPacket {
  epochMs: number;
  origLen: number;
  data: Uint8Array;
}

/** Read a classic pcap file (either byte order, micro- or nanosecond magic); throws a one-line error on anything else. */
export function readPcap(file: Uint8Array): { linktype: number; snaplen: number; packets: PcapPacket[] } {
  if (file.length < PCAP_HEADER_LEN) throw new Error('not a pcap file: shorter than its 24-byte header');
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const m = v.getUint32(0, true);
  let le: boolean;
  if (m === PCAP_MAGIC_US || m === 0xa1b23c4d) le = true;
  else if (v.getUint32(0, false) === PCAP_MAGIC_US || v.getUint32(0, false) === 0xa1b23c4d) le = false;
  else throw new Error(`not a pcap file: magic 0x${m.toString(16)}`);
  const nano = v.getUint32(0, le) === 0xa1b23c4d;
  const snaplen = v.getUint32(16, le);
  const linktype = v.getUint32(20, le);
  const packets: PcapPacket[] = [];
  let o = PCAP_HEADER_LEN;
  while (o < file.length) {
    if (o + PCAP_RECORD_HEADER_LEN > file.length) throw new Error(`pcap file truncated in a record header at byte ${o}`);
    const sec = v.getUint32(o, le);
    const frac = v.getUint32(o + 4, le);
    const cap = v.getUint32(o + 8, le);
    const orig = v.getUint32(o + 12, le);
    if (o + PCAP_RECORD_HEADER_LEN + cap > file.length) throw new Error(`pcap file truncated in the record at byte ${o}`);
    packets.push({ epochMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3), origLen: orig, data: file.slice(o + 16, o + 16 + cap) });
    o += PCAP_RECORD_HEADER_LEN + cap;
  }
  return { linktype, snaplen, packets };
}

/**
 * A capture in progress: the header, then a record per frame, handed to `sink` as they come
 * (a file in Node, a growing Blob in the browser). `stop` ends it; frames after that are not written.
 */
export class PcapCapture {
  frames = 0;
  bytes = 0;
  stopped = false;

  constructor(
    private readonly sink: (chunk: Uint8Array) => void,
    private readonly clock: () => number = () => Date.now(),
    readonly snaplen = PCAP_SNAPLEN,
  ) {
    sink(pcapFileHeader(snaplen));
    this.bytes = PCAP_HEADER_LEN;
  }

  write(frame: Uint8Array): void {
    if (this.stopped) return;
    const r = pcapRecord(frame, this.clock(), this.snaplen);
    this.frames++;
    this.bytes += r.length;
    this.sink(r);
  }

  stop(): void {
    this.stopped = true;
  }
}
