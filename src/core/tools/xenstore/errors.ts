/**
 * Xenstore errors. On the wire an error is a reply of type ERROR whose payload is the
 * *name* of an errno value, NUL-terminated (io/xs_wire.h `xsd_errors`, "we hand errors as
 * strings, for portability"). The list below is Xen's, in Xen's order, plus EPERM, which C
 * xenstored returns when an unprivileged domain tries to give a node away.
 *
 * There is no EQUOTA here: only oxenstored (the OCaml daemon) sends "EQUOTA". C xenstored,
 * whose quotas this daemon follows, reports quotas as ENOSPC (nodes, node size,
 * permissions, transactions) and E2BIG (watches), and so does this daemon.
 */

export const XS_ERRNOS = [
  'EINVAL',
  'EACCES',
  'EEXIST',
  'EISDIR',
  'ENOENT',
  'ENOMEM',
  'ENOSPC',
  'EIO',
  'ENOTEMPTY',
  'ENOSYS',
  'EROFS',
  'EBUSY',
  'EAGAIN',
  'EISCONN',
  'E2BIG',
  'EPERM',
] as const;

export type XsErrno = (typeof XS_ERRNOS)[number];

/** Linux errno numbers, for callers that turn an error into a negative return value. */
export const XS_ERRNO_VALUES: Readonly<Record<XsErrno, number>> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  E2BIG: 7,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  EROFS: 30,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  EISCONN: 106,
};

export function isXsErrno(s: string): s is XsErrno {
  return (XS_ERRNOS as readonly string[]).includes(s);
}

/** A xenstore operation failed with `errno` (what xenstored would send in an ERROR reply). */
export class XenstoreError extends Error {
  constructor(
    readonly errno: XsErrno,
    message?: string,
  ) {
    super(message ?? errno);
    this.name = 'XenstoreError';
  }
}

/** Throw XenstoreError(errno). A helper so that checks read as one line. */
export function xsFail(errno: XsErrno, message?: string): never {
  throw new XenstoreError(errno, message);
}
