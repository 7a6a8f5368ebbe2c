/**
 * Parsing an object schema over the keys a value carries. zod runs every key of an object's shape,
 * present or not, each with a payload object and an issues array of its own; the proxy's request shapes
 * name some forty fields, of which a request sends a handful, and that was most of its validation.
 */
import type { z } from 'zod';

/** Key sets remembered per schema: a client sends the same few again and again; an odd one is parsed whole. */
const PICKS_PER_SCHEMA = 64;
const picks = new WeakMap<z.ZodObject, Map<string, z.ZodObject>>();

/**
 * `schema.safeParse(value)`, with the same output and the same errors, parsed by a copy of `schema`
 * (its checks and error map kept) whose shape has only the keys `value` carries and those that cannot be
 * left out (required, defaulted). An absent key the schema lets be absent adds nothing to the output
 * (zod's own rule), so leaving it out changes nothing. A value that is not a plain object, or that
 * carries a key the shape does not name, is parsed by `schema` itself.
 */
export function sparseParse<S extends z.ZodObject>(
  schema: S,
  value: unknown,
): z.ZodSafeParseResult<z.output<S>> {
  return pickFor(schema, value).safeParse(value) as z.ZodSafeParseResult<z.output<S>>;
}

function pickFor(schema: z.ZodObject, value: unknown): z.ZodObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return schema;
  const { shape } = schema;
  const present = Object.keys(value);
  for (const key of present) if (!Object.hasOwn(shape, key)) return schema;
  const signature = present.sort().join();
  let known = picks.get(schema);
  const picked = known?.get(signature);
  if (picked) return picked;
  const sent = new Set(present);
  const kept: Record<string, z.core.$ZodType> = {};
  for (const [key, field] of Object.entries(shape)) {
    const { optin, optout } = field._zod;
    if (sent.has(key) || optin !== 'optional' || optout !== 'optional') kept[key] = field;
  }
  const made = schema.clone({ ...schema._zod.def, shape: kept });
  if (!known) {
    known = new Map();
    picks.set(schema, known);
  }
  if (known.size < PICKS_PER_SCHEMA) known.set(signature, made);
  return made;
}
