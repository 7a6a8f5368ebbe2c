import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../lib/errors';
import { fetchClientImage, imageForModels } from '../../lib/image-fetch';
import { MAX_FETCHED_IMAGE_BYTES } from '../../lib/image-read';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);

/** A fetch that answers every request with `make()`, recording the URLs asked for. */
function fakeFetch(make: () => Response) {
  const asked: string[] = [];
  const fetcher = (async (input: RequestInfo | URL) => {
    asked.push(String(input));
    return make();
  }) as typeof fetch;
  return { fetcher, asked };
}

async function failure(work: Promise<unknown>): Promise<GatewayError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe('fetchClientImage (narrow cases, with an injected fetch)', () => {
  it('stops reading a body that never ends at the cap: 413', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(65_536));
      },
    });
    const { fetcher } = fakeFetch(() => new Response(endless, { headers: { 'content-type': 'image/png' } }));
    const err = await failure(fetchClientImage(fetcher, 'https://cdn.example/a.png'));
    expect([err.status, err.code]).toEqual([413, 'image_too_large']);
    expect(pulled * 65_536).toBeLessThan(MAX_FETCHED_IMAGE_BYTES + 4 * 65_536);
  });

  it('gives up on a body that stalls: 400 image_fetch_failed within the timeout', async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(PNG);
      },
    });
    const { fetcher } = fakeFetch(() => new Response(stalled, { headers: { 'content-type': 'image/png' } }));
    const err = await failure(fetchClientImage(fetcher, 'https://cdn.example/a.png', 50));
    expect([err.status, err.code]).toEqual([400, 'image_fetch_failed']);
    expect(err.message).toContain('50 ms');
  });

  it('re-checks each hop: a redirect with no location, or to a non-http scheme, is refused', async () => {
    const bare = fakeFetch(() => new Response(null, { status: 302 }));
    expect((await failure(fetchClientImage(bare.fetcher, 'https://cdn.example/a.png'))).code).toBe(
      'image_fetch_failed',
    );
    const ftp = fakeFetch(
      () => new Response(null, { status: 301, headers: { location: 'ftp://cdn.example/a' } }),
    );
    expect((await failure(fetchClientImage(ftp.fetcher, 'https://cdn.example/a.png'))).code).toBe(
      'invalid_image_url',
    );
    expect(ftp.asked).toEqual(['https://cdn.example/a.png']);
  });

  it('sends the type the bytes have, whatever the label says', async () => {
    const { fetcher } = fakeFetch(() => new Response(PNG, { headers: { 'content-type': 'image/jpeg' } }));
    expect((await fetchClientImage(fetcher, 'https://cdn.example/a.jpg')).contentType).toBe('image/png');
  });

  it('leaves a data URL as it is, without fetching', async () => {
    const { fetcher, asked } = fakeFetch(() => new Response(PNG));
    const dataUrl = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
    expect(await imageForModels({ fetch: () => fetcher }, dataUrl)).toBe(dataUrl);
    expect(asked).toEqual([]);
  });
});
