import { describe, expect, it } from 'vitest';
import { toHex } from '../../lib/hex';

describe('toHex', () => {
  it('writes every byte as two lower-case digits, from a buffer or a view of one', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(all);
    expect(hex).toHaveLength(512);
    expect(hex.slice(0, 6)).toBe('000102');
    expect(hex.slice(-4)).toBe('feff');
    expect(toHex(all.buffer)).toBe(hex);
    // A view reads only its own bytes.
    expect(toHex(new Uint8Array(all.buffer, 250, 3))).toBe('fafbfc');
    expect(toHex(new ArrayBuffer(0))).toBe('');
  });

  it('matches the SHA-256 of a known text', async () => {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'));
    expect(toHex(digest)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
