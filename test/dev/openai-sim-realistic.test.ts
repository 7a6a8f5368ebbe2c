import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { configFromEnv, parseSimConfig, type SimConfig } from '../../dev/openai-sim/config.ts';
import { startSimulator } from '../../dev/openai-sim/index.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const sim = useSimulator();
const { scopedClient, control } = sim;

const realistic = (timeScale: number, extra: SimConfig = {}) =>
  scopedClient({ profile: 'realistic', time_scale: timeScale, ...extra });

/** What a call returned, with the wall time it took and the server's `openai-processing-ms`. */
interface Timed<T> {
  value: T;
  ms: number;
  /** Measured by the simulator when it sent the answer: the modelled delay without client-side overhead. */
  processingMs: number;
  /**
   * The delay the simulator modelled (`x-sim-scheduled-ms`), without its own work: upper bounds are checked
   * on it, so a busy machine (a 2.5 MB PNG takes a while to draw) cannot fail them; lower bounds on the
   * times measured, which a busy machine only lengthens.
   */
  scheduledMs: number;
}

/** Runs an SDK call (any APIPromise) and times it. */
async function timed<T>(
  call: () => { withResponse(): Promise<{ data: T; response: Response }> },
): Promise<Timed<T>> {
  const started = performance.now();
  const { data, response } = await call().withResponse();
  const ms = performance.now() - started;
  return {
    value: data,
    ms,
    processingMs: Number(response.headers.get('openai-processing-ms')),
    scheduledMs: Number(response.headers.get('x-sim-scheduled-ms')),
  };
}

/**
 * The realistic text latency's bounds for a request (profile.ts): TTFT 300–1,500 ms plus 0.02 ms per input
 * token, then output at 50–150 tokens/s, all times `scale`; the upper bound is for the modelled delay,
 * rounded to the millisecond.
 */
function textBounds(usage: { input_tokens: number; output_tokens: number } | undefined, scale: number) {
  const { input_tokens: input = 0, output_tokens: output = 0 } = usage ?? {};
  return {
    min: scale * (300 + (output / 150) * 1000) - 1,
    max: scale * (1500 + input * 0.02 + (output / 50) * 1000) + 1,
  };
}

type Effort = 'none' | 'high' | 'xhigh';
const ask = (client: OpenAI, effort: Effort) =>
  timed(() =>
    client.responses.create({ model: 'gpt-6-luna', input: 'Compare two tents', reasoning: { effort } }),
  );

describe('realistic latency', () => {
  it('takes time to first token plus output at 50–150 tokens/s, reasoning included', async () => {
    const { client } = await realistic(0.01);
    const quick = await ask(client, 'none');
    const slow = await ask(client, 'high');
    for (const { value, ms, processingMs, scheduledMs } of [quick, slow]) {
      const bounds = textBounds(value.usage, 0.01);
      expect(ms).toBeGreaterThanOrEqual(bounds.min);
      expect(processingMs).toBeGreaterThanOrEqual(bounds.min);
      expect(scheduledMs).toBeGreaterThanOrEqual(bounds.min);
      expect(scheduledMs).toBeLessThanOrEqual(bounds.max);
    }
    expect(slow.value.usage?.output_tokens_details.reasoning_tokens).toBeGreaterThan(1000);
    expect(slow.scheduledMs).toBeGreaterThan(quick.scheduledMs + 100);
  });

  it('scales every delay by time_scale: the same request takes four times as long at 4× the scale', async () => {
    const fast = await ask((await realistic(0.004)).client, 'xhigh');
    const slow = await ask((await realistic(0.016)).client, 'xhigh');
    expect(slow.value.usage).toEqual(fast.value.usage);
    // The same seeded draws, so the modelled times are exactly 4× apart (about 160 and 630 ms).
    expect(Math.abs(slow.scheduledMs - 4 * fast.scheduledMs)).toBeLessThanOrEqual(4);
    expect(slow.ms).toBeGreaterThanOrEqual(textBounds(slow.value.usage, 0.016).min);
    expect(fast.scheduledMs).toBeLessThanOrEqual(textBounds(fast.value.usage, 0.004).max);
  });

  it('sends the first stream event after time to first token and paces the rest by tokens', async () => {
    const { client } = await realistic(0.01);
    const started = performance.now();
    const stream = await client.responses.create({
      model: 'gpt-6-luna',
      input: 'Describe a rain jacket',
      reasoning: { effort: 'medium' },
      stream: true,
    });
    const at: Record<string, number> = {};
    let reasoning = 0;
    for await (const event of stream) {
      at[`${event.type}:${'output_index' in event ? event.output_index : ''}`] ??=
        performance.now() - started;
      if (event.type === 'response.completed')
        reasoning = event.response.usage?.output_tokens_details.reasoning_tokens ?? 0;
    }
    expect(at['response.created:']).toBeGreaterThanOrEqual(0.01 * 300 - 2);
    // The reasoning item is done once its tokens are generated, at no more than 150 tokens/s.
    const thinking =
      (at['response.output_item.done:0'] as number) - (at['response.output_item.added:0'] as number);
    expect(thinking).toBeGreaterThanOrEqual(0.01 * (reasoning / 150) * 1000 - 2);
    expect(at['response.output_text.delta:1']).toBeGreaterThanOrEqual(
      at['response.output_item.done:0'] as number,
    );
  });

  it('takes 20–120 s per image by quality and size, scaled', async () => {
    const { client } = await realistic(0.002);
    const image = (quality: 'low' | 'high') =>
      timed(() => client.images.generate({ model: 'gpt-image-2', prompt: 'a boot', quality }));
    const low = await image('low');
    const high = await image('high');
    expect(low.ms).toBeGreaterThanOrEqual(0.002 * 20_000 - 1);
    expect(low.scheduledMs).toBeGreaterThanOrEqual(0.002 * 20_000 - 1);
    expect(low.scheduledMs).toBeLessThanOrEqual(0.002 * 30_000 + 1);
    expect(high.ms).toBeGreaterThanOrEqual(0.002 * 80_000 - 1);
    expect(high.scheduledMs).toBeLessThanOrEqual(0.002 * 120_000 + 1);
  });

  it('answers moderation in 0.1–0.4 s and embeddings in 0.05–0.3 s', async () => {
    const { client } = await realistic(1);
    const moderation = await timed(() => client.moderations.create({ input: 'a calm lake' }));
    const embedding = await timed(() =>
      client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }),
    );
    expect(moderation.ms).toBeGreaterThanOrEqual(100 - 1);
    expect(moderation.scheduledMs).toBeLessThanOrEqual(400 + 1);
    expect(embedding.ms).toBeGreaterThanOrEqual(50 - 1);
    expect(embedding.scheduledMs).toBeLessThanOrEqual(300 + 1);
  });

  it('lets an explicit latency_ms win for the endpoints it names', async () => {
    const { client } = await realistic(1, { latency_ms: { '/v1/responses': 0 } });
    // At time_scale 1, high effort would take a minute; the explicit 0 answers at once.
    const { value, scheduledMs } = await ask(client, 'high');
    expect(value.usage?.output_tokens_details.reasoning_tokens).toBeGreaterThan(1000);
    expect(scheduledMs).toBe(0);
  });
});

describe('realistic images', () => {
  /** Width and height from a base64 PNG's IHDR chunk. */
  const pngSize = (b64: string) => {
    const bytes = Buffer.from(b64, 'base64');
    return { bytes: bytes.length, width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  };

  it('returns a PNG of the requested size that is megabytes, with usage by quality and area', async () => {
    const { client } = await realistic(0.0001);
    const square = await client.images.generate({
      model: 'gpt-image-2',
      prompt: 'a tent',
      size: '1024x1024',
      quality: 'low',
    });
    expect(pngSize(square.data?.[0]?.b64_json as string)).toMatchObject({ width: 1024, height: 1024 });
    expect(pngSize(square.data?.[0]?.b64_json as string).bytes).toBeGreaterThan(1_000_000);
    expect(square.usage?.output_tokens).toBe(272);
    const wide = await client.images.generate({
      model: 'gpt-image-2',
      prompt: 'a tent',
      size: '1536x1024',
      quality: 'medium',
      n: 2,
    });
    expect(wide.data?.map((image) => pngSize(image.b64_json as string))).toMatchObject([
      { width: 1536, height: 1024 },
      { width: 1536, height: 1024 },
    ]);
    expect(wide.usage?.output_tokens).toBe(2 * 1584);
  });

  it('keeps the sim-flag marker that moderation flags, and rejects sizes gpt-image-2 cannot make', async () => {
    const { client } = await realistic(0.0001);
    const flagged = await client.images.generate({
      model: 'gpt-image-2',
      prompt: 'sim-flag boot',
      quality: 'low',
    });
    const moderation = await client.moderations.create({
      input: [
        { type: 'image_url', image_url: { url: `data:image/png;base64,${flagged.data?.[0]?.b64_json}` } },
      ],
    });
    expect(moderation.results[0]?.flagged).toBe(true);
    await expect(
      client.images.generate({ model: 'gpt-image-2', prompt: 'x', size: '1000x1000' as '1024x1024' }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'size',
    });
  });
});

// Caching works the same on every profile (openai-sim-prompt-cache.test.ts); these check that the realistic
// profile's time_scale shortens its idle window as it shortens every delay.
describe('realistic prompt caching', () => {
  const longPrompt = `${'Catalogue entry for a waterproof hiking boot with a sturdy sole. '.repeat(80)}Summarise.`;

  it('writes a prompt of 1,024+ tokens on first use and reads it after, in 128-token steps', async () => {
    const { client } = await realistic(0.0001);
    const call = (prompt_cache_key?: string) =>
      client.responses.create({
        model: 'gpt-6-luna',
        input: longPrompt,
        reasoning: { effort: 'none' },
        prompt_cache_key,
      });
    const first = await call();
    const input = first.usage?.input_tokens as number;
    const step = Math.floor(input / 128) * 128;
    expect(input).toBeGreaterThanOrEqual(1024);
    expect(first.usage?.input_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: step });
    expect((await call()).usage?.input_tokens_details).toEqual({
      cached_tokens: step,
      cache_write_tokens: 0,
    });
    expect((await call('other-key')).usage?.input_tokens_details).toEqual({
      cached_tokens: 0,
      cache_write_tokens: step,
    });
    const short = await client.responses.create({ model: 'gpt-6-luna', input: 'Name a boot' });
    expect(short.usage?.input_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: 0 });
  });

  it('reports Chat caching in prompt_tokens_details and forgets a prompt after 5 min × time_scale', async () => {
    const { key, client } = await realistic(0.0001);
    const call = () =>
      client.chat.completions.create({
        model: 'gpt-4.1-mini',
        messages: [{ role: 'user', content: longPrompt }],
      });
    const write = (await call()).usage?.prompt_tokens_details?.cache_write_tokens as number;
    expect(write).toBeGreaterThan(0);
    expect((await call()).usage?.prompt_tokens_details?.cached_tokens).toBe(write);
    // 5 min × 0.0001 = 30 ms: move the scope's clock a second on instead of waiting.
    const moved = await control(`/_sim/config?key=${key}`, {
      profile: 'realistic',
      time_scale: 0.0001,
      clock_offset_ms: 1000,
    });
    expect(moved.status).toBe(200);
    expect((await call()).usage?.prompt_tokens_details).toMatchObject({
      cached_tokens: 0,
      cache_write_tokens: write,
    });
  });
});

describe('profile config', () => {
  it('starts on the realistic profile from startSimulator options', async () => {
    const own = await startSimulator({ config: { profile: 'realistic', time_scale: 0.0001 } });
    try {
      const client = new OpenAI({ apiKey: 'opts', baseURL: `${own.url}/v1`, maxRetries: 0 });
      const response = await client.responses.create({ model: 'gpt-6-luna', input: 'Name a tent' });
      expect(response.usage?.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    } finally {
      await own.close();
    }
  });

  it('takes profile and time_scale in POST /_sim/config and rejects bad values', async () => {
    expect(parseSimConfig({ profile: 'realistic', time_scale: 0.01 })).toEqual({
      ok: true,
      value: { profile: 'realistic', time_scale: 0.01 },
    });
    const badProfile = await control('/_sim/config?key=cfg', { profile: 'slow' });
    expect(badProfile.status).toBe(400);
    expect(badProfile.json.error?.message).toMatch(/profile must be one of instant, realistic/);
    expect((await control('/_sim/config?key=cfg', { time_scale: 0 })).json.error?.message).toMatch(
      /time_scale/,
    );
  });

  it('reads SIM_PROFILE and SIM_TIME_SCALE and rejects invalid values', () => {
    expect(configFromEnv({ SIM_PROFILE: 'realistic', SIM_TIME_SCALE: '0.01' })).toEqual({
      profile: 'realistic',
      time_scale: 0.01,
    });
    expect(() => configFromEnv({ SIM_PROFILE: 'fast' })).toThrow(/SIM_PROFILE/);
    expect(() => configFromEnv({ SIM_TIME_SCALE: '-1' })).toThrow(/SIM_TIME_SCALE/);
  });
});
