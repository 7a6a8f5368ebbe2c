import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../dev/openai-sim/config.ts';

const MAIN = fileURLToPath(new URL('../../dev/openai-sim/main.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Runs the CLI with plain `node` (type stripping, no loader) and resolves with the URL it prints. */
async function startCli(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, SIM_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [line] = (await once(lines, 'line')) as [string];
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
  expect(url, line).toBeDefined();
  return { child, url: url as string };
}

describe('main.ts', () => {
  it('prints its URL, serves requests with env faults, and exits 0 on SIGTERM', async () => {
    const { child, url } = await startCli({
      SIM_FAULTS: '[{"kind":"status","status":418,"endpoint":"/v1/embeddings"}]',
    });
    const auth = { authorization: 'Bearer cli' };
    expect((await fetch(`${url}/v1/models`, { headers: auth })).status).toBe(200);
    const faulted = await fetch(`${url}/v1/embeddings`, {
      method: 'POST',
      headers: auth,
      body: '{"model":"m","input":"x"}',
    });
    expect(faulted.status).toBe(418);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('applies SIM_LATENCY_MS to every request and exits 0 on SIGINT', async () => {
    const { child, url } = await startCli({ SIM_LATENCY_MS: '150' });
    const started = performance.now();
    await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer cli' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});

describe('main.ts with SIM_PROFILE', () => {
  it('runs the realistic profile at SIM_TIME_SCALE: a reasoning model reasons', async () => {
    const { child, url } = await startCli({ SIM_PROFILE: 'realistic', SIM_TIME_SCALE: '0.0001' });
    const res = await fetch(`${url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer cli', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-6-luna', input: 'Name a tent' }),
    });
    const body = (await res.json()) as { usage: { output_tokens_details: { reasoning_tokens: number } } };
    expect(body.usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
});

describe('configFromEnv', () => {
  it('reads SIM_LATENCY_MS and SIM_FAULTS and rejects invalid values', () => {
    expect(configFromEnv({ SIM_LATENCY_MS: '5', SIM_FAULTS: '{"kind":"drop","rate":0.5}' })).toEqual({
      latency_ms: 5,
      faults: [{ kind: 'drop', rate: 0.5 }],
    });
    expect(configFromEnv({})).toEqual({});
    expect(() => configFromEnv({ SIM_FAULTS: '[{"kind":"boom"}]' })).toThrow(/SIM_FAULTS/);
    expect(() => configFromEnv({ SIM_LATENCY_MS: 'soon' })).toThrow(/SIM_LATENCY_MS/);
  });
});
