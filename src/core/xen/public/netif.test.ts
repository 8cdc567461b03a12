/**
 * io/netif.h layouts, checked against the offsets the header's structs give (Xen's
 * xen/include/public/io/netif.h; sizes measured with clang in xen-io-and-migration.md §2.2).
 * The guest's C copy is paired with these numbers in guests/teaching-os/netifAbi.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as N from './netif';

describe('io/netif.h', () => {
  it('tx request: gref@0 offset@4 flags@6 id@8 size@10, 12 bytes; tx response id@0 status@2, 4 bytes', () => {
    expect([N.NETIF_TX_REQ_GREF, N.NETIF_TX_REQ_OFFSET, N.NETIF_TX_REQ_FLAGS, N.NETIF_TX_REQ_ID, N.NETIF_TX_REQ_SIZE, N.NETIF_TX_REQUEST_SIZE]).toEqual([
      0, 4, 6, 8, 10, 12,
    ]);
    expect([N.NETIF_TX_RSP_ID, N.NETIF_TX_RSP_STATUS, N.NETIF_TX_RESPONSE_SIZE]).toEqual([0, 2, 4]);
  });

  it('rx request: id@0 gref@4, 8 bytes; rx response id@0 offset@2 flags@4 status@6, 8 bytes; extra info 8 bytes', () => {
    expect([N.NETIF_RX_REQ_ID, N.NETIF_RX_REQ_GREF, N.NETIF_RX_REQUEST_SIZE]).toEqual([0, 4, 8]);
    expect([N.NETIF_RX_RSP_ID, N.NETIF_RX_RSP_OFFSET, N.NETIF_RX_RSP_FLAGS, N.NETIF_RX_RSP_STATUS, N.NETIF_RX_RESPONSE_SIZE]).toEqual([0, 2, 4, 6, 8]);
    expect(N.NETIF_EXTRA_INFO_SIZE).toBe(8);
  });

  it('256 slots each way in one ring page', () => {
    // (4096 - 64) / 12 = 336 and (4096 - 64) / 8 = 504, both rounded down to 256
    expect(N.NET_TX_RING_SIZE).toBe(256);
    expect(N.NET_RX_RING_SIZE).toBe(256);
  });

  it('flags and status values', () => {
    expect([N.NETTXF_csum_blank, N.NETTXF_data_validated, N.NETTXF_more_data, N.NETTXF_extra_info]).toEqual([1, 2, 4, 8]);
    expect([N.NETRXF_data_validated, N.NETRXF_csum_blank, N.NETRXF_more_data, N.NETRXF_extra_info, N.NETRXF_gso_prefix]).toEqual([1, 2, 4, 8, 16]);
    expect([N.NETIF_RSP_DROPPED, N.NETIF_RSP_ERROR, N.NETIF_RSP_OKAY, N.NETIF_RSP_NULL]).toEqual([-2, -1, 0, 1]);
    expect(N.XEN_NETIF_NR_SLOTS_MIN).toBe(18);
    expect(N.XEN_NETIF_MAX_TX_SIZE).toBe(0xffff);
  });
});
