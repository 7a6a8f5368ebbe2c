/**
 * Response bodies as zod schemas, for the OpenAPI document only: handlers build their bodies with
 * plain objects, so these describe them. Where the body has a TypeScript type, `satisfies` ties the
 * schema to it (a field the type requires cannot be missing here, nor have another type); the
 * others are checked against real responses in test/functions/openapi.responses.test.ts. Output schemas
 * from lib/domain are extended, never restated.
 */
import { z } from 'zod';
import { type Creative, CreativeOutput } from '../../lib/creatives/schema';
import { ImageAnalysis } from '../../lib/domain/image-analysis';
import { OpportunitiesOutput, type OpportunitiesResponse } from '../../lib/domain/opportunities';
import type { MaybeDegraded } from '../../lib/generation';
import type { Verdict } from '../../lib/moderation';
import { ErrorResponse } from '../../lib/openapi/errors';
import type { HealthResponse, PublicHealthResponse } from '../health';

/** Present when the answer came from the model policy's cheaper model (spend past the alert threshold). */
const Degraded = z.literal(true).optional();
/** An amount of US dollars. */
export const usd = z.number().min(0);
/** A count of things. */
export const count = z.int().min(0);

export const RootResponse = z.object({
  name: z.string(),
  version: z.string(),
  description: z.string(),
  links: z.record(z.string(), z.string()),
});

/** `GET /health` without the admin key: liveness and the version, nothing configured. */
export const PublicHealthBody = z.strictObject({
  status: z.literal('ok'),
  version: z.string(),
}) satisfies z.ZodType<PublicHealthResponse>;

const Mode = z.enum(['local', 'remote']);
/** `GET /health` with the admin key. */
export const HealthBody = z.object({
  status: z.enum(['ok', 'degraded']),
  store: z.object({ ok: z.boolean(), latency_ms: z.number(), mode: Mode }),
  provider: z.object({ name: z.literal('openai'), base_url: z.string(), mode: Mode }),
  models: z.object({
    text: z.string(),
    image: z.string(),
    moderation: z.string(),
    embeddings: z.string(),
    vision: z.string(),
  }),
}) satisfies z.ZodType<HealthResponse>;

const Figures = {
  limit_usd: usd.nullable(),
  spent_usd: usd,
  reserved_usd: usd,
  remaining_usd: usd.nullable(),
  calls: count,
};
/** A client key sees its own figures (`scope: key`); the admin key the gateway's, its alerts and every key's. */
export const BudgetResponse = z.object({
  day: z.string(),
  timezone: z.string(),
  /** Whose figures the top level holds: the calling key's, or (admin key) the gateway's. */
  scope: z.enum(['key', 'gateway']),
  ...Figures,
  /** Only for the admin key. */
  alert_threshold_usd: usd.optional(),
  /** Only for the admin key. */
  alerts_sent: z.array(z.object({ level: z.enum(['threshold', 'limit']), threshold_usd: usd })).optional(),
  resets_at: z.iso.datetime(),
  key: z.object({ id: z.string(), name: z.string(), ...Figures }).nullable(),
  /** Only for the admin key: every key's figures. */
  keys: z.array(z.object({ id: z.string(), name: z.string(), revoked: z.boolean(), ...Figures })).optional(),
  /** The caller's own history: the key's, or (admin key) the gateway's. */
  history: z.array(z.object({ day: z.string(), spent_usd: usd, calls: count })),
});

export const OpportunitiesBody = OpportunitiesOutput.extend({
  opportunities: z
    .array(
      OpportunitiesOutput.shape.opportunities.element.extend({ id: z.string().regex(/^opp_[0-9a-f]{16}$/) }),
    )
    .max(5),
  degraded: Degraded,
}) satisfies z.ZodType<OpportunitiesResponse & MaybeDegraded>;

export const CreativeBody = CreativeOutput.extend({
  image: z.object({ id: z.string(), url: z.string(), model: z.string(), size: z.string() }).nullable(),
  moderation: z.object({ approved: z.literal(true), checked: z.record(z.string(), z.string()) }),
  cache: z.object({ status: z.string(), key_version: z.string() }),
  degraded: Degraded,
}) satisfies z.ZodType<Creative>;

export const BatchResponse = z.object({
  results: z.array(
    z.discriminatedUnion('ok', [
      z.object({ ok: z.literal(true), creative: CreativeBody, cost_usd: usd }),
      z.object({
        ok: z.literal(false),
        /** The error body without a request id (the response has one). */
        error: ErrorResponse.shape.error.omit({ request_id: true }),
        cost_usd: usd,
      }),
    ]),
  ),
});

const Checked = z.enum(['passed', 'flagged']);
export const VerdictBody = z.object({
  approved: z.boolean(),
  layer: z.enum(['openai', 'business_rules', 'brand_safety']).nullable(),
  reason: z.string().nullable(),
  categories: z.record(z.string(), z.boolean()),
  pattern: z.string().nullable(),
  checked: z.object({
    openai: z.enum(['passed', 'flagged', 'unavailable', 'skipped']),
    business_rules: Checked,
    brand_safety: Checked,
  }),
}) satisfies z.ZodType<Verdict>;

export const ImageAnalysisBody = ImageAnalysis.extend({ degraded: Degraded });

export const MatchResponse = z.object({
  ranked: z.array(z.object({ id: z.string(), score: z.number() })),
  model: z.string(),
  dimensions: count,
  /** How many texts were embedded now (the rest came from the cache). */
  embedded: count,
});
