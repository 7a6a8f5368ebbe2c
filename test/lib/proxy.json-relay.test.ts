import { describe, expect, it } from 'vitest';
import { relayJson } from '../../lib/proxy/json-relay';
import { scanJson } from '../../lib/proxy/json-scan';

const encoder = new TextEncoder();

/** Scans `text` cut into pieces of `size` bytes (every boundary is a chance to lose state). */
function scanned(text: string, size: number, field = 'usage') {
  const scan = scanJson(field);
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length; at += size) scan.push(bytes.subarray(at, at + size));
  return scan.end();
}

const USAGE = { input_tokens: 7, output_tokens: 4160, output_tokens_details: { image_tokens: 4160 } };
/** An image answer as the Images API sends it: base64 first, usage last. */
const answer = (b64: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ created: 1, data: [{ b64_json: b64 }, { b64_json: b64 }], ...extra, usage: USAGE });

describe('scanJson', () => {
  const b64 = 'iVBORw0KGgo+/'.repeat(5000);

  it.each([1, 3, 7, 64, 100_000])('finds the usage after megabytes of strings, in %i-byte pieces', (size) => {
    expect(scanned(answer(b64), size)).toEqual({ complete: true, field: USAGE });
  });

  it('is not fooled by the field name, braces, commas or escaped quotes inside strings', () => {
    const tricky = JSON.stringify({
      note: 'a "usage": {"input_tokens": 1}, } ] \\ end',
      odd: 'one " then }, "usage": 1',
      nested: { usage: { input_tokens: 99 } },
      list: [{ usage: 1 }, '}', ','],
      usage: USAGE,
      after: 'x',
    });
    for (const size of [1, 5, 1000]) expect(scanned(tricky, size)).toEqual({ complete: true, field: USAGE });
  });

  it('reports an object cut short, or followed by anything but whitespace, as incomplete', () => {
    const whole = answer(b64);
    expect(scanned(whole.slice(0, whole.length - 1), 1000).complete).toBe(false);
    expect(scanned(whole.slice(0, whole.length / 2), 1000)).toEqual({ complete: false });
    expect(scanned(`${whole}{}`, 1000).complete).toBe(false);
    expect(scanned(`  ${whole}\n`, 1000).complete).toBe(true);
    expect(scanned('[1, 2]', 10).complete).toBe(false);
    expect(scanned('<html>502</html>', 10).complete).toBe(false);
  });

  it('leaves the field out when it is missing, unreadable or past its size limit', () => {
    expect(scanned(JSON.stringify({ data: [] }), 10)).toEqual({ complete: true });
    const scan = scanJson('usage', 16);
    scan.push(encoder.encode(JSON.stringify({ usage: { input_tokens: 123456789, output_tokens: 1 } })));
    expect(scan.end()).toEqual({ complete: true });
  });
});

/**
 * An upstream body as fetch's: a byte stream read with one reused buffer, yielding `chunks`, then
 * closing; `fail` makes the read after them fail.
 */
function upstream(chunks: string[], { fail = false } = {}): ReadableStreamBYOBReader {
  let i = 0;
  return new ReadableStream({
    type: 'bytes',
    pull(controller) {
      if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++] as string));
      else if (fail) controller.error(new TypeError('connection reset'));
      else controller.close();
    },
  }).getReader({ mode: 'byob' });
}

/** `text` in pieces of `size` characters. */
const pieces = (text: string, size: number) =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

const OPTIONS = { field: 'usage', idleTimeoutMs: 1000, drainMs: 0 };

describe('relayJson', () => {
  it('hands the client the answer byte for byte, and resolves with its usage', async () => {
    const text = answer('QUJD'.repeat(50_000));
    const [head, ...rest] = pieces(text, 4096);
    const { body, outcome } = relayJson(upstream(rest), encoder.encode(head), OPTIONS);
    expect(await new Response(body).text()).toBe(text);
    expect(await outcome).toEqual({ complete: true, field: USAGE });
  });

  it('hands on what arrived before the rest has: nothing waits for the whole answer', async () => {
    const text = answer('QUJD'.repeat(5000));
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const half = text.slice(0, text.length / 2);
    const reader = new ReadableStream({
      type: 'bytes',
      async pull(controller) {
        await gate;
        controller.enqueue(encoder.encode(text.slice(half.length)));
        controller.close();
      },
    }).getReader({ mode: 'byob' });
    const { body, outcome } = relayJson(reader, encoder.encode(half), OPTIONS);
    const client = body.getReader();
    const decoder = new TextDecoder();
    // The gate is still shut: the first half must reach the client all the same.
    let received = '';
    while (received.length < half.length) {
      const next = await client.read();
      if (next.done) break;
      received += decoder.decode(next.value, { stream: true });
    }
    expect(received).toBe(half);
    open();
    for (let next = await client.read(); !next.done; next = await client.read()) {
      received += decoder.decode(next.value, { stream: true });
    }
    expect(received).toBe(text);
    expect(await outcome).toEqual({ complete: true, field: USAGE });
  });

  it('errors the client body, never closing it cleanly, when the answer ends before it is whole', async () => {
    const text = answer('QUJD'.repeat(1000));
    const [head, ...rest] = pieces(text.slice(0, text.length / 2), 512);
    const { body, outcome } = relayJson(upstream(rest), encoder.encode(head), OPTIONS);
    await expect(new Response(body).text()).rejects.toThrow(/before it was whole/);
    expect(await outcome).toEqual({ complete: false });
  });

  it('errors the client body when the upstream breaks off, and reports no usage', async () => {
    const [head, ...rest] = pieces(answer('QUJD'.repeat(1000)), 512);
    const { body, outcome } = relayJson(
      upstream(rest.slice(0, 2), { fail: true }),
      encoder.encode(head),
      OPTIONS,
    );
    await expect(new Response(body).arrayBuffer()).rejects.toThrow(/connection reset/);
    expect(await outcome).toEqual({ complete: false });
  });

  it('reads on after the client went away, within drainMs, to learn the usage', async () => {
    const [head, ...rest] = pieces(answer('QUJD'.repeat(5000)), 1024);
    const drained = relayJson(upstream(rest), encoder.encode(head), { ...OPTIONS, drainMs: 5000 });
    const reader = drained.body.getReader();
    await reader.read();
    await reader.cancel();
    expect(await drained.outcome).toEqual({ complete: true, field: USAGE });

    const cut = relayJson(upstream(rest), encoder.encode(head), OPTIONS);
    await cut.body.getReader().cancel();
    expect(await cut.outcome).toEqual({ complete: false });
  });
});
