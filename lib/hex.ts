/** Each byte's two lower-case hex digits, built once: digests are written out on every request. */
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Lower-case hex of `bytes` (`toHex(await crypto.subtle.digest('SHA-256', data))`). */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (const byte of view) out += BYTE_HEX[byte];
  return out;
}
