/**
 * Node permissions (xenstore.txt GET_PERMS/SET_PERMS, C xenstored's perm_for_conn).
 *
 * A node has a list of entries `<letter><domid>`: w (write only), r (read only), b (both),
 * n (none). The first entry names the owner, and its letter is the access of every domain
 * not listed after it. The owner, and a domain that SET_TARGET made the owner's stand-in,
 * has full access; privileged callers (dom0) bypass permissions altogether. Otherwise the
 * first later entry that names the caller (or its target) decides.
 *
 * New nodes inherit their parent's list; when an unprivileged domain creates a node it
 * becomes the owner (the first entry's domid is replaced, its letter kept).
 */
import { xsFail } from './errors';

export type XsPermLetter = 'n' | 'r' | 'w' | 'b';

export interface XsPerm {
  readonly domid: number;
  readonly perm: XsPermLetter;
}

/** Who is asking: the domain of the connection, and what C xenstored knows about it. */
export interface XsCaller {
  readonly domid: number;
  /** dom0 (the toolstack): every permission check and quota is bypassed. */
  readonly privileged: boolean;
  /** SET_TARGET: this domain acts for `target` (a device model for its guest). */
  readonly target?: number | undefined;
}

export interface XsAccess {
  readonly read: boolean;
  readonly write: boolean;
  /** May change the permissions (the owner, its target stand-in, or dom0). */
  readonly owner: boolean;
}

const FULL: XsAccess = { read: true, write: true, owner: true };
const LETTER: Record<XsPermLetter, XsAccess> = {
  n: { read: false, write: false, owner: false },
  r: { read: true, write: false, owner: false },
  w: { read: false, write: true, owner: false },
  b: { read: true, write: true, owner: false },
};

const DOMID_MAX = 0xffff;

/** Parse "b5" -> {domid: 5, perm: 'b'}; EINVAL otherwise. */
export function parsePerm(s: string): XsPerm {
  const m = /^([nrwb])(\d{1,5})$/.exec(s);
  if (!m) return xsFail('EINVAL', `bad permission ${JSON.stringify(s.slice(0, 16))}`);
  const domid = Number(m[2]);
  if (domid > DOMID_MAX) return xsFail('EINVAL', 'domid out of range');
  return { domid, perm: m[1] as XsPermLetter };
}

export function formatPerm(p: XsPerm): string {
  return `${p.perm}${p.domid}`;
}

/** What `caller` may do to a node with permission list `perms`. */
export function permFor(caller: XsCaller, perms: readonly XsPerm[]): XsAccess {
  const first = perms[0];
  if (caller.privileged || !first) return caller.privileged ? FULL : LETTER.n;
  const matches = (domid: number) => domid === caller.domid || (caller.target !== undefined && domid === caller.target);
  if (matches(first.domid)) return FULL;
  for (let i = 1; i < perms.length; i++) {
    const p = perms[i]!;
    if (matches(p.domid)) return LETTER[p.perm];
  }
  return LETTER[first.perm];
}

/** Permissions of a node created by `caller` below a parent with `parent` permissions. */
export function inheritPerms(caller: XsCaller, parent: readonly XsPerm[]): readonly XsPerm[] {
  if (caller.privileged || parent.length === 0) return parent;
  const [first, ...rest] = parent;
  return [{ domid: caller.domid, perm: first!.perm }, ...rest];
}

export function permsEqual(a: readonly XsPerm[], b: readonly XsPerm[]): boolean {
  return a.length === b.length && a.every((p, i) => p.domid === b[i]!.domid && p.perm === b[i]!.perm);
}
