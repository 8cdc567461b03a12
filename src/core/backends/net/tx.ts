/**
 * A transmitted packet as netback takes it off the tx ring (io/netif.h "Guest transmit"):
 * one or more netif_tx_request slots, the first carrying the packet's total size and each
 * further fragment its own, chained by NETTXF_more_data; NETTXF_extra_info on the first
 * slot puts netif_extra_info slots right after it (chained by XEN_NETIF_EXTRA_FLAG_MORE).
 *
 * Everything here comes from a slot the frontend may still be writing, so each slot is
 * copied out before it is read, and every size, offset and count is checked before a byte
 * is copied: a bad packet costs its slots an error response and a counter.
 */
import * as N from '../../xen/public/netif';

export interface TxSlot {
  gref: number;
  offset: number;
  flags: number;
  id: number;
  size: number;
  /** An extra-info slot (answered NETIF_RSP_NULL). */
  extra: boolean;
}

export type TxRefusal =
  /** Shorter than an Ethernet header. */
  | 'runt'
  /** Longer than the vif's MTU plus the Ethernet header (and a VLAN tag). */
  | 'oversized'
  /** The fragments add up to more than the first slot's total. */
  | 'badSize'
  /** A fragment running past the end of its page. */
  | 'crossesPage'
  /** More than XEN_NETIF_NR_SLOTS_MIN (18) data slots. */
  | 'tooManySlots'
  /** The last slot available still says more_data (fragments that never end). */
  | 'unterminated'
  /** An extra-info slot this backend does not offer (GSO, multicast, hash) or that is malformed. */
  | 'badExtra'
  /** A grant the grant table refused. */
  | 'badGrant';

export const TX_REFUSALS: readonly TxRefusal[] = ['runt', 'oversized', 'badSize', 'crossesPage', 'tooManySlots', 'unterminated', 'badExtra', 'badGrant'];

export function decodeTxSlot(b: Uint8Array): TxSlot {
  const v = new DataView(b.buffer, b.byteOffset, N.NETIF_TX_REQUEST_SIZE);
  return {
    gref: v.getUint32(N.NETIF_TX_REQ_GREF, true),
    offset: v.getUint16(N.NETIF_TX_REQ_OFFSET, true),
    flags: v.getUint16(N.NETIF_TX_REQ_FLAGS, true),
    id: v.getUint16(N.NETIF_TX_REQ_ID, true),
    size: v.getUint16(N.NETIF_TX_REQ_SIZE, true),
    extra: false,
  };
}

/**
 * Check a packet's data slots (extras left out): the total, each fragment's length and
 * place in its page. Returns each fragment's length (the first one's is the total less the
 * others), or why the packet is refused.
 */
export function checkTxPacket(data: readonly TxSlot[], maxFrame: number): number[] | TxRefusal {
  const first = data[0]!;
  const total = first.size;
  if (data.length > N.XEN_NETIF_NR_SLOTS_MIN) return 'tooManySlots';
  if (total < N.ETH_HLEN) return 'runt';
  if (total > maxFrame) return 'oversized';
  let rest = 0;
  for (let i = 1; i < data.length; i++) rest += data[i]!.size;
  if (rest > total) return 'badSize';
  const lens = data.map((s, i) => (i === 0 ? total - rest : s.size));
  for (let i = 0; i < data.length; i++) if (data[i]!.offset + lens[i]! > 4096) return 'crossesPage';
  return lens;
}

export function encodeTxResponse(u8: Uint8Array, at: number, id: number, status: number): void {
  const v = new DataView(u8.buffer, u8.byteOffset + at, N.NETIF_TX_RESPONSE_SIZE);
  v.setUint16(N.NETIF_TX_RSP_ID, id, true);
  v.setInt16(N.NETIF_TX_RSP_STATUS, status, true);
}

export function encodeRxResponse(u8: Uint8Array, at: number, id: number, offset: number, flags: number, status: number): void {
  const v = new DataView(u8.buffer, u8.byteOffset + at, N.NETIF_RX_RESPONSE_SIZE);
  v.setUint16(N.NETIF_RX_RSP_ID, id, true);
  v.setUint16(N.NETIF_RX_RSP_OFFSET, offset, true);
  v.setUint16(N.NETIF_RX_RSP_FLAGS, flags, true);
  v.setInt16(N.NETIF_RX_RSP_STATUS, status, true);
}
