import { describe, expect, it } from 'vitest';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { createLogger } from '../../lib/log';
import { writeMetrics } from '../../lib/metrics/store';
import { summarize } from '../../lib/metrics/summary';
import { breaches, monitor } from '../../lib/monitoring';
import { envWith } from '../support/env';

/** The `t|task|…` counters of `calls` calls of `task` with `input` tokens, `cached` of them from the cache. */
const taskFields = (task: string, calls: number, input: number, cached: number): [string, number][] => [
  [`t|${task}|n`, calls],
  [`t|${task}|in`, input],
  [`t|${task}|cached`, cached],
  [`t|${task}|out`, calls * 100],
];

const envOf = (overrides: Record<string, unknown> = {}) =>
  parseEnv(envWith({ METRICS_NAMESPACE: `t-${crypto.randomUUID().slice(0, 12)}`, ...overrides }));

describe('cached share alert', () => {
  const window = summarize([
    {
      minute: 1,
      fields: Object.fromEntries([
        ...taskFields('creative', 25, 50_000, 15_000), // 30 %, enough calls: alerts
        ...taskFields('creatives', 19, 50_000, 0), // 0 %, one call short of the minimum
        ...taskFields('opportunities', 40, 50_000, 40_000), // 80 %
        ...taskFields('image_analysis', 30, 50_000, 0), // 0 %, but its prompt is never cached: no alert
      ]),
    },
  ]);

  it('fires per task whose cached share is below MONITOR_CACHED_SHARE after enough calls of that task', () => {
    const found = breaches(window, envOf(), []);
    expect(found).toEqual([
      {
        name: 'cached_share:creative',
        message: expect.stringMatching(
          /creative: 30\.0 % of its input tokens .* \(25 calls\), below 50\.0 %/,
        ),
        value: 0.3,
        threshold: 0.5,
      },
    ]);
  });

  it('follows its settings: a lower minimum of calls, a lower floor, or 0 to turn it off', () => {
    const names = (overrides: Record<string, unknown>) =>
      breaches(window, envOf(overrides), []).map((b) => b.name);
    expect(names({ MONITOR_CACHED_SHARE_MIN_CALLS: '19' })).toEqual([
      'cached_share:creative',
      'cached_share:creatives',
    ]);
    expect(names({ MONITOR_CACHED_SHARE: '0.3' })).toEqual([]);
    expect(names({ MONITOR_CACHED_SHARE: '0', MONITOR_CACHED_SHARE_MIN_CALLS: '1' })).toEqual([]);
  });

  it('is sent once per cooldown by the monitoring run, from the window in Redis', async () => {
    const env = envOf({ ALERT_WEBHOOK_URL: 'https://hooks.example/alerts' });
    const sent: Record<string, unknown>[] = [];
    const built = createDeps(env);
    const deps = {
      ...built,
      providers: built.providers(),
      log: createLogger({ level: 'error' }),
      fetch: async (_url: RequestInfo | URL, init?: RequestInit) => {
        sent.push(JSON.parse(String(init?.body)));
        return new Response('ok');
      },
    };
    const fields = new Map(taskFields('opportunities', 20, 10_000, 1_000));
    const store = { namespace: env.METRICS_NAMESPACE, retentionDays: 1 };
    await writeMetrics(deps.redis, store, deps.now(), fields, (err) => {
      throw err;
    });
    expect((await monitor(deps, env)).map((b) => b.name)).toEqual(['cached_share:opportunities']);
    expect(sent).toEqual([
      expect.objectContaining({ alert: 'monitoring', target: 'cached_share:opportunities', value: 0.1 }),
    ]);
    expect(await monitor(deps, env)).toEqual([]);
    expect(sent).toHaveLength(1);
  });
});
