import { describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../lib/errors';
import { MAX_IMAGE_REDIRECTS } from '../../lib/image-fetch';
import { MAX_FETCHED_IMAGE_BYTES } from '../../lib/image-read';
import { callGateway, freshCaller } from '../support/gateway';
import { bearer } from '../support/keys';
import { simImage, simImageFetches, simRequests } from '../support/providers';

const TOO_LARGE = MAX_FETCHED_IMAGE_BYTES + 1;

describe('POST /v1/images/analyze: the image the gateway fetches', () => {
  it.each([
    ['a redirect to plain http', 'redirect_to=http://cdn.example/x.png', 400, 'invalid_image_url'],
    ['a redirect loop', 'loop=1', 400, 'image_fetch_failed'],
    [
      `more than ${MAX_IMAGE_REDIRECTS} redirects`,
      `redirects=${MAX_IMAGE_REDIRECTS + 1}`,
      400,
      'image_fetch_failed',
    ],
    ['an error status', 'status=404', 400, 'image_fetch_failed'],
    ['too large by its content-length', `bytes=${TOO_LARGE}`, 413, 'image_too_large'],
    ['too large, sent without a length', `bytes=${TOO_LARGE}&length=0`, 413, 'image_too_large'],
    ['served as another type', 'type=text/html', 415, 'unsupported_image_type'],
    ['labelled an image but no image', 'format=none&type=image/png', 422, 'invalid_image'],
  ])('refuses %s: %s, with no upstream call and nothing reserved', async (_, query, status, code) => {
    const { post, sim, key, env } = await freshCaller('/v1/images/analyze');
    const res = await post({ image_url: simImage(query) });
    expect(res.status).toBe(status);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({ type: 'invalid_request_error', code, param: 'image_url' });
    expect(error.message).toMatch(/image/);
    expect(error.request_id).toBe(res.headers.get('x-request-id'));
    expect(await simRequests(sim)).toEqual({});
    const budget = await callGateway('/v1/budget', { headers: bearer(key) }, env);
    expect((await budget.json<{ key: unknown }>()).key).toMatchObject({
      spent_usd: 0,
      reserved_usd: 0,
      calls: 0,
    });
  });

  it('follows a redirect loop no further than the bound', async () => {
    const { post } = await freshCaller('/v1/images/analyze');
    const url = simImage('loop=1');
    expect((await post({ image_url: url })).status).toBe(400);
    expect(await simImageFetches(url)).toBe(MAX_IMAGE_REDIRECTS + 1);
  });

  it('refuses a host that does not answer: 400 image_fetch_failed', async () => {
    const { post, sim } = await freshCaller('/v1/images/analyze');
    const res = await post({ image_url: 'http://127.0.0.1:9/boots.png' });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({
      code: 'image_fetch_failed',
      param: 'image_url',
    });
    expect(await simRequests(sim)).toEqual({});
  });
});
