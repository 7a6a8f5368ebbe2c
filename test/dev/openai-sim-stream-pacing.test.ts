import { describe, expect, it } from 'vitest';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const { url, control } = useSimulator();

/** Streams a chat completion with `key`, noting when each chunk of the body arrived. */
async function timedStream(key: string): Promise<{ arrivals: number[]; text: string }> {
  const started = Date.now();
  const res = await fetch(`${url()}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-4.1-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Describe a waterproof hiking boot for wet autumn trails' }],
    }),
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const arrivals: number[] = [];
  let text = '';
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    arrivals.push(Date.now() - started);
    text += decoder.decode(next.value, { stream: true });
  }
  return { arrivals, text };
}

describe('stream_interval_ms', () => {
  it('writes a stream event by event, that far apart, and still ends it with [DONE]', async () => {
    const key = `sim-${crypto.randomUUID()}`;
    expect((await control(`/_sim/config?key=${key}`, { stream_interval_ms: 60 })).status).toBe(200);
    const { arrivals, text } = await timedStream(key);
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(arrivals.length).toBe(events.length);
    // n events 60 ms apart span at least (n - 1) × 60 ms.
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(
      (events.length - 1) * 55,
    );
  });

  it('writes the whole stream at once by default', async () => {
    const { arrivals, text } = await timedStream(`sim-${crypto.randomUUID()}`);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(arrivals.length).toBeLessThanOrEqual(2);
  });

  it('rejects a negative interval', async () => {
    const answer = await control('/_sim/config?key=sim-x', { stream_interval_ms: -1 });
    expect(answer.status).toBe(400);
    expect(answer.json.error?.message).toMatch(/stream_interval_ms/);
  });
});
