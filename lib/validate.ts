import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';

/**
 * `zValidator` that throws the zod error, so the one error renderer answers `400` in our shape with
 * the failing field as `param` (the validator's default returns the raw zod result instead).
 */
export function valid<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw result.error;
  });
}
