/**
 * cel-go's encoders extension (ext/encoders.go): `base64.encode(bytes)` and
 * `base64.decode(string)`, standard alphabet; decoding accepts the text with or without padding,
 * as cel-go retries without it.
 *
 * @module
 */
import { fn, overload, T, type FunctionDecl } from "../decls.js";
import { CelError } from "../values.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Character code → 6-bit value, or -1. */
const DECODE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let k = 0; k < ALPHABET.length; k++) table[ALPHABET.charCodeAt(k)] = k;
  return table;
})();

/** Standard base64 with padding. */
export function base64Encode(b: Uint8Array): string {
  let out = "";
  let k = 0;
  for (; k + 2 < b.length; k += 3) {
    const n = (b[k]! << 16) | (b[k + 1]! << 8) | b[k + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = b.length - k;
  if (rest === 1) {
    const n = b[k]! << 16;
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (b[k]! << 16) | (b[k + 1]! << 8);
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}${ALPHABET[(n >> 6) & 63]!}=`;
  }
  return out;
}

/**
 * Standard base64, padded or not (Go's `StdEncoding`, then `RawStdEncoding`); `\r` and `\n` are
 * skipped as Go skips them. An `invalid_argument` error for anything else.
 */
export function base64Decode(text: string): Uint8Array | CelError {
  const s = text.replace(/[\r\n]/g, "");
  let end = s.length;
  if (end % 4 === 0 && s.endsWith("==")) end -= 2;
  else if (end % 4 === 0 && s.endsWith("=")) end -= 1;
  if (end % 4 === 1) return illegal(text, end);
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let k = 0; k < end; k++) {
    const c = s.charCodeAt(k);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) return illegal(text, k);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function illegal(text: string, at: number): CelError {
  return new CelError("invalid_argument", `illegal base64 data at input byte ${at}: ${JSON.stringify(text.slice(0, 64))}`);
}

/** The encoders extension. */
export const ENCODERS_EXTENSION: readonly FunctionDecl[] = [
  fn("base64.encode", overload("base64_encode_bytes", [T.bytes], T.string, base64Encode, { grows: true })),
  fn("base64.decode", overload("base64_decode_string", [T.string], T.bytes, base64Decode, { grows: true })),
];
