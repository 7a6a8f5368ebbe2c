import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import type { ErrorBody } from '../../lib/errors';
import { redisKey } from '../../lib/store';
import { bindings } from '../support/env';
import { freshCaller } from '../support/gateway';
import { captureLogs } from '../support/logs';
import { simConfigure } from '../support/providers';
import { countingClient } from '../support/redis';

const { redis } = countingClient();

describe("OpenAI's rate limits through the HTTP API", () => {
  it('100 concurrent requests against 20 RPM: served or 429/503 with Retry-After, breaker never opened, no early retry', async () => {
    const model = `luna-rpm-${crypto.randomUUID().slice(0, 8)}`;
    const { post, sim } = await freshCaller('/v1/opportunities', {
      MODEL_POLICY: JSON.stringify({ opportunities: { model } }),
      PRICING_OVERRIDES: JSON.stringify({
        [model]: { kind: 'text', inputPerMillion: 0.4, cachedInputPerMillion: 0.1, outputPerMillion: 1.6 },
      }),
      OPENAI_MAX_RETRIES: '3',
      // Backoff far shorter than the waits the 429s name: a retry that ignored them would come early.
      OPENAI_RETRY_BASE_MS: '5',
      OPENAI_CIRCUIT_BREAKER_FAILURES: '3',
    });
    // A minute of 3 s: 20 calls of this model per 3 s, one back every 150 ms.
    await simConfigure(sim, {
      profile: 'realistic',
      time_scale: 0.05,
      rate_limits: { [model]: { rpm: 20 } },
    });

    let answers: { status: number; retryAfter: string | null; code?: string }[] = [];
    const logs = await captureLogs(async () => {
      answers = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const res = await post({ intent: `trail boots ${uniqueWord()}` });
          const code = res.status === 200 ? undefined : (await res.json<ErrorBody>()).error.code;
          return { status: res.status, retryAfter: res.headers.get('retry-after'), code };
        }),
      );
    });

    const served = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(served.length).toBeGreaterThanOrEqual(20);
    for (const a of refused) {
      expect([429, 503]).toContain(a.status);
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
      expect(a.code).not.toBe('provider_unavailable');
    }
    const stats = (await (await fetch(`${bindings.SIMULATOR_URL}/_sim/stats?key=${sim}`)).json()) as {
      faults: Record<string, number>;
      early_retries: number;
    };
    // The limit was really met, and no attempt came back before the wait its 429 named.
    expect(stats.faults.rate_limit_exceeded).toBeGreaterThan(0);
    expect(stats.early_retries).toBe(0);
    // Not once did the breaker open: no failure was logged with it open, and it is not open now.
    const breakerStates = logs.filter((l) => l.msg === 'provider call failed').map((l) => l.breaker);
    expect(breakerStates).not.toContain('open');
    const breaker = await redis.hgetall<Record<string, string>>(redisKey('breaker', `openai:${model}`));
    expect(breaker?.state).toBeUndefined();
  });
});
