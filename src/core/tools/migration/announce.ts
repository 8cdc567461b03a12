/**
 * After a restore, the host announces each of the domain's interfaces on its bridge on the
 * guest's behalf, as QEMU does after a migration (net/announce.c, qemu_announce_self): a RARP
 * request (ethertype 0x8035, RFC 903) from the interface's MAC, broadcast. Every bridge on
 * the segment (and a linked host's) learns the MAC on the new port at once, before the guest
 * sends anything. Linux's netfront instead has the guest announce itself once the backend is
 * Connected again after a resume (netback_changed → netdev_notify_peers: a gratuitous ARP,
 * which needs the guest's IP address); the teaching OS does not know it was restored, so
 * the host announces it, which needs only the MAC.
 */
import { ethFrame, MAC_BROADCAST, putMac } from '../../net/ethernet';

/** ETH_P_RARP. */
export const ETH_P_RARP = 0x8035;

/** QEMU's announce_self_create: htype 1 (Ethernet), ptype IPv4, hlen 6, plen 4, op 3 (reverse request), sender = target = `mac`, addresses 0; padded to 60 bytes. */
export function rarpAnnounce(mac: number): Uint8Array {
  const p = new Uint8Array(46); // 28 bytes of RARP, padded to the 60-byte minimum frame
  const v = new DataView(p.buffer);
  v.setUint16(0, 1);
  v.setUint16(2, 0x0800);
  p[4] = 6;
  p[5] = 4;
  v.setUint16(6, 3);
  putMac(p, 8, mac);
  putMac(p, 18, mac);
  return ethFrame(MAC_BROADCAST, mac, ETH_P_RARP, p);
}
