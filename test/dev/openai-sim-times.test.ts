import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configFromEnv } from '../../dev/openai-sim/config.ts';
import { type SimFault, startSimulator } from '../../dev/openai-sim/index.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const Answer = z.object({ title: z.string().max(30), score: z.number().min(0).max(1) });

const sim = useSimulator();
const { control, clientFor } = sim;

/** A fresh key whose scoped config holds `faults`, and a client for it. */
const scopedClient = (...faults: SimFault[]) => sim.scopedClient({ faults });

/** The HTTP status of one chat call: 200, or the status of the APIError it threw. */
async function chatStatus(client: OpenAI, headers?: Record<string, string>): Promise<number> {
  return client.chat.completions
    .create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Name a tent' }] }, { headers })
    .then(
      () => 200,
      (error: unknown) => (error instanceof OpenAI.APIError ? (error.status ?? -1) : -1),
    );
}

async function statuses(client: OpenAI, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) out.push(await chatStatus(client));
  return out;
}

const remainingOf = async (key: string) =>
  (await control(`/_sim/config?key=${key}`)).json.config?.faults?.map((fault) => fault.remaining);

describe('faults with times', () => {
  it('answers 503 to the first three calls, then recovers and lists the fault with remaining 0', async () => {
    const fault: SimFault = { kind: 'status', status: 503, times: 3 };
    const { key, client } = await scopedClient(fault);
    expect(await statuses(client, 5)).toEqual([503, 503, 503, 200, 200]);
    expect((await control(`/_sim/config?key=${key}`)).json.config).toEqual({
      faults: [{ ...fault, remaining: 0 }],
    });
    expect((await control(`/_sim/stats?key=${key}`)).json.faults).toEqual({ status: 3 });
  });

  it('breaks the schema on the first call and lets the repair call parse', async () => {
    const { client } = await scopedClient({ kind: 'schema_violation', times: 1 });
    const parse = () =>
      client.chat.completions.parse({
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'Rate the trail shoe' }],
        response_format: zodResponseFormat(Answer, 'answer'),
      });
    await expect(parse()).rejects.toThrow();
    const repaired = await parse();
    expect(Answer.parse(repaired.choices[0]?.message.parsed)).toEqual(repaired.choices[0]?.message.parsed);
  });

  it('reports remaining uses and restarts the count when the config is replaced', async () => {
    const { key, client } = await scopedClient({ kind: 'status', status: 500, times: 2 });
    expect(await remainingOf(key)).toEqual([2]);
    await chatStatus(client);
    expect(await remainingOf(key)).toEqual([1]);
    await control(`/_sim/config?key=${key}`, { faults: [{ kind: 'status', status: 500, times: 2 }] });
    expect(await remainingOf(key)).toEqual([2]);
    expect(await statuses(client, 3)).toEqual([500, 500, 200]);
  });

  it('falls through to the next fault once spent', async () => {
    const { client } = await scopedClient(
      { kind: 'status', status: 503, times: 1 },
      { kind: 'status', status: 502 },
    );
    expect(await statuses(client, 3)).toEqual([503, 502, 502]);
  });

  it('is not used by requests it does not match, cannot apply to, or loses the rate roll on', async () => {
    const { key, client } = await scopedClient(
      { kind: 'status', status: 500, endpoint: '/v1/embeddings', times: 1 },
      { kind: 'schema_violation', times: 1 },
      { kind: 'status', status: 418, rate: 0, times: 1 },
    );
    expect(await statuses(client, 2)).toEqual([200, 200]);
    expect(await remainingOf(key)).toEqual([1, 1, 1]);
    const embed = () => client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    await expect(embed()).rejects.toMatchObject({ status: 500 });
    await expect(embed()).resolves.toMatchObject({ object: 'list' });
    expect(await remainingOf(key)).toEqual([0, 1, 1]);
  });

  it('counts per scope: each key its own, keys without a scope share the global count', async () => {
    const fault: SimFault = { kind: 'status', status: 503, times: 1 };
    const a = await scopedClient(fault);
    const b = await scopedClient(fault);
    await control('/_sim/config', { faults: [fault] });
    expect(await chatStatus(a.client)).toBe(503);
    expect(await chatStatus(b.client)).toBe(503);
    expect(await chatStatus(a.client)).toBe(200);
    expect(await chatStatus(clientFor(`global-${randomUUID()}`))).toBe(503);
    expect(await chatStatus(clientFor(`global-${randomUUID()}`))).toBe(200);
    expect((await control('/_sim/config')).json.config?.faults).toEqual([{ ...fault, remaining: 0 }]);
  });

  it('never hands out more uses than times to concurrent requests', async () => {
    const { client } = await scopedClient({ kind: 'status', status: 503, times: 3 });
    const results = await Promise.all(Array.from({ length: 12 }, () => chatStatus(client)));
    expect(results.filter((status) => status === 503)).toHaveLength(3);
    expect(results.filter((status) => status === 200)).toHaveLength(9);
  });

  it('keeps applying a fault without times and lists it without remaining', async () => {
    const { key, client } = await scopedClient({ kind: 'status', status: 502 });
    expect(await statuses(client, 4)).toEqual([502, 502, 502, 502]);
    expect((await control(`/_sim/config?key=${key}`)).json.config?.faults).toEqual([
      { kind: 'status', status: 502 },
    ]);
  });

  it('applies an x-sim-fault header with times to every request that carries it', async () => {
    const client = clientFor(`hdr-${randomUUID()}`);
    const header = { 'x-sim-fault': JSON.stringify({ kind: 'status', status: 502, times: 1 }) };
    expect(await chatStatus(client, header)).toBe(502);
    expect(await chatStatus(client, header)).toBe(502);
    expect(await chatStatus(client)).toBe(200);
  });
});

describe('times in a run config', () => {
  it('starts counting from the run config and restarts on reset', async () => {
    const own = await startSimulator({ config: { faults: [{ kind: 'status', status: 503, times: 2 }] } });
    try {
      const client = new OpenAI({ apiKey: 'run', baseURL: `${own.url}/v1`, maxRetries: 0 });
      expect(await statuses(client, 3)).toEqual([503, 503, 200]);
      await fetch(`${own.url}/_sim/reset`, { method: 'POST' });
      expect(await statuses(client, 3)).toEqual([503, 503, 200]);
    } finally {
      await own.close();
    }
  });

  it('reads times from SIM_FAULTS and rejects a bad one', () => {
    expect(configFromEnv({ SIM_FAULTS: '[{"kind":"refusal","times":2}]' })).toEqual({
      faults: [{ kind: 'refusal', times: 2 }],
    });
    expect(() => configFromEnv({ SIM_FAULTS: '{"kind":"refusal","times":0}' })).toThrow(
      /SIM_FAULTS: faults\[0\]: times must be a positive integer/,
    );
  });
});

describe('times validation', () => {
  it.each([0, -1, 1.5, '2', null])('rejects times %j in POST /_sim/config', async (times) => {
    const answer = await control('/_sim/config', { faults: [{ kind: 'status', times }] });
    expect(answer.status).toBe(400);
    expect(answer.json.error?.message).toMatch(/faults\[0\]: times must be a positive integer/);
  });

  it('rejects remaining on input, so a spent fault cannot be posted back as spent', async () => {
    const answer = await control('/_sim/config', { faults: [{ kind: 'status', times: 2, remaining: 0 }] });
    expect(answer.status).toBe(400);
    expect(answer.json.error?.message).toMatch(/'remaining' is reported by GET \/_sim\/config/);
  });

  it('rejects an x-sim-fault header with a bad times as a 400 on that param', async () => {
    const error = await clientFor(`hdr-${randomUUID()}`)
      .chat.completions.create(
        { model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-sim-fault': '{"kind":"status","times":0}' } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ param: 'x-sim-fault', message: expect.stringMatching(/times/) });
  });
});
