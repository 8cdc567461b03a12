import { describe, expect, it } from 'vitest';
import { isXsErrno } from './errors';
import type { XsHandle } from './handle';
import { binaryBytes, bytesBinary, XENSTORE_PAYLOAD_MAX, XsType, type XsMessage } from './wire';
import { Xenstored } from './xenstored';

const raw = (s: string) => binaryBytes(s);
const text = (m: XsMessage) => bytesBinary(m.payload);

function send(h: XsHandle, type: number, payload: string, txId = 0): XsMessage {
  return h.request(type, raw(payload), txId);
}

describe('xenstored dispatcher: replies', () => {
  it('answers as Xen does: OK\\0, raw values, NUL-separated lists, ERROR with the errno name', async () => {
    const h = new Xenstored().connect();
    const w = send(h, XsType.WRITE, '/a\0v\0with nul');
    expect([w.type, text(w)]).toEqual([XsType.WRITE, 'OK\0']);
    expect(text(send(h, XsType.READ, '/a\0'))).toBe('v\0with nul');
    send(h, XsType.WRITE, '/b\0');
    expect(text(send(h, XsType.DIRECTORY, '/\0'))).toBe('a\0b\0');
    expect(text(send(h, XsType.GET_PERMS, '/a\0'))).toBe('n0\0');
    expect(text(send(h, XsType.IS_DOMAIN_INTRODUCED, '0\0'))).toBe('T\0');
    expect(text(send(h, XsType.IS_DOMAIN_INTRODUCED, '5\0'))).toBe('F\0');
    const tx = send(h, XsType.TRANSACTION_START, '\0');
    expect(text(tx)).toMatch(/^\d+\0$/);
    const e = h.request(XsType.READ, raw('/missing\0'), 0);
    expect([e.type, text(e), e.txId]).toEqual([XsType.ERROR, 'ENOENT\0', 0]);
    const inTx = h.request(XsType.READ, raw('/missing\0'), Number(text(tx).slice(0, -1)));
    expect(inTx.txId).toBe(Number(text(tx).slice(0, -1)));
  });

  it('refuses a reply too big for the wire with E2BIG, and pages it with DIRECTORY_PART', async () => {
    const h = new Xenstored().connect();
    const names: string[] = [];
    for (let i = 0; i < 300; i++) {
      const n = `child-with-a-rather-long-name-${i}`;
      names.push(n);
      await h.mkdir(`/big/${n}`);
    }
    expect(text(send(h, XsType.DIRECTORY, '/big\0'))).toBe('E2BIG\0');
    const got: string[] = [];
    let gen: string | undefined;
    for (let off = 0, parts = 0; parts < 10; parts++) {
      const r = text(send(h, XsType.DIRECTORY_PART, `/big\0${off}\0`));
      const [g, ...rest] = r.split('\0');
      gen ??= g;
      expect(g).toBe(gen);
      const end = r.endsWith('\0\0');
      const list = rest.slice(0, end ? -2 : -1);
      got.push(...list);
      off += list.reduce((n, s) => n + s.length + 1, 0);
      expect(r.length).toBeLessThanOrEqual(XENSTORE_PAYLOAD_MAX);
      if (end) break;
    }
    expect(got).toEqual(names);
    expect(text(send(h, XsType.DIRECTORY_PART, '/big\x0099999\0'))).toBe(`${gen}\0\0`);
  });

  it('sends ENOENT for an unknown transaction and ignores tx_id where Xen does', () => {
    const h = new Xenstored().connect();
    expect(text(send(h, XsType.READ, '/\0', 42))).toBe('ENOENT\0');
    expect(text(send(h, XsType.TRANSACTION_END, 'T\0', 0))).toBe('ENOENT\0');
    expect(text(send(h, XsType.GET_DOMAIN_PATH, '1\0', 42))).toBe('/local/domain/1\0');
    expect(text(send(h, XsType.WATCH, '/w\0t\0', 42))).toBe('OK\0');
  });

  it('runs CONTROL for dom0 only', () => {
    const xs = new Xenstored();
    expect(text(send(xs.connect(), XsType.CONTROL, 'help\0'))).toContain('print');
    expect(text(send(xs.connect(), XsType.CONTROL, 'bogus\0'))).toBe('EINVAL\0');
    expect(text(send(xs.connect(1), XsType.CONTROL, 'help\0'))).toBe('EACCES\0');
  });
});

describe('xenstored dispatcher: malformed requests', () => {
  it('answers unknown and reply-only types with ENOSYS', () => {
    const h = new Xenstored().connect();
    for (const type of [XsType.WATCH_EVENT, XsType.ERROR, 20, XsType.GET_FEATURE, XsType.SET_QUOTA, 27, 999, XsType.INVALID, 0xffffffff])
      expect([type, text(send(h, type, 'x\0'))]).toEqual([type, 'ENOSYS\0']);
  });

  it('answers missing NULs, wrong argument counts and bad numbers with EINVAL', () => {
    const h = new Xenstored().connect();
    const cases: [number, string][] = [
      [XsType.READ, ''],
      [XsType.READ, '/a'],
      [XsType.READ, '/a\0/b\0'],
      [XsType.WRITE, '/a'],
      [XsType.DIRECTORY, '/a\0\0'],
      [XsType.MKDIR, ''],
      [XsType.RM, 'x'],
      [XsType.WATCH, '/a\0'],
      [XsType.WATCH, '/a'],
      [XsType.UNWATCH, 'x\0'],
      [XsType.SET_PERMS, '/a\0'],
      [XsType.SET_PERMS, '/\0q1\0'],
      [XsType.SET_PERMS, '/\0r1\0\0'],
      [XsType.GET_DOMAIN_PATH, 'abc\0'],
      [XsType.GET_DOMAIN_PATH, '70000\0'],
      [XsType.IS_DOMAIN_INTRODUCED, '\0'],
      [XsType.INTRODUCE, '1\0x\0y\0'],
      [XsType.DIRECTORY_PART, '/\0'],
      [XsType.READ, '/bad path\0'],
      [XsType.WRITE, 'rel//x\0v'],
      [XsType.READ, '/' + 'a'.repeat(3072) + '\0'],
    ];
    for (const [type, payload] of cases) expect([type, payload, text(send(h, type, payload))]).toEqual([type, payload, 'EINVAL\0']);
    const tx = Number(text(send(h, XsType.TRANSACTION_START, '\0')).slice(0, -1));
    expect(text(send(h, XsType.TRANSACTION_END, 'X\0', tx))).toBe('EINVAL\0');
    expect(text(send(h, XsType.TRANSACTION_END, 'F\0', tx))).toBe('OK\0');
  });

  it('never throws and always answers exactly once, whatever the payload', () => {
    const xs = new Xenstored();
    const h = xs.connect();
    const g = xs.connect(3);
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 8;
    };
    const alphabet = '/\0abc@-_01T F.r5b7n2w';
    for (let i = 0; i < 5000; i++) {
      const type = rand() % 30;
      const len = rand() % 40;
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[rand() % alphabet.length];
      const who = i % 2 ? h : g;
      const r = who.request(type, raw(s), rand() % 4);
      if (r.type === XsType.ERROR) expect(isXsErrno(text(r).slice(0, -1))).toBe(true);
      else expect(r.type).toBe(type);
    }
  });
});
