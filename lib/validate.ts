import { zValidator } from '@hono/zod-validator';
import type { MiddlewareHandler, ValidationTargets } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError } from './errors';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth';

/**
 * `zValidator` that throws the zod error, so the one error renderer answers `400` in our shape with
 * the failing field as `param` (the validator's default returns the raw zod result instead). A JSON
 * body nested deeper than MAX_JSON_DEPTH is a 400 before it is parsed: nested thousands deep it would
 * overflow the stack of whatever walks it next (a cache key, the allow-list, the provider).
 */
export function valid<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  const validator = zValidator(target, schema, (result) => {
    if (!result.success) throw result.error;
  });
  if (target !== 'json') return validator;
  const checked: MiddlewareHandler = async (c, next) => {
    if (jsonDepthExceeds(await c.req.text(), MAX_JSON_DEPTH)) {
      throw new InvalidRequestError({ message: `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.` });
    }
    return validator(c, next);
  };
  return checked as unknown as typeof validator;
}
