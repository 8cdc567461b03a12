import { describe, expect, it } from 'vitest';
import { XenstoreError } from './errors';
import { XENSTORE_PAYLOAD_MAX, XsType } from './wire';
import { Xenstored } from './xenstored';

describe('XsHandle (the in-process API)', () => {
  it('reads, writes, lists, makes and removes nodes, in UTF-8', async () => {
    const h = new Xenstored().connect();
    await h.write('/vm/uuid/name', 'café');
    await h.write('/vm/uuid/bytes', new Uint8Array([1, 0, 2]));
    await h.mkdir('/vm/uuid/empty');
    expect(await h.read('/vm/uuid/name')).toBe('café');
    expect(await h.readBytes('/vm/uuid/bytes')).toEqual(new Uint8Array([1, 0, 2]));
    expect(await h.directory('/vm/uuid')).toEqual(['name', 'bytes', 'empty']);
    expect(await h.directory('/vm/uuid/empty')).toEqual([]);
    await h.rm('/vm/uuid');
    expect(await h.directory('/vm')).toEqual([]);
    await expect(h.read('/vm/uuid/name')).rejects.toBeInstanceOf(XenstoreError);
  });

  it('gets and sets permissions', async () => {
    const h = new Xenstored().connect();
    await h.write('/p', '');
    await h.setPerms('/p', [
      { domid: 3, perm: 'r' },
      { domid: 4, perm: 'b' },
    ]);
    expect(await h.getPerms('/p')).toEqual([
      { domid: 3, perm: 'r' },
      { domid: 4, perm: 'b' },
    ]);
  });

  it('rejects non-ASCII paths (EINVAL) and payloads over XENSTORE_PAYLOAD_MAX (E2BIG) before sending', async () => {
    const h = new Xenstored().connect();
    await expect(h.write('/é', '')).rejects.toMatchObject({ errno: 'EINVAL' });
    await expect(h.write('/big', 'x'.repeat(XENSTORE_PAYLOAD_MAX))).rejects.toMatchObject({ errno: 'E2BIG' });
    await h.write('/big', 'x'.repeat(XENSTORE_PAYLOAD_MAX - '/big\0'.length));
  });

  it('sends raw requests and returns the raw reply', () => {
    const h = new Xenstored().connect();
    const r = h.request(XsType.GET_DOMAIN_PATH, new TextEncoder().encode('4\0'));
    expect(r.type).toBe(XsType.GET_DOMAIN_PATH);
    expect(new TextDecoder().decode(r.payload)).toBe('/local/domain/4\0');
    const e = h.request(XsType.READ, new TextEncoder().encode('/none\0'));
    expect(e.type).toBe(XsType.ERROR);
    expect(e.reqId).toBe(r.reqId + 1);
  });

  it('delivers events of watches set by raw requests to onWatchEvent', async () => {
    const h = new Xenstored().connect();
    const seen: string[] = [];
    h.onWatchEvent = (p, t) => seen.push(`${p}:${t}`);
    h.request(XsType.WATCH, new TextEncoder().encode('/raw\0r\0'));
    await h.write('/raw/x', '');
    expect(seen).toEqual(['/raw:r', '/raw/x:r']);
  });

  it('survives a watch callback that throws', async () => {
    const logs: string[] = [];
    const xs = new Xenstored({ host: { log: (m) => logs.push(m) } });
    const h = xs.connect();
    const seen: string[] = [];
    await h.watch('/a', 'bad', () => {
      throw new Error('boom');
    });
    await h.watch('/a', 'good', (p) => seen.push(p));
    await h.write('/a', '1');
    expect(seen).toEqual(['/a', '/a']);
    expect(logs.some((l) => l.includes('boom'))).toBe(true);
  });

  it('closes: its watches and transactions go, and calls fail', async () => {
    const xs = new Xenstored();
    const h = xs.connect();
    const other = xs.connect();
    const seen: string[] = [];
    await h.watch('/c', 't', (p) => seen.push(p));
    const tx = await h.transactionStart();
    h.close();
    await other.write('/c', '1');
    expect(seen).toEqual(['/c']);
    await expect(h.transactionEnd(tx)).rejects.toMatchObject({ errno: 'EIO' });
    expect(await other.control('check')).toBe('OK');
  });

  it('drops all watches and transactions on RESET_WATCHES', async () => {
    const h = new Xenstored().connect();
    const seen: string[] = [];
    await h.watch('/r', 't', (p) => seen.push(p));
    const tx = await h.transactionStart();
    await h.resetWatches();
    await h.write('/r', '1');
    expect(seen).toEqual(['/r']);
    await expect(h.transactionEnd(tx)).rejects.toMatchObject({ errno: 'ENOENT' });
  });
});
