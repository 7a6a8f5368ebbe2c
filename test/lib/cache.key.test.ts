import { describe, expect, it } from 'vitest';
import { type CacheKeyParts, cacheKey, cacheNamespace, canonicalJson, normaliseText } from '../../lib/cache';
import { decodeEntry, ENTRY_PREFIX, encodeEntry } from '../../lib/cache/entry';
import { leaseKeyOf } from '../../lib/cache/key';
import { CACHE_LOOKUP } from '../../lib/scripts/cache';

const BASE: CacheKeyParts = {
  namespace: cacheNamespace({ keyId: 'key_0123456789abcdef01234567' }),
  kind: 'creative',
  version: 'p3.s2.gpt-4.1',
  fields: {
    product_category: 'Running Shoes',
    target_audience: 'trail runners',
    brand_voice: 'playful',
    channels: ['email', 'push'],
    limits: { words: 80, emoji: false },
  },
};

const keyOf = (change: Partial<CacheKeyParts>) => cacheKey({ ...BASE, ...change });

describe('cacheKey', () => {
  it('lays the key out as gw:v1:cache:<namespace>:<kind>:<version>:<sha256 hex>', async () => {
    expect(await cacheKey(BASE)).toMatch(
      /^gw:v1:cache:tenant\.key_0123456789abcdef01234567:creative:p3\.s2\.gpt-4\.1:[0-9a-f]{64}$/,
    );
  });

  it('gives the same key for reordered fields at every depth, other spacing, case and Unicode forms', async () => {
    const same = await keyOf({
      fields: {
        limits: { emoji: false, words: 80 },
        channels: ['  EMAIL ', 'push'],
        brand_voice: 'Playful',
        target_audience: ' Trail\t\n  RUNNERS ',
        // Full-width letters and a no-break space normalise (NFKC) to the ASCII text.
        product_category: 'Ｒｕｎｎｉｎｇ\u00a0Shoes',
        discount: null,
        notes: undefined,
      },
    });
    expect(same).toBe(await cacheKey(BASE));
  });

  it('gives a different key for a different field value, version, namespace or kind', async () => {
    const base = await cacheKey(BASE);
    const others = await Promise.all([
      keyOf({ fields: { ...BASE.fields, brand_voice: 'serious' } }),
      keyOf({ fields: { ...BASE.fields, limits: { words: 81, emoji: false } } }),
      keyOf({ fields: { ...BASE.fields, channels: ['push', 'email'] } }),
      keyOf({ fields: { ...BASE.fields, extra: '' } }),
      keyOf({ version: 'p4.s2.gpt-4.1' }),
      keyOf({ namespace: cacheNamespace({ keyId: 'key_ffffffffffffffffffffffff' }) }),
      keyOf({ namespace: cacheNamespace({ keyId: 'key_0123456789abcdef01234567', shared: 'default' }) }),
      keyOf({ kind: 'opportunity' }),
    ]);
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  it('hashes exactFields byte for byte while still normalising the other fields', async () => {
    const parts = (url: string, voice: string): CacheKeyParts => ({
      ...BASE,
      fields: { url, voice },
      exactFields: ['url'],
    });
    const key = await cacheKey(parts('https://shop.example/P/123', 'Bold'));
    expect(await cacheKey(parts('https://shop.example/P/123', ' bold '))).toBe(key);
    expect(await cacheKey(parts('https://shop.example/p/123', 'Bold'))).not.toBe(key);
  });

  it('keeps colons in parts from making two different part lists share a key', async () => {
    const a = await keyOf({ namespace: 'tenant.a:creative', kind: 'x' });
    const b = await keyOf({ namespace: 'tenant.a', kind: 'creative:x' });
    expect(a).not.toBe(b);
    expect(a.split(':')).toHaveLength(b.split(':').length);
    expect(a).toContain('tenant.a%3Acreative');
  });

  it('rejects empty parts and values JSON cannot carry faithfully', async () => {
    await expect(keyOf({ namespace: '' })).rejects.toThrow(RangeError);
    await expect(keyOf({ fields: { n: Number.NaN } })).rejects.toThrow(/finite/);
    await expect(keyOf({ fields: { n: 1n } })).rejects.toThrow(TypeError);
    await expect(keyOf({ fields: { m: new Map() } })).rejects.toThrow(/plain object/);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    await expect(keyOf({ fields: { loop } })).rejects.toThrow(/circular/);
  });

  it('builds the same key the first time and every time after, for more parts than the isolate remembers', async () => {
    // The isolate keeps the keys it built lately (512): 1,200 distinct parts, twice over, each checked
    // against the layout hashed here independently.
    const utf8 = new TextEncoder();
    const expected = async (n: number) => {
      const digest = await crypto.subtle.digest(
        'SHA-256',
        utf8.encode(canonicalJson({ intent: `gloves ${n}` })),
      );
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
      return `gw:v1:cache:${encodeURIComponent(BASE.namespace)}:${BASE.kind}:${BASE.version}:${hex}`;
    };
    for (let pass = 0; pass < 2; pass++) {
      for (let n = 0; n < 1200; n += 1) {
        const key = await keyOf({ fields: { intent: `Gloves  ${n}` } });
        expect(key, `pass ${pass}, parts ${n}`).toBe(await expected(n));
      }
    }
    // A namespace of its own gives a key of its own, remembered or not.
    const other = await keyOf({ namespace: 'tenant-b', fields: { intent: 'gloves 1' } });
    expect(other).not.toBe(await expected(1));
    expect(await keyOf({ namespace: 'tenant-b', fields: { intent: 'gloves 1' } })).toBe(other);
  });

  it('names the lease one segment past the entry key', async () => {
    const key = await cacheKey(BASE);
    expect(leaseKeyOf(key)).toBe(`${key}:lease`);
  });
});

describe('canonicalJson', () => {
  it('sorts keys, drops null fields, keeps array order and nulls in arrays', () => {
    expect(canonicalJson({ b: [3, null, 'X'], a: { d: null, c: ' Hi  There ' }, e: true })).toBe(
      '{"a":{"c":"hi there"},"b":[3,null,"x"],"e":true}',
    );
  });

  it('normalises a text it has seen before exactly as a fresh one, past what it remembers and back', () => {
    // Widths, ligatures and odd spaces that NFKC changes, over more texts than the isolate keeps.
    const texts = Array.from({ length: 1300 }, (_, n) => `  Ｇloves\u00a0ﬁt ${n}\tⅣ  `);
    texts.push('x'.repeat(300), ` ${'Ｙ'.repeat(256)} `);
    for (let pass = 0; pass < 2; pass++) {
      for (const text of texts) {
        expect(canonicalJson({ intent: text })).toBe(JSON.stringify({ intent: normaliseText(text) }));
      }
    }
    expect(canonicalJson({ intent: texts[0] })).toBe('{"intent":"gloves fit 0 iv"}');
  });
});

describe('cache entries', () => {
  it('starts every entry with the prefix the lookup script checks', () => {
    expect(encodeEntry({ a: 1 }, 1_700_000_000_000)).toBe('{"cached_at":1700000000000,"value":{"a":1}}');
    expect(ENTRY_PREFIX).toHaveLength(13);
    expect(CACHE_LOOKUP.source).toContain(`string.sub(entry, 1, 13) == '${ENTRY_PREFIX}'`);
  });

  it('reads an entry back from the string or from the object automatic deserialisation makes', () => {
    const raw = encodeEntry({ sku: '0123', price: '1.50' }, 5);
    const expected = { value: { sku: '0123', price: '1.50' }, cachedAt: 5 };
    expect(decodeEntry(raw)).toEqual(expected);
    expect(decodeEntry(JSON.parse(raw))).toEqual(expected);
    expect(decodeEntry('garbage')).toBeNull();
    expect(decodeEntry(123)).toBeNull();
    expect(decodeEntry({ value: 1 })).toBeNull();
    expect(() => encodeEntry(undefined, 5)).toThrow(TypeError);
  });
});
