import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { images, imageUrl } from '../../functions/images';
import { createApp } from '../../lib/app';
import { createDeps } from '../../lib/deps';
import type { ErrorBody } from '../../lib/errors';
import { storeImage } from '../../lib/image-store';
import { generateImage } from '../../lib/providers/images';
import { envWith } from '../support/env';
import { failingBucket, R2_INTERNAL_ERROR } from '../support/failing-bucket';
import { redisCountingGateway } from '../support/gateway';
import { captureLogs } from '../support/logs';
import { FAST_POLICY, simHarness } from '../support/providers';

/** The gateway with only the images route, unprotected as it will be in production. */
function imagesApp() {
  const app = createApp(createDeps);
  app.route('/', images);
  return app;
}

async function request(path: string, init: RequestInit = {}, env = envWith({})) {
  const ctx = createExecutionContext();
  const res = await imagesApp().request(path, init, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A real PNG from the simulator, stored as the gateway stores generated images. */
async function storedPng() {
  const h = simHarness();
  const prompt = `red boots ${uniqueWord()}`;
  const { bytes, size } = (await generateImage(h.deps, FAST_POLICY, { prompt, quality: 'low' })).value;
  const stored = await storeImage(env.IMAGES, bytes, { model: 'gpt-image-2.5-flare', size, prompt });
  await h.settle();
  return { bytes, id: stored.id };
}

/** An env whose IMAGES bucket counts the body reads (`get`) and metadata reads (`head`) made on it. */
function countingEnv() {
  const reads = { get: 0, head: 0 };
  const bucket: Pick<R2Bucket, 'get' | 'head'> = {
    get: (key: string) => {
      reads.get += 1;
      return env.IMAGES.get(key);
    },
    head: (key) => {
      reads.head += 1;
      return env.IMAGES.head(key);
    },
  };
  return { env: envWith({ IMAGES: bucket }), reads };
}

const UNKNOWN_ID = '0'.repeat(64);
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The headers a GET or HEAD of the stored PNG `id` answers with. */
const pngHeaders = (bytes: Uint8Array, id: string) => ({
  'content-type': 'image/png',
  'content-length': String(bytes.byteLength),
  etag: `"${id}"`,
  'cache-control': IMMUTABLE,
  'x-content-type-options': 'nosniff',
});

describe('GET /v1/images/:id', () => {
  it('serves the exact bytes with type, length, strong etag, immutable caching and nosniff', async () => {
    const { bytes, id } = await storedPng();
    const res = await request(`/v1/images/${id}`);
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toMatchObject(pngHeaders(bytes, id));
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it('serves another stored type with its own content type', async () => {
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...crypto.getRandomValues(new Uint8Array(32))]);
    const { id } = await storeImage(env.IMAGES, jpeg, { contentType: 'image/jpeg', model: 'm', size: '1x1' });
    const res = await request(`/v1/images/${id}`);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(jpeg);
  });

  it('is served at the URL imageUrl builds', async () => {
    const { id } = await storedPng();
    const url = imageUrl('https://gateway.example/some/path', id);
    expect(url).toBe(`https://gateway.example/v1/images/${id}`);
    expect((await request(url)).status).toBe(200);
    expect(() => imageUrl('https://gateway.example', 'not-an-id')).toThrow(/not an image id/);
  });
});

describe('the Workers cache', () => {
  it('serves the second view from the cache: x-cache HIT, the same bytes and headers, nothing read from R2', async () => {
    const { bytes, id } = await storedPng();
    const counted = countingEnv();
    const first = await request(`/v1/images/${id}`, {}, counted.env);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(bytes);
    expect(counted.reads).toEqual({ get: 1, head: 0 });
    const second = await request(`/v1/images/${id}`, {}, counted.env);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(Object.fromEntries(second.headers)).toMatchObject(pngHeaders(bytes, id));
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(bytes);
    expect(counted.reads).toEqual({ get: 1, head: 0 });
  });

  it('answers HEAD and a revalidation of a cached image from the cache too', async () => {
    const { bytes, id } = await storedPng();
    const counted = countingEnv();
    await (await request(`/v1/images/${id}`, {}, counted.env)).arrayBuffer();
    const head = await request(`/v1/images/${id}`, { method: 'HEAD' }, counted.env);
    expect(Object.fromEntries(head.headers)).toMatchObject({ ...pngHeaders(bytes, id), 'x-cache': 'HIT' });
    const revalidation = { headers: { 'if-none-match': `"${id}"` } };
    const notModified = await request(`/v1/images/${id}`, revalidation, counted.env);
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(`"${id}"`);
    expect(counted.reads).toEqual({ get: 1, head: 0 });
  });

  it('makes no Redis command for a view, missed or hit, before or after the response', async () => {
    const { id } = await storedPng();
    const gateway = redisCountingGateway();
    for (const status of ['MISS', 'HIT']) {
      const res = await gateway.request(`/v1/images/${id}`);
      expect([res.status, res.headers.get('x-cache')]).toEqual([200, status]);
      await res.arrayBuffer();
    }
    expect((await gateway.request(`/v1/images/${UNKNOWN_ID}`)).status).toBe(404);
    expect(gateway.commands).toEqual([]);
  });
});

describe('conditional GET', () => {
  it.each([
    ['the etag', (id: string) => `"${id}"`],
    ['the etag among others, weak form', (id: string) => `"other", W/"${id}"`],
    ['*', () => '*'],
  ])('answers 304 with no body when If-None-Match holds %s', async (_, header) => {
    const { id } = await storedPng();
    const res = await request(`/v1/images/${id}`, { headers: { 'if-none-match': header(id) } });
    expect(res.status).toBe(304);
    expect(res.body).toBeNull();
    expect(res.headers.get('etag')).toBe(`"${id}"`);
    expect(res.headers.get('cache-control')).toBe(IMMUTABLE);
  });

  it('answers 200 with the bytes when If-None-Match names another image', async () => {
    const { bytes, id } = await storedPng();
    const res = await request(`/v1/images/${id}`, { headers: { 'if-none-match': `"${UNKNOWN_ID}"` } });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it('answers 404, not 304, for an unknown image whatever If-None-Match says', async () => {
    const res = await request(`/v1/images/${UNKNOWN_ID}`, { headers: { 'if-none-match': '*' } });
    expect(res.status).toBe(404);
  });
});

describe('HEAD /v1/images/:id', () => {
  it('answers the GET headers without a body', async () => {
    const { bytes, id } = await storedPng();
    const res = await request(`/v1/images/${id}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toMatchObject(pngHeaders(bytes, id));
    expect(res.body).toBeNull();
  });

  it('reads only the metadata from the bucket, never the body, as a revalidation does', async () => {
    const { id } = await storedPng();
    const counted = countingEnv();
    expect((await request(`/v1/images/${id}`, { method: 'HEAD' }, counted.env)).status).toBe(200);
    const revalidation = { headers: { 'if-none-match': `"${id}"` } };
    expect((await request(`/v1/images/${id}`, revalidation, counted.env)).status).toBe(304);
    expect(counted.reads).toEqual({ get: 0, head: 2 });
    expect((await request(`/v1/images/${id}`, {}, counted.env)).status).toBe(200);
    expect(counted.reads).toEqual({ get: 1, head: 2 });
  });

  it('answers 404 for an unknown image', async () => {
    const res = await request(`/v1/images/${UNKNOWN_ID}`, { method: 'HEAD' });
    expect(res.status).toBe(404);
    expect(res.body).toBeNull();
  });
});

describe('errors', () => {
  it.each([
    ['upper-case hex', 'A'.repeat(64)],
    ['63 characters', 'a'.repeat(63)],
    ['65 characters', 'a'.repeat(65)],
    ['non-hex characters', 'g'.repeat(64)],
  ])('answers 400 invalid_request_error with param id for %s', async (_, id) => {
    const res = await request(`/v1/images/${id}`);
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'id' });
    expect(error.message).toMatch(/64 lower-case hex/);
    expect(error.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('reads again when R2 fails a read once: 200 with the exact bytes, and the failure logged as a warning', async () => {
    const { bytes, id } = await storedPng();
    const { bucket, calls } = failingBucket({ get: 1 });
    let res = new Response();
    const logs = await captureLogs(async () => {
      res = await request(`/v1/images/${id}`, {}, envWith({ IMAGES: bucket }));
    });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(calls.get).toBe(2);
    const warned = logs.filter((line) => line.level === 'warn');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({
      msg: 'image store call failed; trying it once more',
      operation: 'read an image',
      request_id: res.headers.get('x-request-id'),
    });
    expect(JSON.stringify(warned[0])).toContain(R2_INTERNAL_ERROR);
  });

  it('answers 503 image_store_unavailable with Retry-After, never a 500, when R2 fails a read twice', async () => {
    const { id } = await storedPng();
    for (const method of ['GET', 'HEAD']) {
      const { bucket, calls } = failingBucket({ get: 2, head: 2 });
      const res = await request(`/v1/images/${id}`, { method }, envWith({ IMAGES: bucket }));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('cache-control')).toBeNull();
      expect(calls[method === 'GET' ? 'get' : 'head']).toBe(2);
      if (method === 'HEAD') continue;
      expect(await res.json<ErrorBody>()).toEqual({
        error: {
          type: 'api_error',
          code: 'image_store_unavailable',
          message: 'The image store could not read an image; retry shortly.',
          request_id: res.headers.get('x-request-id'),
        },
      });
    }
    // Nothing failed was cached: the next view reads the bucket and serves the image.
    const { bucket, calls } = failingBucket({});
    expect((await request(`/v1/images/${id}`, {}, envWith({ IMAGES: bucket }))).status).toBe(200);
    expect(calls.get).toBe(1);
  });

  it('answers 404 image_not_found in the error shape for an unknown id', async () => {
    const res = await request(`/v1/images/${UNKNOWN_ID}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('cache-control')).toBeNull();
    const body = await res.json<ErrorBody>();
    expect(body).toEqual({
      error: {
        type: 'not_found_error',
        code: 'image_not_found',
        message: `No image with id ${UNKNOWN_ID}.`,
        request_id: res.headers.get('x-request-id'),
      },
    });
  });
});
