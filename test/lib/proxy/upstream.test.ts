import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { createConnectionPool } from '../../../lib/connections';
import { parseEnv } from '../../../lib/env';
import { attemptTarget, createProviderTargets, type ProviderTarget } from '../../../lib/providers/targets';
import { postJson } from '../../../lib/proxy/upstream';
import { envWith } from '../../support/env';
import { simConfigure, simKey } from '../../support/providers';

const CHAT = { messages: [{ role: 'user', content: 'Suggest a gift for a ski weekend.' }] };
const MODEL = 'gpt-6-luna';

/** The primary as a proxied call's attempt uses it (pooled, with its timeout and a request id), and the same through the SDK. */
function targets(overrides: Record<string, unknown> = {}) {
  const sim = simKey();
  const env = parseEnv(envWith({ OPENAI_API_KEY: sim, ...overrides }));
  const [primary] = createProviderTargets(env, createConnectionPool());
  if (!primary) throw new Error('no primary');
  const { target } = attemptTarget(primary, 'text', 'req_upstream_test');
  const viaSdk: ProviderTarget = { ...target, client: target.client, endpoint: undefined };
  return { sim, raw: target, viaSdk };
}

/** What the router reads of a failure. */
async function failureOf(call: Promise<unknown>) {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof APIError)) throw new Error(`expected an APIError, got ${String(err)}`);
  return {
    class: err.constructor.name,
    status: err.status,
    type: err.type,
    code: err.code,
    param: err.param,
    message: err.message,
    retryAfter: err.headers?.get('retry-after') ?? null,
  };
}

describe('a proxied call sent without the SDK client', () => {
  it('answers as the SDK would, the body untouched', async () => {
    const { raw } = targets();
    const { text, json } = await postJson(raw, '/chat/completions', CHAT, MODEL);
    expect(json).toMatchObject({ object: 'chat.completion', model: expect.stringContaining('gpt-6-luna') });
    expect(JSON.parse(text)).toEqual(json);
  });

  it.each([
    ['a rate limit with retry-after', { kind: 'status', status: 429, retry_after_s: 7 }],
    ['an exhausted quota', { kind: 'status', status: 429, code: 'insufficient_quota' }],
    ['a server error', { kind: 'status', status: 503 }],
    ['a timeout', { kind: 'timeout' }],
  ])('fails on %s with the error the SDK throws, field for field', async (_, fault) => {
    const { sim, raw, viaSdk } = targets({ OPENAI_TIMEOUT_SECONDS: '1' });
    await simConfigure(sim, { faults: [{ ...fault, endpoint: '/v1/chat/completions' }] });
    const mine = await failureOf(postJson(raw, '/chat/completions', CHAT, MODEL));
    expect(mine).toEqual(await failureOf(postJson(viaSdk, '/chat/completions', CHAT, MODEL)));
    expect(mine.class).not.toBe('APIError');
  });

  it("passes a provider's 400 on with its type, code and param, as the SDK reads it", async () => {
    const { raw, viaSdk } = targets();
    const bad = { messages: [] };
    const mine = await failureOf(postJson(raw, '/chat/completions', bad, MODEL));
    expect(mine).toEqual(await failureOf(postJson(viaSdk, '/chat/completions', bad, MODEL)));
    expect(mine).toMatchObject({ class: 'BadRequestError', status: 400, param: 'messages' });
  });

  it('fails on an unreachable provider with a connection error, as the SDK does', async () => {
    const { raw, viaSdk } = targets({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const mine = await failureOf(postJson(raw, '/chat/completions', CHAT, MODEL));
    expect(mine).toEqual(await failureOf(postJson(viaSdk, '/chat/completions', CHAT, MODEL)));
    expect(mine.class).toBe('APIConnectionError');
  });
});
