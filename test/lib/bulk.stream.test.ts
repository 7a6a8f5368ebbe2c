import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { stageLines } from '../../lib/bulk/stage';
import { createStagedLines } from '../../lib/bulk/staged-lines';
import { linesOf } from '../../lib/bulk/stream-lines';
import { uploadInputFile, utf8Length } from '../../lib/bulk/upload';
import { bindings } from '../support/env';
import { simKey, simRequests } from '../support/providers';
import { countingClient } from '../support/redis';

const encoder = new TextEncoder();
/** Text whose characters take 1, 2, 3 and 4 bytes of UTF-8. */
const MIXED = 'boots, café, 雨靴 and 🥾 for the hills';

/** A byte stream (as fetch's bodies are) yielding `text` in pieces of `size` bytes, splitting characters. */
function bytes(text: string, size: number, onCancel: () => void = () => undefined) {
  const all = encoder.encode(text);
  let at = 0;
  return new ReadableStream({
    type: 'bytes',
    pull(controller) {
      if (at >= all.length) return controller.close();
      controller.enqueue(all.slice(at, at + size));
      at += size;
    },
    cancel: onCancel,
  });
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('linesOf', () => {
  it.each([1, 5, 64, 1 << 20])(
    'yields each line whole, in %i-byte pieces, multi-byte characters included',
    async (size) => {
      const text = `{"a":"${MIXED}"}\n\n{"b":2}\nlast line, no newline ${MIXED}`;
      expect(await collect(linesOf(bytes(text, size)))).toEqual([
        `{"a":"${MIXED}"}`,
        '',
        '{"b":2}',
        `last line, no newline ${MIXED}`,
      ]);
    },
  );

  it('reads a stream that is not a byte stream chunk by chunk', async () => {
    const chunks = ['a\nb', 'c\n', 'd'];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(encoder.encode(next));
      },
    });
    expect(await collect(linesOf(stream))).toEqual(['a', 'bc', 'd']);
  });

  it('cancels the download when the reader stops early', async () => {
    let cancelled = false;
    const text = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n');
    for await (const line of linesOf(
      bytes(text, 100, () => {
        cancelled = true;
      }),
    )) {
      if (line === 'line 3') break;
    }
    expect(cancelled).toBe(true);
  });
});

describe('uploadInputFile', () => {
  it('counts UTF-8 exactly as TextEncoder writes it, lone surrogates included', () => {
    for (const text of ['', 'ascii', MIXED, '\ud83e', 'x\udd7ey', '🥾🥾\ud800']) {
      expect(utf8Length(text)).toBe(encoder.encode(text).length);
    }
  });

  it('streams the lines as one batch file the provider reads back byte for byte', async () => {
    const key = simKey();
    const client = new OpenAI({ apiKey: key, baseURL: `${bindings.SIMULATOR_URL}/v1`, maxRetries: 0 });
    // Past one 64 KB write, with characters of every width.
    const lines = () =>
      Array.from({ length: 2000 }, (_, i) => `${JSON.stringify({ custom_id: String(i), note: MIXED })}\n`);
    const file = await uploadInputFile(client, 'job.jsonl', lines);
    expect(file).toMatchObject({
      purpose: 'batch',
      filename: 'job.jsonl',
      bytes: utf8Length(lines().join('')),
    });
    expect(await (await client.files.content(file.id)).text()).toBe(lines().join(''));
    expect(await simRequests(key)).toMatchObject({ '/v1/files': 1 });
  });
});

describe('stageLines', () => {
  /** A batch output line for item `index` whose answer is `text`. */
  const outputLine = (index: number, text: string) =>
    JSON.stringify({
      id: `batch_req_${index}`,
      custom_id: String(index),
      response: {
        status_code: 200,
        body: {
          status: 'completed',
          output: [{ type: 'message', content: [{ type: 'output_text', text }] }],
          usage: { input_tokens: 10, output_tokens: 5 },
        },
      },
      error: null,
    });

  it('stages both files as they download, in requests under 1 MB, keeping only the job own items', async () => {
    const { redis, requests } = countingClient();
    const lines = createStagedLines(redis, { ttlSeconds: 60 });
    const id = `bjob_${crypto.randomUUID().replaceAll('-', '')}`;
    const answer = `{"copy":"${'Dry feet all autumn. '.repeat(60)}"}`; // ~1.3 KB a line
    const output = `${Array.from({ length: 1500 }, (_, i) => outputLine(i, answer)).join('\n')}\n${outputLine(7777, 'stray')}\nnot json\n`;
    const errors = JSON.stringify({
      custom_id: '1500',
      response: null,
      error: { code: 'batch_expired', message: 'x' },
    });
    const files: Record<string, string> = { out: output, err: errors };
    const staged = await stageLines(
      { lines, download: async (fileId) => bytes(files[fileId] as string, 4096) },
      id,
      1501,
      { output_file_id: 'out', error_file_id: 'err' },
    );
    expect(staged).toBe(1501);
    // ~2 MB of outcomes: several writes, each within Upstash's request limit.
    const writes = requests.filter((r) => r.some((command) => (command as string[])[0] === 'hset'));
    expect(writes.length).toBeGreaterThanOrEqual(4);
    for (const write of writes) expect(JSON.stringify(write).length).toBeLessThan(1_000_000);
    const [first, , last] = await lines.read(id, 0, 3);
    expect(first).toEqual({
      text: answer,
      usage: { inputTokens: 10, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 5, reasoningTokens: 0 },
    });
    expect(last).toMatchObject({ text: answer });
    expect(await lines.read(id, 1500, 1502)).toEqual([
      { error: { type: 'api_error', code: 'batch_expired', message: 'x' }, usage: expect.any(Object) },
      null,
    ]);
    await lines.clear(id);
    expect(await lines.read(id, 0, 1)).toEqual([null]);
  });
});
