import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app-env';
import type { Held } from '../lib/budget/held';
import { cacheNamespace } from '../lib/cache';
import { configOf } from '../lib/config';
import { priceOf } from '../lib/domain/cost';
import { cosine, embeddingKey, readEmbeddings, writeEmbeddings } from '../lib/embedding-cache';
import { billingFor } from '../lib/generation';
import { costOf } from '../lib/pricing';
import { servedHeaders } from '../lib/providers';
import { servicesOf } from '../lib/request-services';
import { loadTokenCounter } from '../lib/tokens';
import { valid } from '../lib/validate';

const text = (max: number) => z.string().trim().min(1).max(max);

export const MatchRequest = z.strictObject({
  intent: text(2000),
  candidates: z
    .array(z.strictObject({ id: text(128), text: text(2000) }))
    .min(1)
    .max(100)
    .refine((list) => new Set(list.map((c) => c.id)).size === list.length, 'candidate ids must be unique'),
});

/**
 * `POST /v1/match`: candidates ranked by the cosine similarity of their embeddings to the intent, best
 * first. Each text's embedding is cached, so a catalogue is embedded once; only texts never seen are
 * embedded (in one call, budgeted like any other).
 */
export const match = new Hono<AppEnv>().post('/v1/match', valid('json', MatchRequest), async (c) => {
  const { intent, candidates } = c.req.valid('json');
  const env = c.get('env');
  const log = c.get('log');
  const model = env.OPENAI_EMBEDDING_MODEL;
  const dimensions = env.EMBEDDING_DIMENSIONS || undefined;
  const cacheDeps = { redis: c.get('deps').redis, log };
  const texts = [intent, ...candidates.map((cand) => cand.text)];
  const namespace = cacheNamespace({
    keyId: c.get('principal').id,
    shared: env.CACHE_SHARED_NAMESPACE ? 'shared' : undefined,
  });
  const keys = await Promise.all(texts.map((t) => embeddingKey(namespace, model, dimensions, t)));
  const vectors = await readEmbeddings(cacheDeps, keys);
  let missing = [...new Set(texts.filter((_, i) => !vectors[i]))];
  let served: { provider: string; model: string } | null = null;
  if (missing.length) {
    let embedded = await embedBudgeted(c, missing, dimensions);
    if (embedded.model !== model && missing.length < texts.length) {
      // A backup served: its vectors live in another space than the cached ones, so embed them all.
      missing = [...new Set(texts)];
      embedded = await embedBudgeted(c, missing, dimensions);
    }
    served = { provider: embedded.provider, model: embedded.model };
    const fresh = new Map(missing.map((t, i) => [t, embedded.value.vectors[i] as number[]]));
    texts.forEach((t, i) => {
      if (fresh.has(t)) vectors[i] = fresh.get(t) as number[];
    });
    const freshKeys = await Promise.all(
      missing.map((t) => embeddingKey(namespace, embedded.model, dimensions, t)),
    );
    // Written before the answer: the client's next request with these texts must not pay for them again.
    await writeEmbeddings(
      cacheDeps,
      missing.map((t, i) => ({ key: freshKeys[i] as string, vector: fresh.get(t) as number[] })),
      env.EMBEDDING_CACHE_TTL_SECONDS,
    );
  }
  const query = vectors[0] as number[];
  const ranked = candidates
    .map((cand, i) => ({ id: cand.id, score: round(cosine(query, vectors[i + 1] as number[])) }))
    .sort((a, b) => b.score - a.score);
  return c.json(
    { ranked, model, dimensions: query.length, embedded: missing.length },
    200,
    served ? servedHeaders(served) : {},
  );
});

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Embeds `texts` in one call under a budget reservation: their tokens with a 10 % margin (input only). */
async function embedBudgeted(c: Context<AppEnv>, texts: string[], dimensions: number | undefined) {
  const { countTextTokens } = await loadTokenCounter();
  const prices = configOf(c.get('env')).prices;
  const price = priceOf(prices, c.get('env').OPENAI_EMBEDDING_MODEL);
  const tokens = texts.reduce((sum, t) => sum + Math.ceil(countTextTokens(t) * 1.1) + 8, 0);
  const estimate = costOf(price, { inputTokens: tokens, cachedTokens: 0, outputTokens: 0 });
  const embed = (held: Held) =>
    servicesOf(c)
      .providers(billingFor(held, () => estimate))
      .embed(texts, dimensions);
  return servicesOf(c)
    .spend({ uses: ['embeddings'], units: texts.length })
    .run(estimate, embed, {
      value: (r) => costOf(priceOf(prices, r.model), r.value.usage),
    });
}
