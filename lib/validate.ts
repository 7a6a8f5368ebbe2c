import { zValidator } from '@hono/zod-validator';
import type { MiddlewareHandler, ValidationTargets } from 'hono';
import { z } from 'zod';
import { InvalidRequestError } from './errors';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth';
import { sparseParse } from './sparse-object';

/**
 * Parsed synchronously: no schema of ours refines asynchronously, and zod's asynchronous parse (the
 * validator's default) wraps every field's check in a promise, on every request. An object over the
 * keys it carries (lib/sparse-object.ts). (The option's type is a conditional one that TypeScript
 * cannot resolve for a generic schema, hence the cast where it is used.)
 */
const SYNC_PARSE = {
  validationFunction: (schema: z.ZodType, value: unknown) =>
    schema instanceof z.ZodObject ? sparseParse(schema, value) : schema.safeParse(value),
};

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
  const validator = zValidator(
    target,
    schema,
    (result) => {
      if (!result.success) throw result.error;
    },
    SYNC_PARSE as never,
  );
  if (target !== 'json') return validator;
  const checked: MiddlewareHandler = async (c, next) => {
    if (jsonDepthExceeds(await c.req.text(), MAX_JSON_DEPTH)) {
      throw new InvalidRequestError({ message: `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.` });
    }
    return validator(c, next);
  };
  return checked as unknown as typeof validator;
}
