import { isRecord } from './config.ts';
import { createRng, type Rng } from './rng.ts';
import { numberFor } from './schema-numbers.ts';
import { stringFor } from './schema-strings.ts';

/** A JSON Schema node: an object, or `true` / `false`. */
export type JsonSchema = boolean | Record<string, unknown>;

/** The schema cannot be resolved or has no finite instance; rendered as a 400 `invalid_json_schema`. */
export class SchemaError extends Error {
  override name = 'SchemaError';
}

/** Inputs that make an instance deterministic and plausible. */
export interface InstanceOptions {
  /** Seeds every choice: the same seed and schema always give the same instance. */
  seed: string;
  /** Content words of the request input; strings are built from them. */
  words: readonly string[];
  /**
   * How many numbered requests the input lists (`Request 1:`, `Request 2:`, …): a model told to answer
   * one entry per request does, so an array at the top of the answer whose bounds allow it gets as many.
   */
  listed?: number;
}

interface Ctx {
  root: JsonSchema;
  rng: Rng;
  words: readonly string[];
  listed?: number;
}

/** Past this depth optional structure is cut short: nullable → null, arrays → minItems, no optional keys. */
const SOFT_DEPTH = 6;
/** Past this depth the schema is taken to have no finite instance (required recursion without an exit). */
const HARD_DEPTH = 40;

/**
 * A deterministic instance of a JSON schema, valid against it. Covers what structured outputs accept:
 * type (and type arrays), enum, const, anyOf/oneOf, allOf merges, $ref into $defs/definitions/any pointer
 * (recursion included), properties/required/additionalProperties, items/prefixItems/minItems/maxItems,
 * string formats, pattern, minLength/maxLength, numeric bounds and multipleOf.
 */
export function createInstance(schema: JsonSchema, options: InstanceOptions): unknown {
  const ctx: Ctx = {
    root: schema,
    rng: createRng(options.seed),
    words: options.words,
    listed: options.listed,
  };
  return generate(schema, ctx, '', 0);
}

function generate(schema: JsonSchema, ctx: Ctx, name: string, depth: number): unknown {
  if (depth > HARD_DEPTH) throw new SchemaError('schema recursion has no finite instance');
  if (schema === false) throw new SchemaError(`schema at '${name || '(root)'}' accepts nothing`);
  const s = resolveSchema(schema === true ? {} : schema, ctx.root);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) {
    if (s.enum.length === 0) throw new SchemaError('enum must not be empty');
    return ctx.rng.pick(s.enum);
  }
  const { anyOf, oneOf, ...siblings } = s;
  const branches = anyOf ?? oneOf;
  if (Array.isArray(branches) && branches.length > 0) {
    const branch = chooseBranch(branches as JsonSchema[], ctx, depth);
    if (typeof branch === 'boolean') return generate(branch, ctx, name, depth);
    return generate(mergeSchemas(siblings, resolveSchema(branch, ctx.root)), ctx, name, depth);
  }
  switch (chooseType(s, depth)) {
    case 'null':
      return null;
    case 'boolean':
      return ctx.rng.next() < 0.5;
    case 'integer':
      return numberFor(s, true, name, ctx.rng);
    case 'number':
      return numberFor(s, false, name, ctx.rng);
    case 'array':
      return arrayFor(s, ctx, name, depth);
    case 'object':
      return objectFor(s, ctx, depth);
    default:
      return stringFor(s, name, ctx);
  }
}

function objectFor(s: Record<string, unknown>, ctx: Ctx, depth: number): Record<string, unknown> {
  const properties = isRecord(s.properties) ? (s.properties as Record<string, JsonSchema>) : {};
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(properties)) {
    if (depth >= SOFT_DEPTH && !required.has(key)) continue;
    out[key] = generate(sub, ctx, key, depth + 1);
  }
  const extra = isRecord(s.additionalProperties) ? (s.additionalProperties as JsonSchema) : {};
  for (const key of required) {
    if (!(key in out)) out[key] = generate(extra, ctx, key, depth + 1);
  }
  return out;
}

function arrayFor(s: Record<string, unknown>, ctx: Ctx, name: string, depth: number): unknown[] {
  const min = typeof s.minItems === 'number' ? s.minItems : 0;
  const max = typeof s.maxItems === 'number' ? s.maxItems : Number.POSITIVE_INFINITY;
  const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
  const rest = isRecord(s.items) || typeof s.items === 'boolean' ? (s.items as JsonSchema) : {};
  const listed = depth <= 1 && ctx.listed !== undefined && ctx.listed >= min && ctx.listed <= max;
  const wanted = listed ? (ctx.listed as number) : depth >= SOFT_DEPTH ? min : ctx.rng.int(2, 3);
  const count = Math.max(Math.min(wanted, max), min, Math.min(tuple.length, max));
  const itemName = name.replace(/ies$/, 'y').replace(/s$/, '');
  const items: unknown[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const itemSchema = (tuple[i] as JsonSchema) ?? rest;
    // Retry a few times for distinct items: repeated tags look wrong, and uniqueItems may demand it.
    let item = generate(itemSchema, ctx, itemName, depth + 1);
    for (let attempt = 0; attempt < 4 && seen.has(JSON.stringify(item)); attempt += 1) {
      item = generate(itemSchema, ctx, itemName, depth + 1);
    }
    seen.add(JSON.stringify(item));
    items.push(item);
  }
  return items;
}

function chooseBranch(branches: JsonSchema[], ctx: Ctx, depth: number): JsonSchema {
  const isNull = (branch: JsonSchema) => isRecord(branch) && resolveSchema(branch, ctx.root).type === 'null';
  if (depth >= SOFT_DEPTH) {
    const exit = branches.find(isNull) ?? branches.find((branch) => !JSON.stringify(branch).includes('$ref'));
    if (exit !== undefined) return exit;
  }
  const candidates = branches.filter((branch) => !isNull(branch));
  return candidates.length > 0 ? ctx.rng.pick(candidates) : (branches[0] as JsonSchema);
}

function chooseType(s: Record<string, unknown>, depth: number): string {
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.type)) {
    const types = s.type as string[];
    const nonNull = types.filter((type) => type !== 'null');
    if (nonNull.length === 0 || (depth >= SOFT_DEPTH && types.includes('null'))) return 'null';
    return nonNull[0] as string;
  }
  if ('properties' in s || 'required' in s || 'additionalProperties' in s) return 'object';
  if ('items' in s || 'prefixItems' in s || 'minItems' in s || 'maxItems' in s) return 'array';
  if ('minimum' in s || 'maximum' in s || 'exclusiveMinimum' in s || 'exclusiveMaximum' in s) return 'number';
  return 'string';
}

/** Follows `$ref` chains (keeping sibling keywords) and merges `allOf` branches into one schema. */
export function resolveSchema(
  schema: Record<string, unknown>,
  root: JsonSchema,
  seen = 0,
): Record<string, unknown> {
  if (seen > 64) throw new SchemaError('$ref cycle without structure');
  let s = schema;
  if (typeof s.$ref === 'string') {
    const { $ref, ...siblings } = s;
    const target = resolvePointer(root, $ref);
    s = { ...resolveSchema(target, root, seen + 1), ...siblings };
  }
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    s = (allOf as JsonSchema[]).reduce<Record<string, unknown>>(
      (merged, part) => mergeSchemas(merged, resolveSchema(isRecord(part) ? part : {}, root, seen + 1)),
      rest,
    );
  }
  return s;
}

function resolvePointer(root: JsonSchema, ref: string): Record<string, unknown> {
  if (!ref.startsWith('#')) throw new SchemaError(`only local $ref values are supported, got '${ref}'`);
  let node: unknown = root === true ? {} : root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isRecord(node) || Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined;
  }
  if (!isRecord(node)) throw new SchemaError(`$ref '${ref}' does not point to a schema`);
  return node;
}

function mergeSchemas(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...a, ...b };
  if (isRecord(a.properties) && isRecord(b.properties))
    merged.properties = { ...a.properties, ...b.properties };
  if (Array.isArray(a.required) && Array.isArray(b.required))
    merged.required = [...new Set([...a.required, ...b.required])];
  return merged;
}
