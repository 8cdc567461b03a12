import { describe, expect, it } from 'vitest';
import { XenstoreError } from './errors';
import type { XsHandle } from './handle';
import { XS_RING_SERVER_FEATURES } from './ring';
import { GuestRing, newPage, req, strings } from './testing';
import { XsType } from './wire';
import { Xenstored } from './xenstored';

/** Let queued watch callbacks run. */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

function recorder(h: XsHandle) {
  const events: string[] = [];
  const watch = (path: string, token = 'tok') => h.watch(path, token, (p, t) => events.push(`${p} ${t}`));
  return { events, watch };
}

async function withHome(xs: Xenstored, domid: number) {
  const dom0 = xs.connect();
  await dom0.mkdir(`/local/domain/${domid}`);
  await dom0.setPerms(`/local/domain/${domid}`, [{ domid, perm: 'n' }]);
  return xs.connect(domid);
}

describe('xenstored watches', () => {
  it('fire once when set, then on changes of the path and its children', async () => {
    const xs = new Xenstored();
    const h = xs.connect();
    const r = recorder(h);
    await r.watch('/local/domain/1/device');
    await settle();
    expect(r.events).toEqual(['/local/domain/1/device tok']);
    await h.write('/local/domain/1/device/vif/0/state', '1');
    await h.write('/local/domain/1/devices', 'x'); // not below the watch
    await h.write('/local/domain/1/device/vif/0/state', '2');
    await h.setPerms('/local/domain/1/device/vif/0/state', [{ domid: 0, perm: 'r' }]);
    await h.rm('/local/domain/1/device/vif');
    await h.mkdir('/local/domain/1/device/vif'); // created
    await h.mkdir('/local/domain/1/device/vif'); // exists: no event
    expect(r.events.slice(1)).toEqual([
      '/local/domain/1/device/vif/0/state tok',
      '/local/domain/1/device/vif/0/state tok',
      '/local/domain/1/device/vif/0/state tok',
      '/local/domain/1/device/vif tok',
      '/local/domain/1/device/vif tok',
    ]);
  });

  it('fire with the watched path when a parent is removed', async () => {
    const xs = new Xenstored();
    const h = xs.connect();
    await h.write('/a/b/c', '1');
    const r = recorder(h);
    await r.watch('/a/b/c/d');
    await h.rm('/a');
    expect(r.events).toEqual(['/a/b/c/d tok', '/a/b/c/d tok']);
  });

  it('stop after UNWATCH; a second watch with the same path and token is EEXIST', async () => {
    const xs = new Xenstored();
    const h = xs.connect();
    const r = recorder(h);
    await r.watch('/x');
    await expect(h.watch('/x', 'tok', () => {})).rejects.toMatchObject({ errno: 'EEXIST' });
    await h.unwatch('/x', 'tok');
    await expect(h.unwatch('/x', 'tok')).rejects.toMatchObject({ errno: 'ENOENT' });
    await h.write('/x', '1');
    expect(r.events).toEqual(['/x tok']);
  });

  it('report relative paths for relative watches, and only what the domain may read', async () => {
    const xs = new Xenstored();
    const dom0 = xs.connect();
    const g = await withHome(xs, 3);
    const r = recorder(g);
    await r.watch('device');
    await r.watch('/local/domain', 'all');
    await dom0.write('/local/domain/3/device/vbd/768/state', '1');
    await dom0.write('/local/domain/4/secret', 'x'); // n0 inherited from the root: invisible to dom3
    expect(r.events).toEqual(['device tok', '/local/domain all', 'device/vbd/768/state tok', '/local/domain/3/device/vbd/768/state all']);
  });

  it('fire for changes made in a transaction only when it commits', async () => {
    const xs = new Xenstored();
    const h = xs.connect();
    const r = recorder(h);
    await r.watch('/t');
    const tx = await h.transactionStart();
    await h.write('/t/a', '1', tx);
    await settle();
    expect(r.events).toEqual(['/t tok']);
    await h.transactionEnd(tx);
    expect(r.events).toEqual(['/t tok', '/t/a tok']);
    const aborted = await h.transactionStart();
    await h.write('/t/b', '1', aborted);
    await h.transactionEnd(aborted, false);
    await settle();
    expect(r.events.length).toBe(2);
    await expect(h.read('/t/b')).rejects.toMatchObject({ errno: 'ENOENT' });
  });

  it('limit a domain to 128 watches (E2BIG); dom0 has no limit', async () => {
    const xs = new Xenstored();
    const g = await withHome(xs, 5);
    for (let i = 0; i < 128; i++) await g.watch(`w${i}`, 't', () => {});
    await expect(g.watch('one-more', 't', () => {})).rejects.toMatchObject({ errno: 'E2BIG' });
    const dom0 = xs.connect();
    for (let i = 0; i < 200; i++) await dom0.watch(`/w${i}`, 't', () => {});
  });
});

describe('xenstored transactions', () => {
  it('commit when nothing they touched changed, EAGAIN otherwise', async () => {
    const xs = new Xenstored();
    const a = xs.connect();
    const b = xs.connect();
    await a.write('/vm/counter', '0');
    await a.write('/vm/other', '0');

    const t1 = await a.transactionStart();
    const v = Number(await a.read('/vm/counter', t1));
    await b.write('/vm/other', '1'); // unrelated
    await a.write('/vm/counter', String(v + 1), t1);
    await a.transactionEnd(t1);
    expect(await b.read('/vm/counter')).toBe('1');

    const t2 = await a.transactionStart();
    await a.read('/vm/counter', t2);
    await b.write('/vm/counter', '5'); // conflicting
    await a.write('/vm/counter', 'mine', t2);
    await expect(a.transactionEnd(t2)).rejects.toMatchObject({ errno: 'EAGAIN' });
    expect(await b.read('/vm/counter')).toBe('5');
    await expect(a.transactionEnd(t2)).rejects.toMatchObject({ errno: 'ENOENT' }); // gone
  });

  it('retry with transaction() until they commit', async () => {
    const xs = new Xenstored();
    const a = xs.connect();
    const b = xs.connect();
    await a.write('/n', '0');
    let attempts = 0;
    await a.transaction(async (tx) => {
      attempts++;
      const n = Number(await a.read('/n', tx));
      if (attempts === 1) await b.write('/n', '10');
      await a.write('/n', String(n + 1), tx);
    });
    expect(attempts).toBe(2);
    expect(await a.read('/n')).toBe('11');
  });

  it('are per connection, limited to 10 per domain (ENOSPC), and cannot nest (EBUSY)', async () => {
    const xs = new Xenstored();
    const g = await withHome(xs, 6);
    const other = xs.connect(6);
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push(await (i < 4 ? other : g).transactionStart());
    await expect(g.transactionStart()).rejects.toMatchObject({ errno: 'ENOSPC' });
    await expect(other.transactionStart()).rejects.toMatchObject({ errno: 'ENOSPC' });
    expect(ids.slice(4)).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(other.write('x', '1', 6)).rejects.toMatchObject({ errno: 'ENOENT' }); // g's
    await g.write('x', '1', 6);
    const nested = g.request(XsType.TRANSACTION_START, new Uint8Array([0]), 6);
    expect(new TextDecoder().decode(nested.payload)).toBe('EBUSY\0');
  });
});

describe('xenstored domains', () => {
  function introduced() {
    const xs = new Xenstored();
    const dom0 = xs.connect();
    const guest = new GuestRing();
    let notified = 0;
    xs.introduceDomain(7, guest.page, () => notified++);
    return { xs, dom0, guest, notified: () => notified };
  }

  it('INTRODUCE fires @introduceDomain, RELEASE fires @releaseDomain and drops the domain', async () => {
    const xs = new Xenstored();
    const dom0 = xs.connect();
    const r = recorder(dom0);
    await r.watch('@introduceDomain', 'in');
    await r.watch('@releaseDomain', 'out');
    const guest = new GuestRing();
    xs.introduceDomain(7, guest.page, () => {});
    expect(guest.page.load32(XS_RING_SERVER_FEATURES)).toBe(3); // RECONNECTION | ERROR
    expect(await dom0.isDomainIntroduced(7)).toBe(true);
    expect(() => xs.introduceDomain(7, guest.page, () => {})).toThrow(XenstoreError);
    await dom0.release(7);
    expect(await dom0.isDomainIntroduced(7)).toBe(false);
    await expect(dom0.release(7)).rejects.toMatchObject({ errno: 'ENOENT' });
    await settle();
    expect(r.events).toEqual(['@introduceDomain in', '@releaseDomain out', '@introduceDomain in', '@releaseDomain out']);
  });

  it('fires @releaseDomain once on shutdown, again only after RESUME', async () => {
    const { xs, dom0 } = introduced();
    const r = recorder(dom0);
    await r.watch('@releaseDomain');
    xs.notifyDomainShutdown(7);
    xs.notifyDomainShutdown(7);
    await dom0.resume(7);
    xs.notifyDomainShutdown(7);
    await settle();
    expect(r.events.length).toBe(3);
  });

  it('serves requests from the ring and drops its watches on RELEASE', async () => {
    const { xs, dom0, guest, notified } = introduced();
    await dom0.mkdir('/local/domain/7');
    await dom0.setPerms('/local/domain/7', [{ domid: 7, perm: 'n' }]);
    await dom0.write('/local/domain/7/name', 'guest7'); // inherits n7
    guest.write(req(XsType.READ, ['name'], 1));
    guest.write(req(XsType.WATCH, ['name', 'w'], 2));
    xs.kick(7);
    expect(notified()).toBeGreaterThan(0);
    expect(guest.messages().map((m) => [m.type, m.reqId, strings(m).join('|')])).toEqual([
      [XsType.READ, 1, 'guest7'],
      [XsType.WATCH, 2, 'OK'],
      [XsType.WATCH_EVENT, 0, 'name|w'],
    ]);
    await dom0.write('/local/domain/7/name', 'renamed');
    expect(guest.messages().map((m) => strings(m).join('|'))).toEqual(['name|w']);
    expect(xs.domainInfo()).toEqual([expect.objectContaining({ domid: 7, watches: 1 })]);
    await dom0.release(7);
    await dom0.write('/local/domain/7/name', 'again');
    expect(guest.messages()).toEqual([]);
  });

  it('INTRODUCE as a message maps the ring through the host; only dom0 may send it', async () => {
    const page = newPage();
    const calls: number[][] = [];
    const xs = new Xenstored({
      host: {
        mapRing: (d, gfn, port) => {
          calls.push([d, gfn, port]);
          return gfn === 0x123 ? { page, notify: () => {} } : undefined;
        },
      },
    });
    const dom0 = xs.connect();
    await expect(dom0.introduce(9, 0x999, 3)).rejects.toMatchObject({ errno: 'EINVAL' });
    await dom0.introduce(9, 0x123, 3);
    await dom0.introduce(9, 0x123, 4); // again: rebinds the channel
    expect(calls).toEqual([
      [9, 0x999, 3],
      [9, 0x123, 3],
      [9, 0x123, 4],
    ]);
    await expect(dom0.introduce(0, 1, 1)).rejects.toMatchObject({ errno: 'EINVAL' });
    const g = xs.connect(9);
    await expect(g.introduce(10, 0x123, 3)).rejects.toMatchObject({ errno: 'EACCES' });
    await expect(g.release(9)).rejects.toMatchObject({ errno: 'EACCES' });
  });

  it("answers GET_DOMAIN_PATH and SET_TARGET gives a device model its guest's rights", async () => {
    const { xs, dom0 } = introduced();
    expect(await dom0.getDomainPath(12)).toBe('/local/domain/12');
    await expect(dom0.getDomainPath(-1)).rejects.toMatchObject({ errno: 'EINVAL' });
    const guest = await withHome(xs, 8);
    await guest.write('data', 'x');
    const dm = xs.connect(7);
    await expect(dm.read('/local/domain/8/data')).rejects.toMatchObject({ errno: 'EACCES' });
    await dom0.setTarget(7, 8);
    expect(await dm.read('/local/domain/8/data')).toBe('x');
    await expect(dom0.setTarget(99, 8)).rejects.toMatchObject({ errno: 'ENOENT' });
  });

  it('dumps the tree for the inspector', async () => {
    const xs = new Xenstored();
    const h = xs.connect();
    await h.write('/local/domain/0/name', 'Domain-0');
    const t = xs.tree();
    expect(t?.children[0]?.children[0]?.children[0]?.children[0]).toMatchObject({
      path: '/local/domain/0/name',
      value: 'Domain-0',
      perms: [{ domid: 0, perm: 'n' }],
      children: [],
    });
  });
});
