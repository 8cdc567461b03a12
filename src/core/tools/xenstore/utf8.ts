/**
 * UTF-8 for the JavaScript side of xenstore (values and tokens given as strings), written
 * out so that the daemon needs neither the DOM's nor Node's TextEncoder/TextDecoder.
 * Malformed input decodes to U+FFFD, one per bad byte, as TextDecoder does in spirit.
 */

export function utf8Bytes(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    let c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

/** [lead byte mask, number of continuation bytes, smallest code point] by lead byte. */
function lead(b: number): [number, number, number] | undefined {
  if (b >= 0xc2 && b <= 0xdf) return [0x1f, 1, 0x80];
  if (b >= 0xe0 && b <= 0xef) return [0x0f, 2, 0x800];
  if (b >= 0xf0 && b <= 0xf4) return [0x07, 3, 0x10000];
  return undefined;
}

export function utf8String(b: Uint8Array): string {
  const parts: string[] = [];
  let chunk: number[] = [];
  for (let i = 0; i < b.length;) {
    const x = b[i]!;
    let cp = 0xfffd;
    let len = 1;
    if (x < 0x80) cp = x;
    else {
      const l = lead(x);
      if (l) {
        let v = x & l[0];
        let ok = true;
        for (let k = 1; k <= l[1]; k++) {
          const y = b[i + k];
          if (y === undefined || (y & 0xc0) !== 0x80) {
            ok = false;
            break;
          }
          v = (v << 6) | (y & 0x3f);
        }
        if (ok && v >= l[2] && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) {
          cp = v;
          len = l[1] + 1;
        }
      }
    }
    chunk.push(cp);
    i += len;
    if (chunk.length >= 4096) {
      parts.push(String.fromCodePoint(...chunk));
      chunk = [];
    }
  }
  parts.push(String.fromCodePoint(...chunk));
  return parts.join('');
}
