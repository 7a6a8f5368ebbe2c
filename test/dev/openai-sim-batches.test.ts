import OpenAI, { type APIError } from 'openai';
import type { Batch } from 'openai/resources/batches';
import type { Response } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import type { SimConfig } from '../../dev/openai-sim/index.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const { control, scopedClient } = useSimulator();

interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

const request = (customId: string, body: Record<string, unknown> = {}) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/responses',
  body: { model: 'gpt-6-luna', input: `Suggest a gift for ${customId}`, ...body },
});

const jsonl = (lines: unknown[]) => lines.map((line) => JSON.stringify(line)).join('\n');

/** A client with its own config, and helpers to run one batch through it. */
async function batchClient(config: SimConfig = {}) {
  const { key, client } = await scopedClient(config);
  const upload = (text: string, name = 'batch.jsonl') =>
    client.files.create({ file: new File([text], name), purpose: 'batch' });
  const start = async (lines: unknown[]) => {
    const file = await upload(jsonl(lines));
    return client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/responses',
      completion_window: '24h',
      metadata: { job: 'test' },
    });
  };
  const lines = async (fileId: string | null | undefined): Promise<OutputLine[]> => {
    if (!fileId) return [];
    const text = await (await client.files.content(fileId)).text();
    return text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as OutputLine);
  };
  return { key, client, upload, start, lines };
}

const ids = (lines: OutputLine[]) => lines.map((line) => line.custom_id);

describe('files', () => {
  it('stores a multipart upload and returns it, its bytes and its deletion', async () => {
    const { client, upload } = await batchClient();
    const text = jsonl([request('a'), request('b')]);
    const file = await upload(text);
    expect(file).toMatchObject({
      object: 'file',
      purpose: 'batch',
      filename: 'batch.jsonl',
      status: 'processed',
    });
    expect(file.bytes).toBe(Buffer.byteLength(text));
    expect(file.id).toMatch(/^file-/);
    await expect(client.files.retrieve(file.id)).resolves.toMatchObject({ id: file.id, bytes: file.bytes });
    expect(await (await client.files.content(file.id)).text()).toBe(text);
    await expect(client.files.delete(file.id)).resolves.toEqual({
      id: file.id,
      object: 'file',
      deleted: true,
    });
    await expect(client.files.retrieve(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('refuses a batch upload that is not .jsonl, and an unknown purpose', async () => {
    const { client, upload } = await batchClient();
    await expect(upload('{}', 'batch.csv')).rejects.toMatchObject({ status: 400, param: 'file' });
    await expect(
      client.files.create({ file: new File(['x'], 'a.jsonl'), purpose: 'nonsense' as 'batch' }),
    ).rejects.toMatchObject({ status: 400, param: 'purpose' });
  });
});

describe('batches', () => {
  it('answers every line with the endpoint handler, in an output file whose order is not the input order', async () => {
    const { client, start, lines } = await batchClient();
    const input = ['a', 'b', 'c', 'd'].map((id) => request(id));
    const created = await start(input);
    expect(created).toMatchObject({
      object: 'batch',
      status: 'validating',
      endpoint: '/v1/responses',
      completion_window: '24h',
      metadata: { job: 'test' },
    });
    const done = await client.batches.retrieve(created.id);
    expect(done).toMatchObject({
      status: 'completed',
      model: 'gpt-6-luna',
      request_counts: { total: 4, completed: 4, failed: 0 },
      error_file_id: null,
    });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    const output = await lines(done.output_file_id);
    expect(ids(output)).toEqual(['d', 'c', 'b', 'a']);
    const bodies = output.map((line) => line.response?.body as unknown as Response);
    for (const line of output) {
      expect(line.id).toMatch(/^batch_req_/);
      expect(line.response).toMatchObject({ status_code: 200, request_id: expect.stringMatching(/^req_/) });
      expect(line.error).toBeNull();
    }
    expect(bodies.every((body) => body.object === 'response' && body.status === 'completed')).toBe(true);
    const sum = (pick: (r: Response) => number) => bodies.reduce((total, body) => total + pick(body), 0);
    expect(done.usage).toEqual({
      input_tokens: sum((r) => r.usage?.input_tokens ?? 0),
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: sum((r) => r.usage?.output_tokens ?? 0),
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: sum((r) => r.usage?.total_tokens ?? 0),
    });
    expect(done.usage?.input_tokens).toBeGreaterThan(0);
  });

  it('answers the same content a synchronous call gets for the same body', async () => {
    const { client, start, lines } = await batchClient();
    const created = await start([request('x', { instructions: 'Be brief.' })]);
    const [line] = await lines((await client.batches.retrieve(created.id)).output_file_id);
    const direct = await client.responses.create({
      model: 'gpt-6-luna',
      instructions: 'Be brief.',
      input: 'Suggest a gift for x',
    });
    const body = line?.response?.body as unknown as Response;
    expect(body.output).toEqual([
      expect.objectContaining({ content: [expect.objectContaining({ text: direct.output_text })] }),
    ]);
  });

  it('puts a line the endpoint rejects in the error file, as the 400 it would get', async () => {
    const { client, start, lines } = await batchClient();
    const created = await start([request('good'), request('bad', { max_output_tokens: 1 })]);
    const done = await client.batches.retrieve(created.id);
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 });
    expect(ids(await lines(done.output_file_id))).toEqual(['good']);
    const [failed] = await lines(done.error_file_id);
    expect(failed).toMatchObject({
      custom_id: 'bad',
      response: {
        status_code: 400,
        body: { error: { param: 'max_output_tokens', type: 'invalid_request_error' } },
      },
      error: null,
    });
  });

  it('fails a batch whose input file does not validate, listing each bad line', async () => {
    const { client, upload } = await batchClient();
    const text = [
      JSON.stringify(request('a')),
      '{not json',
      JSON.stringify(request('a')),
      JSON.stringify({ ...request('b'), url: '/v1/chat/completions' }),
      JSON.stringify({ ...request('c'), method: 'GET' }),
      JSON.stringify({ method: 'POST', url: '/v1/responses', body: {} }),
    ].join('\n');
    const file = await upload(text);
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/responses',
      completion_window: '24h',
    });
    expect(created.status).toBe('validating');
    const failed = await client.batches.retrieve(created.id);
    expect(failed).toMatchObject({ status: 'failed', output_file_id: null, error_file_id: null });
    expect(failed.request_counts).toEqual({ total: 0, completed: 0, failed: 0 });
    expect(failed.failed_at).toEqual(expect.any(Number));
    expect(failed.errors?.data?.map((e) => [e.line, e.code, e.param])).toEqual([
      [2, 'invalid_json_line', null],
      [3, 'duplicate_custom_id', 'custom_id'],
      [4, 'mismatched_endpoint', 'url'],
      [5, 'invalid_method', 'method'],
      [6, 'missing_required_parameter', 'custom_id'],
    ]);
  });

  it('fails an empty input file', async () => {
    const { client, upload } = await batchClient();
    const file = await upload('\n\n');
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/responses',
      completion_window: '24h',
    });
    const failed = await client.batches.retrieve(created.id);
    expect(failed.errors?.data).toEqual([
      { code: 'empty_file', message: 'The batch input file is empty.', param: null, line: null },
    ]);
  });

  it('refuses bad create parameters at once', async () => {
    const { client, upload } = await batchClient();
    const file = await upload(jsonl([request('a')]));
    const create = (body: Record<string, unknown>) =>
      client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/responses',
        completion_window: '24h',
        ...body,
      } as Parameters<typeof client.batches.create>[0]);
    await expect(create({ completion_window: '1h' })).rejects.toMatchObject({
      status: 400,
      param: 'completion_window',
    });
    await expect(create({ endpoint: '/v1/nope' })).rejects.toMatchObject({ status: 400, param: 'endpoint' });
    await expect(create({ input_file_id: 'file-missing' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const tooMuch = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    await expect(create({ metadata: tooMuch })).rejects.toMatchObject({ status: 400, param: 'metadata' });
  });

  it('with outcome failed, fails at the first look with a token-limit error and no output', async () => {
    const { client, start } = await batchClient({ batch: { outcome: 'failed' } });
    const created = await start([request('a')]);
    const failed = await client.batches.retrieve(created.id);
    expect(failed).toMatchObject({ status: 'failed', output_file_id: null });
    expect(failed.errors?.data?.[0]?.code).toBe('token_limit_exceeded');
  });

  it('with outcome expired, expires with half the lines done and the rest as batch_expired errors', async () => {
    const { client, start, lines } = await batchClient({ batch: { outcome: 'expired' } });
    const created = await start(['a', 'b', 'c', 'd', 'e'].map((id) => request(id)));
    const expired = await client.batches.retrieve(created.id);
    expect(expired).toMatchObject({
      status: 'expired',
      request_counts: { total: 5, completed: 2, failed: 3 },
    });
    expect(expired.expired_at).toEqual(expect.any(Number));
    expect(ids(await lines(expired.output_file_id))).toEqual(['b', 'a']);
    const errors = await lines(expired.error_file_id);
    expect(ids(errors)).toEqual(['e', 'd', 'c']);
    expect(errors.every((line) => line.response === null && line.error?.code === 'batch_expired')).toBe(true);
  });

  it('makes progress over duration_ms: in_progress with counts growing, then completed', async () => {
    const config = { batch: { duration_ms: 60_000 } };
    const { key, client, start } = await batchClient(config);
    const created = await start(Array.from({ length: 6 }, (_, i) => request(`r${i}`)));
    // The key's clock is moved on instead of waited for.
    const at = async (clock_offset_ms: number) => {
      await control(`/_sim/config?key=${key}`, { ...config, clock_offset_ms });
      return client.batches.retrieve(created.id);
    };
    const seen: Batch[] = [await client.batches.retrieve(created.id), await at(30_000), await at(60_000)];
    expect(seen.map((b) => b.status)).toEqual(['in_progress', 'in_progress', 'completed']);
    expect(seen.map((b) => b.request_counts?.completed)).toEqual([0, 3, 6]);
    expect(seen[0]?.output_file_id).toBeNull();
    expect(seen[0]?.in_progress_at).toBe(created.created_at);
    expect(seen[1]?.usage?.input_tokens).toBeGreaterThan(0);
  });

  it('cancels: cancelling at once, then cancelled with the lines finished by then', async () => {
    const config = { batch: { duration_ms: 60_000 } };
    const { key, client, start, lines } = await batchClient(config);
    const created = await start(Array.from({ length: 10 }, (_, i) => request(`r${i}`)));
    await control(`/_sim/config?key=${key}`, { ...config, clock_offset_ms: 24_000 });
    const cancelling = await client.batches.cancel(created.id);
    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).toEqual(expect.any(Number));
    const finished = cancelling.request_counts?.completed ?? 0;
    expect(finished).toBe(4);
    // Time passing after the cancel finishes nothing more.
    await control(`/_sim/config?key=${key}`, { ...config, clock_offset_ms: 60_000 });
    const cancelled = await client.batches.retrieve(created.id);
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      request_counts: { total: 10, completed: finished },
    });
    const output = await lines(cancelled.output_file_id);
    expect(ids(output).sort()).toEqual(Array.from({ length: finished }, (_, i) => `r${i}`).sort());
    await expect(client.batches.cancel(created.id)).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('refuses to cancel a batch that has completed: 409', async () => {
    const { client, start } = await batchClient();
    const created = await start([request('a')]);
    const error = await client.batches.cancel(created.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.ConflictError);
    expect((error as APIError).message).toContain("status 'completed'");
  });

  it('lists batches newest first, with cursor pages', async () => {
    const { client, start } = await batchClient();
    const first = await start([request('a')]);
    const second = await start([request('b')]);
    const page = await client.batches.list({ limit: 1 });
    expect(page.data.map((b) => b.id)).toEqual([second.id]);
    expect(page.has_more).toBe(true);
    const next = await page.getNextPage();
    expect(next.data.map((b) => b.id)).toEqual([first.id]);
    expect(next.data[0]?.status).toBe('completed');
  });

  it('counts Files and Batch API requests in the stats, but not the lines a batch runs', async () => {
    const { key, client, start } = await batchClient();
    const created = await start([request('a'), request('b')]);
    await client.batches.retrieve(created.id);
    await client.batches.retrieve(created.id);
    const stats = await control(`/_sim/stats?key=${key}`);
    expect(stats.json.requests).toEqual({ '/v1/files': 1, '/v1/batches': 1, '/v1/batches/{batch_id}': 2 });
  });

  it('applies a fault to a Batch API endpoint named in it', async () => {
    const { client, start } = await batchClient({
      faults: [{ kind: 'status', status: 500, endpoint: '/v1/batches/{batch_id}', times: 1 }],
    });
    const created = await start([request('a')]);
    await expect(client.batches.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(client.batches.retrieve(created.id)).resolves.toMatchObject({ status: 'completed' });
  });
});

describe('batch config', () => {
  it.each([
    [{ batch: { duration_ms: -1 } }, 'batch.duration_ms must be a non-negative number'],
    [{ batch: { outcome: 'exploded' } }, 'batch.outcome must be one of completed, failed, expired'],
    [{ batch: { speed: 2 } }, "batch must be an object with only 'duration_ms' and 'outcome'"],
    [{ batch: 'fast' }, "batch must be an object with only 'duration_ms' and 'outcome'"],
  ])('rejects %j with a clear message', async (config, message) => {
    const answer = await control('/_sim/config?key=batch-config-test', config);
    expect(answer.status).toBe(400);
    expect(answer.json.error?.message).toContain(message);
  });

  it('rejects a negative clock_offset_ms', async () => {
    const answer = await control('/_sim/config?key=batch-config-test', { clock_offset_ms: -5 });
    expect(answer.status).toBe(400);
    expect(answer.json.error?.message).toContain('clock_offset_ms must be a non-negative number');
  });

  it('accepts and echoes a valid batch config', async () => {
    const answer = await control('/_sim/config?key=batch-config-ok', {
      batch: { duration_ms: 5, outcome: 'expired' },
    });
    expect(answer.json.config).toEqual({ batch: { duration_ms: 5, outcome: 'expired' } });
  });
});
