import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionInterval, peakOverlap } from '../../dev/connection-log.ts';
import { WORKERS_CONNECTION_LIMIT } from '../../lib/connections.ts';
import { type DevGateway, startDevGateway } from '../support/node/dev-gateway.ts';

// `wrangler dev` does not enforce Workers' six simultaneous connections per invocation, so the gateway
// must: this runs one invocation against a bridge and simulator of its own, where every connection
// they see is that invocation's, and counts how many were open at once.
let gateway: DevGateway;

beforeAll(async () => {
  gateway = await startDevGateway({ CREATIVES_BATCH_MAX_ITEMS: '50' });
}, 120_000);
afterAll(() => gateway?.stop());

const json = async (url: string, init: RequestInit = {}) => {
  const res = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const intervalsOf = async (url: string) =>
  ((await json(url)).body as { intervals: ConnectionInterval[] }).intervals;

/** Both servers' intervals once neither has seen a new connection for `quietMs` (waitUntil work done). */
async function settledIntervals(quietMs = 1000) {
  let last = -1;
  for (;;) {
    const [bridge, simulator] = await Promise.all([
      intervalsOf(`${gateway.bridgeUrl}/_bridge/connections`),
      intervalsOf(`${gateway.simulatorUrl}/_sim/connections`),
    ]);
    const open = [...bridge, ...simulator].some(([, end]) => end === null);
    const count = bridge.length + simulator.length;
    if (count === last && !open) return { bridge, simulator };
    last = count;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}

describe("one invocation's outbound connections", () => {
  it('never has more than six open at the simulator and the bridge together, for a 50-item creatives batch', async () => {
    const { body: created } = await json(`${gateway.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.adminKey}` },
      body: JSON.stringify({ name: 'batch' }),
    });
    await Promise.all([
      fetch(`${gateway.bridgeUrl}/_bridge/reset`, { method: 'POST' }),
      fetch(`${gateway.simulatorUrl}/_sim/reset`, { method: 'POST' }),
    ]);
    // Every upstream call takes a while, so without a limit the batch's fan-out would overlap widely
    // (it reached 50 at once before the pool).
    await json(`${gateway.simulatorUrl}/_sim/config`, {
      method: 'POST',
      body: JSON.stringify({ latency_ms: 40 }),
    });
    const items = Array.from({ length: 50 }, (_, n) => ({
      opportunity: { id: `opp_${n}`, product_category: `Trail shoes ${n}`, description: 'Light and quick' },
      target_audience: 'weekend runners',
      brand_voice: 'warm, practical',
      needs_visual: n % 2 === 0,
    }));
    const res = await json(`${gateway.url}/v1/creatives/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.key}` },
      body: JSON.stringify({ items }),
    });
    expect(res.status).toBe(200);
    const results = res.body.results as { ok: boolean }[];
    expect(results.filter((r) => r.ok)).toHaveLength(50);

    const { bridge, simulator } = await settledIntervals();
    // The fan-out really happened: 25 images and their moderations, with Redis around them.
    expect(simulator.length).toBeGreaterThanOrEqual(50);
    expect(bridge.length).toBeGreaterThan(3);
    const peak = peakOverlap([...bridge, ...simulator]);
    expect(peak).toBeLessThanOrEqual(WORKERS_CONNECTION_LIMIT);
    expect(peak).toBeGreaterThan(1);
  }, 120_000);
});

// The same `npm run dev`: docs/local-infrastructure.md runs a cron by hand at wrangler's trigger route.
// `--test-scheduled` is not passed (its middleware would parse every request's URL), so /__scheduled is
// an ordinary path of the gateway.
describe('crons under npm run dev', () => {
  it("run by hand at wrangler's trigger route, answered once the job has run", async () => {
    const res = await fetch(
      `${gateway.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('*/5 * * * *')}`,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    // The five-minute cron is the monitoring check, which logs its outcome.
    for (
      let waited = 0;
      !/"msg":"monitoring checked"/.test(gateway.output()) && waited < 5000;
      waited += 100
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(gateway.output()).toMatch(/"msg":"monitoring checked"/);
    const legacy = await fetch(`${gateway.url}/__scheduled?cron=${encodeURIComponent('*/5 * * * *')}`);
    expect(legacy.status).toBe(401);
  });
});
