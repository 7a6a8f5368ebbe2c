/**
 * Bad input: the malformed corpus (bad-input-corpus.ts) against every route, the OpenAI-compatible
 * proxy's included. Each request must get a typed 4xx (`{"error":{type,code,message,request_id}}`), none
 * a 5xx, none may reach the simulator (its stats for the gateway's keys stay unchanged) and none may spend
 * (the ledger stays unchanged). Then a flood of unauthenticated requests (unauth-flood.ts) must get 401
 * each and cost Redis no write, under the same ledger. Last, valid requests carrying the same injection
 * and unicode payloads in every free-text field must get normal handling: a 200 or a typed 4xx (say a
 * moderation refusal), never a 5xx.
 */
import { pool } from '../lib/client.ts';
import { type BadCase, badInputCorpus, invalidUtf8 } from './bad-input-corpus.ts';
import { INJECTIONS, TINY_PNG, UNICODE } from './bad-input-routes.ts';
import { type Drill, type DrillStack, gw, readBudget, simRequests, sleep } from './harness.ts';
import { isTypedError, type Reply, send, sendRaw } from './http.ts';
import { type FloodResult, floodLosses, unauthenticatedFlood } from './unauth-flood.ts';

const round = (usd: number) => Math.round(usd * 1e9) / 1e9;

/** Sends one corpus case as it is described. */
export function sendCase(stack: DrillStack, c: BadCase): Promise<Reply> {
  if (c.rawHeaderLines) {
    const body = typeof c.body === 'string' ? new TextEncoder().encode(c.body) : c.body;
    return sendRaw(stack.gatewayUrl, { method: c.method, path: c.path, headerLines: c.rawHeaderLines, body });
  }
  return send(`${stack.gatewayUrl}${c.path}`, { method: c.method, headers: c.headers, body: c.body });
}

/** What a malformed case got, judged: `fault` names what is wrong, if anything. */
function judge(c: BadCase, r: Reply): 'server_error' | 'no_answer' | 'accepted' | 'untyped_error' | null {
  if (r.status === 0) return 'no_answer';
  if (r.status >= 500) return 'server_error';
  if (r.status < 400) return 'accepted';
  // A rejection by the HTTP layer (no x-request-id: the Worker never ran) needs no gateway body.
  const fromGateway = !c.platform || r.headers.has('x-request-id');
  if (fromGateway && !isTypedError(r.body)) return 'untyped_error';
  return null;
}

export const badInputDrill: Drill = async ({ stack, scale, log }) => {
  const client = await stack.createKey();
  const revoked = await revokedKey(stack);
  const corpus = badInputCorpus({ client, admin: stack.adminKey, revoked });
  log(
    `bad-input: ${corpus.length} malformed requests over ${new Set(corpus.map((c) => c.route)).size} routes`,
  );
  const before = await ledger(stack, client);
  const replies = await pool(corpus, 6, (c) => sendCase(stack, c));
  const flood = await unauthenticatedFlood(stack, { requests: Math.max(200, Math.round(4000 * scale)), log });
  await sleep(1000);
  const after = await ledger(stack, client);
  const slowest = corpus.reduce(
    (worst, c, i) =>
      (replies[i] as Reply).ms > worst.ms ? { id: c.id, ms: (replies[i] as Reply).ms } : worst,
    { id: '', ms: 0 },
  );
  log(`bad-input: slowest answer ${slowest.ms} ms (${slowest.id})`);

  const faults: Record<string, string[]> = {};
  const unexpected: string[] = [];
  const statuses: Record<string, number> = {};
  corpus.forEach((c, i) => {
    const r = replies[i] as Reply;
    const code = isTypedError(r.body) ? r.body.error.code : 'untyped';
    statuses[`${r.status} ${code}`] = (statuses[`${r.status} ${code}`] ?? 0) + 1;
    const fault = judge(c, r);
    if (fault) {
      faults[fault] = [...(faults[fault] ?? []), `${c.id} → ${r.status} ${r.error ?? r.text.slice(0, 80)}`];
    } else if (!c.expect.includes(r.status)) {
      unexpected.push(`${c.id} → ${r.status} ${code}`);
    }
  });

  const odd = await validOddInputs(stack, client);
  const oddFaults = odd.filter(
    ({ reply }) =>
      reply.status >= 500 || reply.status === 0 || (reply.status >= 400 && !isTypedError(reply.body)),
  );
  const lost = {
    server_errors_5xx: faults.server_error?.length ?? 0,
    no_answer: faults.no_answer?.length ?? 0,
    accepted_malformed: faults.accepted?.length ?? 0,
    untyped_errors: faults.untyped_error?.length ?? 0,
    upstream_calls: after.upstream - before.upstream,
    spend_usd: round(after.spent - before.spent + after.reserved - before.reserved),
    valid_odd_inputs_failed: oddFaults.length,
    ...floodLosses(flood),
  };
  const findings = Object.entries(faults).map(
    ([fault, list]) =>
      `${list.length} × ${fault}: ${list.slice(0, 5).join('; ')}${list.length > 5 ? '; …' : ''}`,
  );
  if (oddFaults.length) {
    findings.push(
      `valid odd inputs answered badly: ${oddFaults.map((o) => `${o.label} → ${o.reply.status}`).join('; ')}`,
    );
  }
  findings.push(...floodFindings(flood));
  if (unexpected.length) {
    findings.push(
      `${unexpected.length} typed 4xx other than expected (harmless, listed): ${unexpected.slice(0, 8).join('; ')}`,
    );
  }
  const rejected = corpus.length - Object.values(faults).reduce((n, list) => n + list.length, 0);
  const oddStatuses: Record<string, number> = {};
  for (const { reply } of odd) {
    const label = `${reply.status}${isTypedError(reply.body) ? ` ${reply.body.error.code}` : ''}`;
    oddStatuses[label] = (oddStatuses[label] ?? 0) + 1;
  }
  return {
    name: 'bad-input',
    title: `Bad input: ${corpus.length} malformed requests, ${flood.requests} unauthenticated`,
    ok: Object.values(lost).every((n) => n === 0),
    verdict:
      `${rejected}/${corpus.length} got a typed 4xx, ${lost.upstream_calls} upstream calls, ${lost.spend_usd} USD spent; ` +
      `${flood.requests - flood.wrong_count - flood.unchecked}/${flood.requests} unauthenticated got 401 ` +
      `${flood.unchecked ? `(${flood.unchecked} a 503: Redis too slow to check the key) ` : ''}` +
      `with ${lost.flood_redis_writes} Redis writes ` +
      `(key lookups a request: ${floodLookups(flood)}); ` +
      `${odd.length - oddFaults.length}/${odd.length} valid injection-bearing requests handled normally`,
    lost,
    figures: {
      corpus: corpus.length,
      routes: [...new Set(corpus.map((c) => c.route))],
      by_status: statuses,
      unexpected_status: unexpected,
      slowest: corpus
        .map((c, i) => ({ id: c.id, ms: (replies[i] as Reply).ms }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 8),
      valid_odd_inputs: odd.length,
      valid_odd_by_status: oddStatuses,
      flood,
    },
    findings,
  };
};

/** "none 0, malformed 0, unknown 1, revoked 1". */
const floodLookups = (flood: FloodResult) =>
  Object.entries(flood.phases)
    .map(([kind, phase]) => `${kind} ${phase.redis.key_lookups_per_request}`)
    .join(', ');

function floodFindings(flood: FloodResult): string[] {
  const findings: string[] = [];
  if (flood.wrong_count) {
    findings.push(`flood: ${flood.wrong_count} answers other than 401: ${flood.wrong.join('; ')}`);
  }
  if (flood.unchecked) {
    findings.push(
      `flood: ${flood.unchecked} key lookups outlasted REDIS_TIMEOUT_MS under the flood's load and were ` +
        'refused closed with 503 store_unavailable (no write); the rest got 401',
    );
  }
  for (const [kind, phase] of Object.entries(flood.phases)) {
    if (phase.redis.writes) findings.push(`flood: ${kind} keys cost Redis writes: ${commands(phase.redis)}`);
  }
  const first = flood.revoked_first_request;
  if (first.writes) {
    findings.push(
      `the first request of a key revoked after this isolate served it (answered ${first.status}) costs ` +
        `Redis writes: ${commands(first)} (its rate limit and a cache lease, freed at once); it is then ` +
        "forgotten: the flood's revoked phase shows what the later ones cost",
    );
  }
  return findings;
}

const commands = (cost: { by_command: Record<string, { calls: number; kind: string }> }) =>
  Object.entries(cost.by_command)
    .map(([name, c]) => `${name} × ${c.calls} (${c.kind})`)
    .join(', ');

async function revokedKey(stack: DrillStack): Promise<string> {
  const created = await gw(stack, '/admin/keys', { key: stack.adminKey, body: { name: 'drill-revoked' } });
  const { id, key } = created.body as { id: string; key: string };
  await gw(stack, `/admin/keys/${id}`, { method: 'DELETE', key: stack.adminKey });
  return key;
}

/** Upstream requests (both simulator keys) and the ledger (gateway and key), to compare. */
async function ledger(stack: DrillStack, key: string) {
  const keys = [stack.simKeys.primary, stack.simKeys.backup].filter((k): k is string => k !== undefined);
  const upstream = (await Promise.all(keys.map((k) => simRequests(stack, k)))).reduce((a, b) => a + b, 0);
  const budget = await readBudget(stack, key);
  return {
    upstream,
    spent: budget.spent_usd + (budget.key?.spent_usd ?? 0),
    reserved: budget.reserved_usd + (budget.key?.reserved_usd ?? 0),
  };
}

/** Valid requests whose free-text fields carry injection and unicode payloads: normal handling expected. */
async function validOddInputs(stack: DrillStack, key: string) {
  const payloads = Object.entries({ ...INJECTIONS, ...UNICODE });
  const asks: { label: string; path: string; body: unknown }[] = [];
  for (const [name, text] of payloads) {
    asks.push({
      label: `opportunities intent ${name}`,
      path: '/v1/opportunities',
      body: { intent: `boots ${text}`, context: { region: text, audience_segment: text, hints: [text] } },
    });
    asks.push({ label: `moderate text ${name}`, path: '/v1/moderate', body: { text } });
    asks.push({
      label: `creatives ${name}`,
      path: '/v1/creatives',
      body: {
        opportunity: {
          id: text.slice(0, 64),
          product_category: `boots ${text}`.slice(0, 60),
          description: `boots ${text}`,
        },
        target_audience: `hikers ${text}`,
        brand_voice: `warm ${text}`,
        needs_visual: false,
      },
    });
  }
  asks.push({
    label: 'match with payload ids and texts',
    path: '/v1/match',
    body: {
      intent: INJECTIONS.prompt,
      candidates: payloads.map(([name, text]) => ({ id: `${name} ${text}`, text })),
    },
  });
  asks.push({
    label: 'images/analyze context',
    path: '/v1/images/analyze',
    body: { image_url: TINY_PNG, context: INJECTIONS.html },
  });
  const replies = await pool(asks, 4, (a) => gw(stack, a.path, { key, body: a.body, timeoutMs: 60_000 }));
  const utf8 = await send(`${stack.gatewayUrl}/v1/opportunities`, {
    key,
    headers: { 'content-type': 'application/json' },
    body: invalidUtf8(JSON.stringify({ intent: 'boots for a rainy trip' })),
  });
  return [
    ...asks.map((a, i) => ({ label: a.label, reply: replies[i] as Reply })),
    { label: 'opportunities with invalid UTF-8 bytes in the intent', reply: utf8 },
  ];
}
