import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../lib/errors';
import { errorEvent } from '../../lib/proxy/frames';
import { type RelayOptions, relaySse } from '../../lib/proxy/sse';
import { parseEvent } from '../../lib/proxy/sse-events';

const encoder = new TextEncoder();

/** An upstream body that yields `chunks` (strings), then closes, or stays open with `hang`. */
function upstream(chunks: string[], { hang = false } = {}) {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++] as string));
      else if (!hang) controller.close();
      else return new Promise(() => undefined);
    },
  });
}

const options = (overrides: Partial<RelayOptions> = {}): RelayOptions => ({
  api: 'chat',
  dropUsageChunk: false,
  idleTimeoutMs: 1000,
  recordLimit: 100_000,
  errorEvent: (error) => errorEvent('chat', error, 'req_test'),
  ...overrides,
});

/** Relays `chunks`, returning what the client read and the outcome. */
async function relay(chunks: string[], opts: Partial<RelayOptions> = {}, hang = false) {
  const reader = upstream(chunks, { hang }).getReader();
  const first = (await reader.read()).value as Uint8Array;
  const { body, outcome } = relaySse(reader, first, options(opts));
  return { text: await new Response(body).text(), outcome: await outcome };
}

const chunk = (content: string) => `data: {"choices":[{"index":0,"delta":{"content":"${content}"}}]}\n\n`;
const USAGE = 'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}\n\n';

describe('relaySse', () => {
  it('passes a complete chat stream through unchanged, split anywhere, and reports its usage', async () => {
    const stream = `${chunk('Hi')}${chunk(' there')}${USAGE}data: [DONE]\n\n`;
    const pieces = stream.match(/[\s\S]{1,7}/g) as string[];
    const { text, outcome } = await relay(pieces);
    expect(text).toBe(stream);
    expect(outcome).toEqual({
      ended: true,
      succeeded: true,
      usage: { inputTokens: 9, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 2, reasoningTokens: 0 },
      recorded: stream,
    });
  });

  it('drops only the usage-only chunk when the client did not ask for usage', async () => {
    const { text, outcome } = await relay([chunk('Hi'), USAGE, 'data: [DONE]\n\n'], { dropUsageChunk: true });
    expect(text).toBe(`${chunk('Hi')}data: [DONE]\n\n`);
    expect(outcome.usage?.inputTokens).toBe(9);
  });

  it('ends a stream that closes early with an error event in OpenAI shape, and keeps nothing for the cache', async () => {
    const { text, outcome } = await relay([chunk('Hi')]);
    expect(text.startsWith(chunk('Hi'))).toBe(true);
    const last = JSON.parse(parseEvent(text.trim().split('\n\n').at(-1) as string).data);
    expect(last).toEqual({
      error: expect.objectContaining({
        type: 'api_error',
        code: 'stream_interrupted',
        request_id: 'req_test',
      }),
    });
    expect(outcome).toMatchObject({ ended: false, succeeded: false });
    expect(outcome.recorded).toBeUndefined();
  });

  it('ends a stalled stream with upstream_timeout after the idle timeout', async () => {
    const { text } = await relay([chunk('Hi')], { idleTimeoutMs: 50 }, true);
    expect(text).toContain('"code":"upstream_timeout"');
  });

  it('passes the provider’s own error event on and does not count the stream as a success', async () => {
    const { text, outcome } = await relay([
      chunk('Hi'),
      'data: {"error":{"message":"boom","type":"server_error"}}\n\n',
    ]);
    expect(text).not.toContain('stream_interrupted');
    expect(outcome).toMatchObject({ ended: true, succeeded: false });
  });

  it('treats response.completed as the end of a responses stream and reads its usage', async () => {
    const done =
      'event: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":1}}}\n\n';
    const { text, outcome } = await relay(
      ['event: response.created\ndata: {"type":"response.created"}\n\n', done],
      {
        api: 'responses',
      },
    );
    expect(text.endsWith(done)).toBe(true);
    expect(outcome).toMatchObject({ succeeded: true, usage: { inputTokens: 5, outputTokens: 1 } });
  });

  it('runs beforeEnd with the whole stream before the client gets its terminal event', async () => {
    const head = `${chunk('Hi')}${chunk(' there')}`;
    const reader = upstream([chunk('Hi'), chunk(' there'), 'data: [DONE]\n\n']).getReader();
    const first = (await reader.read()).value as Uint8Array;
    let entered: (recorded: string | undefined) => void = () => undefined;
    const called = new Promise<string | undefined>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => undefined;
    const { body } = relaySse(
      reader,
      first,
      options({
        beforeEnd: (outcome) => {
          entered(outcome.recorded);
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      }),
    );
    const read = body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (text.length < head.length) text += (await read.read()).value ?? '';
    expect(text).toBe(head);
    expect(await called).toBe(`${head}data: [DONE]\n\n`);
    // While beforeEnd runs, the client waits for the end; it is there as soon as beforeEnd is done.
    const last = read.read();
    const tick = new Promise((resolve) => setTimeout(() => resolve('waiting'), 20));
    expect(await Promise.race([last.then(() => 'read'), tick])).toBe('waiting');
    release();
    expect((await last).value).toBe('data: [DONE]\n\n');
    expect((await read.read()).done).toBe(true);
  });

  it('ends the client stream at the terminal event, even when the upstream does not close', async () => {
    const { text, outcome } = await relay([chunk('Hi'), 'data: [DONE]\n\n'], {}, true);
    expect(text).toBe(`${chunk('Hi')}data: [DONE]\n\n`);
    expect(outcome).toMatchObject({ ended: true, succeeded: true });
  });

  it('relays but does not keep a stream longer than the record limit', async () => {
    const { outcome } = await relay([chunk('Hi'), 'data: [DONE]\n\n'], { recordLimit: 10 });
    expect(outcome.succeeded).toBe(true);
    expect(outcome.recorded).toBeUndefined();
  });
});

describe('errorEvent', () => {
  it('names a responses error event and carries both OpenAI’s fields and our body', () => {
    const event = errorEvent(
      'responses',
      new UpstreamError({ message: 'cut', code: 'stream_interrupted' }),
      'req_1',
    );
    const { event: name, data } = parseEvent(event.trim());
    expect(name).toBe('error');
    expect(JSON.parse(data)).toMatchObject({
      type: 'error',
      code: 'stream_interrupted',
      message: 'cut',
      error: { code: 'stream_interrupted', request_id: 'req_1' },
    });
  });
});

describe('relaySse when the client goes away', () => {
  /**
   * An upstream reader as workerd's: one pending read at a time (a second throws), each chunk arriving
   * `gapMs` after it is asked for.
   */
  function strictReader(chunks: string[], gapMs: number): ReadableStreamDefaultReader<Uint8Array> {
    let i = 0;
    let pending = false;
    return {
      read() {
        if (pending)
          throw new TypeError('This ReadableStream only supports a single pending read request at a time.');
        pending = true;
        return new Promise((resolve) =>
          setTimeout(() => {
            pending = false;
            resolve(
              i < chunks.length
                ? { done: false, value: encoder.encode(chunks[i++] as string) }
                : { done: true, value: undefined },
            );
          }, gapMs),
        );
      },
      cancel: async () => undefined,
      releaseLock: () => undefined,
      closed: Promise.resolve(undefined),
    } as ReadableStreamDefaultReader<Uint8Array>;
  }

  it('reads on, unforwarded, to the terminal event for the usage, waiting for the read in flight', async () => {
    const rest = [chunk(' there'), chunk('!'), USAGE, 'data: [DONE]\n\n'];
    const { body, outcome } = relaySse(
      strictReader(rest, 5),
      encoder.encode(chunk('Hi')),
      options({ drainMs: 1000 }),
    );
    const client = body.getReader();
    expect((await client.read()).done).toBe(false);
    // The relay is now waiting on the upstream: cancelling must not start a second read.
    const pull = client.read();
    await client.cancel();
    await pull;
    expect(await outcome).toMatchObject({
      ended: true,
      usage: { inputTokens: 9, outputTokens: 2 },
    });
  });

  it('cuts the upstream at once without a drain, and reports no usage', async () => {
    const rest = [chunk(' there'), USAGE, 'data: [DONE]\n\n'];
    const { body, outcome } = relaySse(strictReader(rest, 5), encoder.encode(chunk('Hi')), options());
    const client = body.getReader();
    await client.read();
    await client.cancel();
    expect(await outcome).not.toHaveProperty('usage');
  });
});
