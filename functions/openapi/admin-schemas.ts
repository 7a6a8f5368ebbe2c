/** The admin API's response bodies (keys, prompt variants), for the OpenAPI document; see schemas.ts. */
import { z } from 'zod';
import { KEY_SCOPES } from '../../lib/key-policy';
import type { KeyRecord } from '../../lib/keys';
import { count, usd } from './schemas';

export const KeyResponse = z.object({
  id: z.string(),
  name: z.string(),
  created_at: z.iso.datetime(),
  rpm: count.nullable(),
  upm: count.nullable(),
  daily_budget_usd: usd.nullable(),
  budget_share: z.number().min(0).max(1).nullable(),
  scopes: z.array(z.enum(KEY_SCOPES)).nullable(),
  models: z.array(z.string()).nullable(),
  revoked_at: z.iso.datetime().nullable(),
}) satisfies z.ZodType<KeyRecord>;
export const CreatedKeyResponse = KeyResponse.extend({
  /** The secret, shown this once. */
  key: z.string().regex(/^cag_[A-Za-z0-9_-]{43}$/),
}) satisfies z.ZodType<KeyRecord & { key: string }>;
export const KeyListResponse = z.object({ keys: z.array(KeyResponse) });

const VariantRow = z.object({
  name: z.string(),
  weight: z.number().nullable(),
  generated: count,
  rejected: count,
  rejection_rate: z.number().nullable(),
  cost_usd: usd,
  avg_cost_usd: usd.nullable(),
});
export const VariantsResponse = z.object({
  from: z.string(),
  to: z.string(),
  tasks: z.record(z.enum(['opportunities', 'creatives', 'vision']), z.array(VariantRow)),
});
