import { describe, expect, it } from 'vitest';
import { XsConnection } from './connection';
import { XsTransaction } from './transaction';
import { XsStore } from './store';
import { bytesBinary, decodeHeader, XENSTORE_PAYLOAD_MAX, XsType } from './wire';

function conn() {
  const replies: Uint8Array[] = [];
  const events: Uint8Array[] = [];
  const c = new XsConnection(1, 2, { reply: (m) => replies.push(m), event: (m) => events.push(m) });
  return { c, replies, events };
}

describe('xenstore connection', () => {
  it("sends replies with the request's ids, and E2BIG for one too big for the wire", () => {
    const { c, replies } = conn();
    c.reply(XsType.READ, 7, 3, new Uint8Array(XENSTORE_PAYLOAD_MAX));
    c.reply(XsType.READ, 8, 3, new Uint8Array(XENSTORE_PAYLOAD_MAX + 1));
    expect(decodeHeader(replies[0]!)).toEqual({ type: XsType.READ, reqId: 7, txId: 3, len: XENSTORE_PAYLOAD_MAX });
    expect(decodeHeader(replies[1]!)).toEqual({ type: XsType.ERROR, reqId: 8, txId: 3, len: 6 });
    expect(bytesBinary(replies[1]!.subarray(16))).toBe('E2BIG\0');
  });

  it('sends watch events with req_id = tx_id = 0, and drops ones too big to send', () => {
    const { c, events } = conn();
    expect(c.sendEvent('/a', 'tok')).toBe(true);
    expect(decodeHeader(events[0]!)).toEqual({ type: XsType.WATCH_EVENT, reqId: 0, txId: 0, len: 7 });
    expect(c.sendEvent('/a', 'x'.repeat(XENSTORE_PAYLOAD_MAX))).toBe(false);
    c.closed = true;
    expect(c.sendEvent('/a', 'tok')).toBe(false);
  });

  it('hands out nonzero transaction ids not in use', () => {
    const { c } = conn();
    const store = new XsStore();
    const ids = [c.allocTxId(), c.allocTxId()];
    expect(ids).toEqual([1, 2]);
    for (const id of ids) c.transactions.set(id, new XsTransaction(store, id, 10, () => store.allocGeneration()));
    (c as unknown as { nextTxId: number }).nextTxId = 0xffff_ffff;
    expect(c.allocTxId()).toBe(0xffff_ffff);
    expect(c.allocTxId()).toBe(3); // wrapped past 0 and the ids in use
    c.reset();
    expect(c.transactions.size).toBe(0);
  });
});
