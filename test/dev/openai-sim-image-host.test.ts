import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ImageInput } from '../../dev/openai-sim/image-inputs.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const sim = useSimulator();

/** A URL on the image host under a name no other test uses. */
const hosted = (query = '') => `${sim.url()}/_sim/images/img-${randomUUID()}${query ? `?${query}` : ''}`;
const fetches = async (url: string) =>
  ((await (await fetch(`${url.split('?')[0]}/fetches`)).json()) as { fetches: number }).fetches;

describe('the test image host (/_sim/images/<name>)', () => {
  it('serves a real PNG by default, and the other formats by their signatures and types', async () => {
    const png = await fetch(hosted());
    expect(png.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(Number(png.headers.get('content-length'))).toBe(bytes.length);
    for (const [format, signature] of [
      ['jpeg', [0xff, 0xd8, 0xff]],
      ['gif', [...Buffer.from('GIF89a')]],
      ['webp', [...Buffer.from('RIFF')]],
    ] as const) {
      const res = await fetch(hosted(`format=${format}&type=text/html`));
      expect(res.headers.get('content-type')).toBe('text/html');
      expect([...Buffer.from(await res.arrayBuffer()).subarray(0, signature.length)]).toEqual(signature);
    }
  });

  it('pads to a size, chunked without a length when asked', async () => {
    const res = await fetch(hosted('bytes=300000&length=0'));
    expect(res.headers.get('content-length')).toBeNull();
    expect((await res.arrayBuffer()).byteLength).toBe(300_000);
  });

  it('flags from the n-th fetch on, and counts fetches per name', async () => {
    const url = hosted('flag_from=2');
    const first = Buffer.from(await (await fetch(url)).arrayBuffer());
    const second = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(first.includes('sim-flag')).toBe(false);
    expect(second.includes('sim-flag')).toBe(true);
    expect(await fetches(url)).toBe(2);
  });

  it('redirects n times, to a given URL, or to itself', async () => {
    const chain = await fetch(hosted('redirects=2'), { redirect: 'manual' });
    expect(chain.status).toBe(302);
    const next = new URL(chain.headers.get('location') ?? '', sim.url());
    expect(next.searchParams.get('redirects')).toBe('1');
    expect((await fetch(hosted('redirects=2'))).status).toBe(200);
    const loop = hosted('loop=1');
    const again = (await fetch(loop, { redirect: 'manual' })).headers.get('location') ?? '';
    expect(new URL(again, loop).href).toBe(loop);
    const away = await fetch(hosted('redirect_to=http://example.com/x.png'), { redirect: 'manual' });
    expect(away.headers.get('location')).toBe('http://example.com/x.png');
    expect((await fetch(hosted('status=404'))).status).toBe(404);
  });
});

describe('GET /_sim/inputs', () => {
  it("lists the images a key's requests carried: data URLs by type, size and digest, others as URLs", async () => {
    const { key, client } = await sim.scopedClient({});
    const bytes = Buffer.from('GIF89a some image');
    const dataUrl = `data:image/gif;base64,${bytes.toString('base64')}`;
    await client.moderations.create({
      model: 'omni-moderation-latest',
      input: [{ type: 'image_url', image_url: { url: dataUrl } }],
    });
    await client.responses.create({
      model: 'gpt-6-luna',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'https://cdn.example/a.png', detail: 'auto' },
          ],
        },
      ],
    });
    const { json } = await sim.control(`/_sim/inputs?key=${key}`);
    expect((json as { images: ImageInput[] }).images).toEqual([
      {
        endpoint: '/v1/moderations',
        media_type: 'image/gif',
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      },
      { endpoint: '/v1/responses', url: 'https://cdn.example/a.png' },
    ]);
    await sim.control(`/_sim/reset?key=${key}`, {});
    expect((await sim.control(`/_sim/inputs?key=${key}`)).json).toEqual({ images: [] });
  });
});
