import { describe, expect, it } from 'vitest';
import { binaryBytes, bytesBinary, decodeHeader, encodeMessage, firstString, splitStrings, stringsPayload, xsTypeName, XsType } from './wire';

describe('xenstore wire format', () => {
  it("uses xs_wire.h's message numbers", () => {
    expect([XsType.CONTROL, XsType.DIRECTORY, XsType.READ, XsType.GET_PERMS, XsType.WATCH, XsType.UNWATCH]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([XsType.TRANSACTION_START, XsType.TRANSACTION_END, XsType.INTRODUCE, XsType.RELEASE]).toEqual([6, 7, 8, 9]);
    expect([XsType.GET_DOMAIN_PATH, XsType.WRITE, XsType.MKDIR, XsType.RM, XsType.SET_PERMS]).toEqual([10, 11, 12, 13, 14]);
    expect([XsType.WATCH_EVENT, XsType.ERROR, XsType.IS_DOMAIN_INTRODUCED, XsType.RESUME, XsType.SET_TARGET]).toEqual([15, 16, 17, 18, 19]);
    expect([XsType.RESET_WATCHES, XsType.DIRECTORY_PART, XsType.INVALID]).toEqual([21, 22, 0xffff]);
    expect(xsTypeName(2)).toBe('READ');
    expect(xsTypeName(0)).toBe('CONTROL');
    expect(xsTypeName(20)).toBe('#20');
  });

  it('encodes struct xsd_sockmsg little-endian, then the payload', () => {
    const m = encodeMessage(XsType.WRITE, 0x01020304, 7, stringsPayload(['a', 'b']));
    expect([...m.subarray(0, 16)]).toEqual([11, 0, 0, 0, 4, 3, 2, 1, 7, 0, 0, 0, 4, 0, 0, 0]);
    expect([...m.subarray(16)]).toEqual([97, 0, 98, 0]);
    expect(decodeHeader(m)).toEqual({ type: 11, reqId: 0x01020304, txId: 7, len: 4 });
    expect(decodeHeader(encodeMessage(0xffffffff, 0xfffffffe, 0, new Uint8Array(0))).type).toBe(0xffffffff);
  });

  it('splits NUL-terminated strings and refuses a missing terminator', () => {
    expect(splitStrings(stringsPayload(['x', '', 'yz']))).toEqual(['x', '', 'yz']);
    expect(splitStrings(new Uint8Array(0))).toEqual([]);
    expect(splitStrings(binaryBytes('abc'))).toBeUndefined();
    const f = firstString(binaryBytes('p\0v\0w'));
    expect(f?.head).toBe('p');
    expect(bytesBinary(f!.rest)).toBe('v\0w');
    expect(firstString(binaryBytes('abc'))).toBeUndefined();
  });

  it('round-trips every byte through binary strings', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(binaryBytes(bytesBinary(all))).toEqual(all);
  });
});
