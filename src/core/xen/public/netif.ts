/**
 * io/netif.h for a 32-bit RISC-V guest. Every field is 16 or 32 bits wide, so the layout
 * is the same on riscv32, i386 and x86_64 (xen-io-and-migration.md §2.2): tx request 12
 * bytes, tx response 4, rx request 8, rx response 8, extra info 8; both rings hold 256
 * slots in one page. Only the copying receive path exists (`request-rx-copy` = 1): the
 * backend copies each frame into a buffer page the frontend granted it (netif.h "rx-copy"),
 * never flips pages. The guest's copy is guests/teaching-os/pv/netif.h.
 */
import { ringSize } from './ring';

/** struct netif_tx_request { grant_ref_t gref; uint16_t offset, flags, id, size; }: the first slot of a packet carries the packet's total size. */
export const NETIF_TX_REQ_GREF = 0,
  NETIF_TX_REQ_OFFSET = 4,
  NETIF_TX_REQ_FLAGS = 6,
  NETIF_TX_REQ_ID = 8,
  NETIF_TX_REQ_SIZE = 10,
  NETIF_TX_REQUEST_SIZE = 12;

/** NETTXF_*: flags of a tx request. */
export const NETTXF_csum_blank = 1,
  NETTXF_data_validated = 2,
  NETTXF_more_data = 4,
  NETTXF_extra_info = 8;

/** struct netif_extra_info { uint8_t type, flags; union { gso, mcast, hash, pad[3] } u; } (8 bytes). */
export const NETIF_EXTRA_TYPE = 0,
  NETIF_EXTRA_FLAGS = 1,
  NETIF_EXTRA_INFO_SIZE = 8;
export const XEN_NETIF_EXTRA_TYPE_NONE = 0,
  XEN_NETIF_EXTRA_TYPE_GSO = 1,
  XEN_NETIF_EXTRA_TYPE_MCAST_ADD = 2,
  XEN_NETIF_EXTRA_TYPE_MCAST_DEL = 3,
  XEN_NETIF_EXTRA_TYPE_HASH = 4,
  XEN_NETIF_EXTRA_TYPE_MAX = 5;
export const XEN_NETIF_EXTRA_FLAG_MORE = 1;

/** struct netif_tx_response { uint16_t id; int16_t status; }. */
export const NETIF_TX_RSP_ID = 0,
  NETIF_TX_RSP_STATUS = 2,
  NETIF_TX_RESPONSE_SIZE = 4;

/** struct netif_rx_request { uint16_t id; uint16_t pad; grant_ref_t gref; }. */
export const NETIF_RX_REQ_ID = 0,
  NETIF_RX_REQ_GREF = 4,
  NETIF_RX_REQUEST_SIZE = 8;

/** struct netif_rx_response { uint16_t id, offset, flags; int16_t status; }: a positive status is the length received. */
export const NETIF_RX_RSP_ID = 0,
  NETIF_RX_RSP_OFFSET = 2,
  NETIF_RX_RSP_FLAGS = 4,
  NETIF_RX_RSP_STATUS = 6,
  NETIF_RX_RESPONSE_SIZE = 8;

/** NETRXF_*: flags of an rx response. */
export const NETRXF_data_validated = 1,
  NETRXF_csum_blank = 2,
  NETRXF_more_data = 4,
  NETRXF_extra_info = 8,
  NETRXF_gso_prefix = 16;

/** NETIF_RSP_*: response status (an rx response's positive status is a length instead). */
export const NETIF_RSP_DROPPED = -2,
  NETIF_RSP_ERROR = -1,
  NETIF_RSP_OKAY = 0,
  NETIF_RSP_NULL = 1;

/** Slots in one ring page: __RING_SIZE of each request/response union (256 both ways). */
export const NET_TX_RING_SIZE = ringSize(Math.max(NETIF_TX_REQUEST_SIZE, NETIF_TX_RESPONSE_SIZE));
export const NET_RX_RING_SIZE = ringSize(Math.max(NETIF_RX_REQUEST_SIZE, NETIF_RX_RESPONSE_SIZE));

/** XEN_NETIF_NR_SLOTS_MIN: a backend must accept packets of up to 18 slots; more is refused. */
export const XEN_NETIF_NR_SLOTS_MIN = 18;
/** XEN_NETIF_MAX_TX_SIZE: the largest packet a tx request's 16-bit size can describe. */
export const XEN_NETIF_MAX_TX_SIZE = 0xffff;
/** The MTU when `mtu` is absent from the frontend's area (netif.h "MTU"). */
export const NETIF_DEFAULT_MTU = 1500;
/** Ethernet header bytes before the payload (destination, source, type). */
export const ETH_HLEN = 14;
