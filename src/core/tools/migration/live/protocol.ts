/**
 * The handshake of Xen's `xl migrate` (tools/xl/xl.h and xl_migrate.c), byte for byte:
 *
 *   target -> source  migrate_receiver_banner   "xl migration receiver ready, send binary domain data.\n" (no NUL)
 *   source -> target  the save stream: xl header with the config, libxl stream (with the libxc one inside)
 *   target -> source  migrate_receiver_ready    "domain received, ready to unpause\0"
 *   source            renames its copy NAME--migratedaway (the point of no return follows)
 *   source -> target  migrate_permission_to_go "domain is yours, you are cleared to unpause\0"
 *   target            renames NAME--incoming back to NAME, unpauses it
 *   target -> source  migrate_report            "my copy unpause results are as follows\0", then one byte:
 *                     0 the domain runs; non-0 it failed, the target destroys its copy and sends
 *                     migrate_permission_to_go so the source resumes its own
 *   source            on 0 destroys its copy ("bang!")
 *
 * Xen sends the fixed messages with sizeof(), so all but the banner carry their NUL. Each is
 * sent here as its own channel message (the report's status byte as one more), and the
 * stream as many.
 */

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export const MIGRATE_RECEIVER_BANNER = enc('xl migration receiver ready, send binary domain data.\n');
export const MIGRATE_RECEIVER_READY = enc('domain received, ready to unpause\0');
export const MIGRATE_PERMISSION_TO_GO = enc('domain is yours, you are cleared to unpause\0');
export const MIGRATE_REPORT = enc('my copy unpause results are as follows\0');

/** Name suffixes during a migration (xl_migrate.c; libxl's create with a migrate fd names the new domain NAME--incoming). */
export const MIGRATED_AWAY = '--migratedaway';
export const INCOMING = '--incoming';

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Printable form of a handshake message for an error line. */
export function describe(m: Uint8Array): string {
  const s = new TextDecoder().decode(m.subarray(0, 64)).replace(/\0/g, '\\0').replace(/\n/g, '\\n');
  return `"${s}${m.length > 64 ? '...' : ''}"`;
}
