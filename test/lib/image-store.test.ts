import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ImageStoreUnavailableError } from '../../lib/errors';
import { toHex } from '../../lib/hex';
import { PROMPT_METADATA_MAX_BYTES } from '../../lib/image-metadata';
import { headImage, readImage, storeImage } from '../../lib/image-store';
import { sniffImageType, UnsupportedImageError } from '../../lib/image-type';
import { generateImage } from '../../lib/providers/images';
import { failingBucket, R2_INTERNAL_ERROR } from '../support/failing-bucket';
import { FAST_POLICY, simHarness } from '../support/providers';

/** A valid 1×1 RGBA PNG (CRCs checked); its SHA-256 is pinned below, computed with `sha256sum`. */
const TINY_PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='),
  (ch) => ch.charCodeAt(0),
);
const TINY_PNG_SHA256 = '497790947d4666760ce38f3c00e852c71fdb66cae849bae8e9ede352719e1581';

const ascii = (text: string) => [...text].map((ch) => ch.charCodeAt(0));
/** Leading magic bytes then random ones (enough for sniffing, not decodable), a new object each call. */
const withMagic = (magic: number[], tail = 16) =>
  Uint8Array.from([...magic, ...crypto.getRandomValues(new Uint8Array(tail))]);
const pngLike = () => withMagic([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const jpegLike = () => withMagic([0xff, 0xd8, 0xff, 0xe0]);
const webpLike = () => withMagic([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WEBP')]);

/** A real PNG from the simulator, unique to the prompt. */
async function simulatedPng(prompt = `boots ${crypto.randomUUID()}`) {
  const h = simHarness();
  return (await generateImage(h.deps, FAST_POLICY, { prompt, quality: 'low' })).value.bytes;
}

const META = { model: 'gpt-image-2.5-flare', size: '1024x1024' };

describe('storeImage', () => {
  it('keys the image by the SHA-256 hex of its bytes', async () => {
    const stored = await storeImage(env.IMAGES, TINY_PNG, META);
    expect(stored).toEqual({
      id: TINY_PNG_SHA256,
      contentType: 'image/png',
      bytes: 70,
      deduplicated: false,
    });
    const object = await env.IMAGES.get(TINY_PNG_SHA256);
    expect(new Uint8Array((await object?.arrayBuffer()) ?? [])).toEqual(TINY_PNG);
  });

  it('stores the same bytes once: the second store is one head and no put', async () => {
    const png = await simulatedPng();
    const { bucket, calls } = failingBucket({});
    const first = await storeImage(bucket, png, { ...META, prompt: 'first' }, { now: () => 1_000 });
    expect(calls).toEqual({ head: 1, get: 0, put: 1 });
    const second = await storeImage(bucket, png.slice(), { ...META, prompt: 'second' }, { now: () => 2_000 });
    expect(calls).toEqual({ head: 2, get: 0, put: 1 });
    expect(second).toEqual({ ...first, deduplicated: true });
    expect(first.deduplicated).toBe(false);
    const head = await env.IMAGES.head(first.id);
    expect(head?.customMetadata).toMatchObject({
      prompt: 'first',
      created_at: new Date(1_000).toISOString(),
    });
  });

  it('gives different images different ids', async () => {
    const [a, b] = await Promise.all([simulatedPng(), simulatedPng()]);
    const [x, y] = await Promise.all([storeImage(env.IMAGES, a, META), storeImage(env.IMAGES, b, META)]);
    expect(x.id).toMatch(/^[0-9a-f]{64}$/);
    expect(x.id).not.toBe(y.id);
  });

  it('records content type, model, size and created_at on the object', async () => {
    const png = await simulatedPng();
    const now = Date.parse('2026-11-27T10:00:00.000Z');
    const { id } = await storeImage(
      env.IMAGES,
      png,
      { model: 'gpt-image-2', size: '1536x1024', prompt: 'red boots' },
      { now: () => now },
    );
    const head = await env.IMAGES.head(id);
    expect(head?.httpMetadata?.contentType).toBe('image/png');
    expect(head?.size).toBe(png.byteLength);
    expect(head?.customMetadata).toEqual({
      model: 'gpt-image-2',
      size: '1536x1024',
      created_at: '2026-11-27T10:00:00.000Z',
      prompt: 'red boots',
    });
  });

  it('omits the prompt from the metadata when none is given', async () => {
    const { id } = await storeImage(env.IMAGES, jpegLike(), { ...META, contentType: 'image/jpeg' });
    const head = await env.IMAGES.head(id);
    expect(head?.customMetadata && Object.keys(head.customMetadata).sort()).toEqual([
      'created_at',
      'model',
      'size',
    ]);
  });

  it('keeps only a one-line excerpt of a long prompt, cut on a character within the byte cap', async () => {
    // 3-byte characters: the cap falls mid-character unless the cut respects code points.
    const prompt = `rote  Stiefel\n\tim Regen ${'€'.repeat(10_000)}`;
    const { id } = await storeImage(env.IMAGES, jpegLike(), { ...META, contentType: 'image/jpeg', prompt });
    const meta = (await env.IMAGES.head(id))?.customMetadata ?? {};
    const excerpt = meta.prompt ?? '';
    expect(meta.prompt_truncated).toBe('true');
    expect(excerpt.startsWith('rote Stiefel im Regen €')).toBe(true);
    const excerptBytes = new TextEncoder().encode(excerpt).byteLength;
    expect(excerptBytes).toBeLessThanOrEqual(PROMPT_METADATA_MAX_BYTES);
    expect(excerptBytes).toBeGreaterThan(PROMPT_METADATA_MAX_BYTES - 3);
    expect(excerpt.endsWith('€')).toBe(true);
  });
});

describe('content types', () => {
  it.each([
    ['image/png', pngLike],
    ['image/jpeg', jpegLike],
    ['image/webp', webpLike],
  ])('sniffs %s and stores it with that content type', async (type, bytes) => {
    const data = bytes();
    expect(sniffImageType(data)).toBe(type);
    const stored = await storeImage(env.IMAGES, data, { ...META, contentType: type });
    expect(stored.contentType).toBe(type);
    expect((await env.IMAGES.head(stored.id))?.httpMetadata?.contentType).toBe(type);
  });

  it('accepts a declared type in any case and with parameters', async () => {
    const stored = await storeImage(env.IMAGES, webpLike(), { ...META, contentType: 'Image/WebP; q=1' });
    expect(stored.contentType).toBe('image/webp');
  });

  it.each([
    ['text', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['GIF', Uint8Array.from(ascii('GIF89a\x01\x00\x01\x00'))],
    ['a RIFF that is not WebP', Uint8Array.from([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WAVE')])],
    ['a truncated PNG signature', TINY_PNG.slice(0, 7)],
    ['nothing', new Uint8Array()],
  ])('refuses %s with UnsupportedImageError and stores nothing', async (_, data) => {
    const { bucket, calls } = failingBucket({});
    const error = await storeImage(bucket, data, META).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedImageError);
    expect(error).toMatchObject({ status: 502, code: 'unsupported_image' });
    expect(calls).toEqual({ head: 0, get: 0, put: 0 });
  });

  it('refuses bytes that are not the declared type, PNG being the default', async () => {
    const { bucket, calls } = failingBucket({});
    await expect(storeImage(bucket, jpegLike(), META)).rejects.toThrow(
      /image\/jpeg, not the declared image\/png/,
    );
    await expect(storeImage(bucket, TINY_PNG, { ...META, contentType: 'image/gif' })).rejects.toThrow(
      UnsupportedImageError,
    );
    expect(calls.put).toBe(0);
  });
});

describe('readImage and headImage', () => {
  it('return the body, content type, size and strong etag of a stored image', async () => {
    const png = await simulatedPng();
    const { id } = await storeImage(env.IMAGES, png, META);
    const image = await readImage(env.IMAGES, id);
    expect(image).toMatchObject({ contentType: 'image/png', size: png.byteLength, etag: `"${id}"` });
    expect(new Uint8Array(await new Response(image?.body).arrayBuffer())).toEqual(png);
    expect(await headImage(env.IMAGES, id)).toEqual({
      contentType: 'image/png',
      size: png.byteLength,
      etag: `"${id}"`,
    });
  });

  it('return null for an unknown id, and for a malformed one without asking the bucket', async () => {
    const { bucket, calls } = failingBucket({});
    const unknown = 'f'.repeat(64);
    expect(await readImage(bucket, unknown)).toBeNull();
    expect(await headImage(bucket, unknown)).toBeNull();
    expect(calls).toEqual({ head: 1, get: 1, put: 0 });
    expect(await readImage(bucket, '../secret')).toBeNull();
    expect(await headImage(bucket, TINY_PNG_SHA256.toUpperCase())).toBeNull();
    expect(calls).toEqual({ head: 1, get: 1, put: 0 });
  });
});

describe('when R2 fails a call', () => {
  it('makes each call again once: a store whose head and put each failed once is stored whole', async () => {
    const png = await simulatedPng();
    const { bucket, calls } = failingBucket({ head: 1, put: 1 });
    const warned: unknown[] = [];
    const log = { warn: (msg: string, fields?: object) => void warned.push({ msg, ...fields }) };
    const stored = await storeImage(bucket, png, META, { log });
    expect(calls).toEqual({ head: 2, get: 0, put: 2 });
    expect(warned).toMatchObject([
      { msg: 'image store call failed; trying it once more', operation: 'check an image' },
      { msg: 'image store call failed; trying it once more', operation: 'store an image' },
    ]);
    expect(stored.deduplicated).toBe(false);
    const object = await env.IMAGES.get(stored.id);
    expect(new Uint8Array((await object?.arrayBuffer()) ?? [])).toEqual(png);
  });

  it('throws a typed, retryable 503 after a second failure, with R2 error as its cause, and stores nothing', async () => {
    const png = await simulatedPng();
    const { bucket, calls } = failingBucket({ put: 2 });
    const error = await storeImage(bucket, png, META).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ImageStoreUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      code: 'image_store_unavailable',
      retryAfter: 1,
      message: 'The image store could not store an image; retry shortly.',
    });
    expect(String((error as Error).cause)).toContain(R2_INTERNAL_ERROR);
    expect(calls).toEqual({ head: 1, get: 0, put: 2 });
    const id = toHex(await crypto.subtle.digest('SHA-256', png));
    expect(await env.IMAGES.head(id)).toBeNull();
  });

  it('reads an image again once, and fails a read that fails twice with the same 503', async () => {
    const png = await simulatedPng();
    const { id } = await storeImage(env.IMAGES, png, META);
    const once = failingBucket({ get: 1, head: 1 });
    const read = await readImage(once.bucket, id);
    expect(new Uint8Array(await new Response(read?.body).arrayBuffer())).toEqual(png);
    expect((await headImage(once.bucket, id))?.size).toBe(png.byteLength);
    expect(once.calls).toEqual({ head: 2, get: 2, put: 0 });
    const twice = failingBucket({ get: 2, head: 2 });
    await expect(readImage(twice.bucket, id)).rejects.toMatchObject({
      status: 503,
      code: 'image_store_unavailable',
    });
    await expect(headImage(twice.bucket, id)).rejects.toMatchObject({
      status: 503,
      code: 'image_store_unavailable',
    });
    expect(twice.calls).toEqual({ head: 2, get: 2, put: 0 });
  });
});
