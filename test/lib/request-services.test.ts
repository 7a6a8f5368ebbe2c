import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../lib/app';
import { createDeps } from '../../lib/deps';
import { servedHeaders } from '../../lib/providers';
import { servicesOf } from '../../lib/request-services';
import { envWith } from '../support/env';
import { simConfigure, simKey, simRequests } from '../support/providers';

/** An endpoint shaped like the real ones: providers from the request's env, served-by headers. */
function appWithEndpoint() {
  const app = createApp(createDeps);
  app.get('/try', async (c) => {
    const result = await servicesOf(c)
      .providers()
      .structured({
        name: 'answer',
        schema: z.object({ answer: z.string().max(40) }),
        instructions: 'Answer briefly.',
        input: 'Which boots for rain?',
        maxOutputTokens: 200,
      });
    return c.json(result.data, 200, servedHeaders(result));
  });
  return app;
}

async function get(env: Cloudflare.Env) {
  const ctx = createExecutionContext();
  const res = await appWithEndpoint().request('/try', {}, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('providersFor', () => {
  it('serves from OpenAI with the configured text model and says so in headers', async () => {
    const res = await get(envWith({ OPENAI_API_KEY: simKey(), OPENAI_TEXT_MODEL: 'gpt-4.1-mini' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('openai');
    expect(res.headers.get('x-gateway-model')).toBe('gpt-4.1-mini');
    expect(z.object({ answer: z.string() }).parse(await res.json()).answer.length).toBeGreaterThan(0);
  });

  it('falls back to a configured backup when OpenAI fails, honouring the env retry settings', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    await simConfigure(primaryKey, { faults: [{ kind: 'status', status: 500 }] });
    const name = `gemini-${crypto.randomUUID().slice(0, 6)}`;
    const env = envWith({
      OPENAI_API_KEY: primaryKey,
      // A fresh model name gives this test its own breaker in the shared Redis.
      OPENAI_TEXT_MODEL: `gpt-6-luna-${crypto.randomUUID().slice(0, 6)}`,
      OPENAI_MAX_RETRIES: '1',
      OPENAI_RETRY_BASE_MS: '0',
      BACKUP_PROVIDERS: JSON.stringify([
        {
          name,
          base_url: `${envWith({}).OPENAI_BASE_URL}`,
          api_key_env: 'GEMINI_API_KEY',
          structured_outputs: true,
          models: { text: 'gemini-2.5-flash' },
        },
      ]),
      GEMINI_API_KEY: backupKey,
    });
    const res = await get(env);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe(name);
    expect(res.headers.get('x-gateway-model')).toBe('gemini-2.5-flash');
  });

  it('renders 503 provider_unavailable when the only provider has no quota left', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 429, code: 'insufficient_quota' }] });
    const res = await get(
      envWith({ OPENAI_API_KEY: key, OPENAI_TEXT_MODEL: `m-${crypto.randomUUID().slice(0, 6)}` }),
    );
    expect(res.status).toBe(503);
    const body = await res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('provider_unavailable');
    expect(body.error.message).not.toContain(key);
  });

  it('holds the whole gateway to OPENAI_RATE_LIMIT_RPM: 429 upstream_capacity, no upstream call', async () => {
    const key = simKey();
    const env = envWith({ OPENAI_API_KEY: key, OPENAI_RATE_LIMIT_RPM: '2' });
    expect((await get(env)).status).toBe(200);
    expect((await get(env)).status).toBe(200);
    const res = await get(env);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('upstream_capacity');
    expect((await simRequests(key))['/v1/responses']).toBe(2);
  });
});
