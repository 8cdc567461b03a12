/**
 * Per-domain quotas, with C xenstored's defaults (xenstored_core.c `quota_*`). They apply
 * to unprivileged domains only; dom0 is never limited. How each is reported follows C
 * xenstored:
 *
 * | quota                 | default | when exceeded                                          |
 * |-----------------------|---------|--------------------------------------------------------|
 * | nodesPerDomain        | 1000    | creating a node: ENOSPC                                |
 * | nodeSize              | 2048    | a node record this big or bigger: ENOSPC               |
 * | permsPerNode          | 5       | SET_PERMS with more entries: ENOSPC                    |
 * | transactionsPerDomain | 10      | TRANSACTION_START beyond it: ENOSPC                    |
 * | nodesPerTransaction   | 1024    | a transaction touching more nodes: ENOSPC              |
 * | watchesPerDomain      | 128     | WATCH beyond it: E2BIG                                 |
 * | outstandingRequests   | 20      | flow control: no more requests are read from the ring  |
 * |                       |         | until the guest has taken the replies                  |
 * | pathMax               | 2048    | longer path below /local/domain/<domid>/: EINVAL       |
 *
 * The node size is measured as C xenstored measures its database record: a 24-byte
 * header, 8 bytes per permission entry, the value, and the children's names with their NULs.
 */

export interface XsQuota {
  nodesPerDomain: number;
  nodeSize: number;
  permsPerNode: number;
  transactionsPerDomain: number;
  nodesPerTransaction: number;
  watchesPerDomain: number;
  outstandingRequests: number;
  pathMax: number;
  /**
   * Watch events queued for a ring connection beyond this many are dropped (Xen drops
   * events for a domain that does not take them too; the limit here is a hyperlab choice).
   */
  maxQueuedEvents: number;
}

export const XS_DEFAULT_QUOTA: Readonly<XsQuota> = Object.freeze({
  nodesPerDomain: 1000,
  nodeSize: 2048,
  permsPerNode: 5,
  transactionsPerDomain: 10,
  nodesPerTransaction: 1024,
  watchesPerDomain: 128,
  outstandingRequests: 20,
  pathMax: 2048,
  maxQueuedEvents: 1024,
});

/** C xenstored's struct xs_tdb_record_hdr (u64 generation, u32 num_perms, datalen, childlen). */
export const XS_NODE_HEADER_SIZE = 24;
/** C xenstored's struct xs_permissions (u32 id, u32 perms). */
export const XS_NODE_PERM_SIZE = 8;
