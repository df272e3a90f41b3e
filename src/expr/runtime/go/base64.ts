/**
 * Go's `encoding/base64` standard decoding, behind Inngest's `b64decode`.
 *
 * @module
 */
import { CelError } from "../../values.js";
import { bytesToString, decodeUtf8Lossy } from "../convert.js";

/** Standard base64 alphabet: character code → 6-bit value, or -1. */
const BASE64_DECODE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

const CR = 13;
const LF = 10;
const PAD = 61; // '='

/**
 * Go's `base64.StdEncoding.DecodeString` up to its first error: the bytes of every complete
 * quantum before the error (what Go returns alongside the error). Padding is required, `\r` and
 * `\n` are skipped anywhere, non-zero trailing bits are accepted (the encoding is not strict).
 */
function decodeStdBase64Prefix(s: string): Uint8Array {
  const out = new Uint8Array(Math.floor(s.length / 4) * 3 + 3);
  let n = 0;
  let si = 0;
  const len = s.length;
  const quantum = [0, 0, 0, 0];
  while (si < len) {
    let dlen = 4;
    for (let j = 0; j < 4; j++) {
      if (si === len) {
        // With j === 0 only newlines were left: the end. With j > 0 the quantum lacks its
        // padding, which Go reports as corrupt input; either way its bytes are not kept.
        return out.subarray(0, n);
      }
      const c = s.charCodeAt(si++);
      const d = c < 128 ? BASE64_DECODE[c]! : -1;
      if (d >= 0) {
        quantum[j] = d;
        continue;
      }
      if (c === LF || c === CR) {
        j--;
        continue;
      }
      if (c !== PAD || j < 2) return out.subarray(0, n);
      if (j === 2) {
        // "==" expected; the first "=" is consumed.
        while (si < len && (s.charCodeAt(si) === LF || s.charCodeAt(si) === CR)) si++;
        if (si === len || s.charCodeAt(si) !== PAD) return out.subarray(0, n);
        si++;
      }
      // Padding ends the input: whatever follows (newlines aside) is garbage, an error that
      // still keeps this quantum's bytes; either way decoding stops after this quantum.
      dlen = j;
      break;
    }
    // dlen is 2, 3 or 4 here. Positions past dlen may hold the previous quantum's values; they
    // only feed bytes that are not written.
    const value = (quantum[0]! << 18) | (quantum[1]! << 12) | (quantum[2]! << 6) | quantum[3]!;
    out[n++] = (value >>> 16) & 0xff;
    if (dlen > 2) out[n++] = (value >>> 8) & 0xff;
    if (dlen > 3) out[n++] = value & 0xff;
    if (dlen < 4) return out.subarray(0, n);
  }
  return out.subarray(0, n);
}

/**
 * Inngest's `b64decode(s)`: Go `base64.StdEncoding.DecodeString` with the error ignored, so the
 * bytes decoded before the first error are kept (`b64decode('aGk=!!')` → `"hi"`,
 * `b64decode('!!!')` → `""`). A non-string argument gives `""`.
 *
 * Go keeps any bytes in a string; a JS string cannot hold bytes that are not UTF-8, so such
 * bytes are decoded leniently: every maximal run of invalid bytes becomes one U+FFFD (as
 * `decodeUtf8Lossy`). A decoded value with such bytes therefore compares differently than in Go
 * (`b64decode('/w==') == '\ufffd'` is true here, false in Inngest).
 */
export function b64decode(v: unknown): string {
  if (typeof v !== "string") return "";
  const bytes = decodeStdBase64Prefix(v);
  const text = bytesToString(bytes);
  return text instanceof CelError ? decodeUtf8Lossy(bytes) : text;
}
