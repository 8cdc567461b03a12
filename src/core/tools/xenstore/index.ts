/** xenstored for hyperlab's Domain-0: see xenstored.ts and docs/xenstore.md. */
export { Xenstored, type XenstoredHost, type XenstoredOptions, type XsDomainInfo } from './xenstored';
export { XsHandle, type XsWatchCallback } from './handle';
export { XenstoreError, XS_ERRNOS, XS_ERRNO_VALUES, isXsErrno, type XsErrno } from './errors';
export { XS_DEFAULT_QUOTA, type XsQuota } from './quota';
export { type XsPerm, type XsPermLetter, parsePerm, formatPerm } from './perms';
export type { XsTreeNode } from './store';
export { XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX, XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN, domainPath } from './path';
export { XsType, xsTypeName, XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, decodeHeader, encodeMessage, type XsHeader, type XsMessage } from './wire';
export * from './ring';
