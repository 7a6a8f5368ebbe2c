import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configFromEnv, latencyFor, parseSimConfig } from '../../dev/openai-sim/config.ts';
import { encodePng } from '../../dev/openai-sim/png.ts';
import { sampleRegex } from '../../dev/openai-sim/regex-sample.ts';
import { createRng } from '../../dev/openai-sim/rng.ts';
import { createInstance, type JsonSchema } from '../../dev/openai-sim/schema-instance.ts';
import { strictSchemaProblem } from '../../dev/openai-sim/schema-strict.ts';
import { violateInstance } from '../../dev/openai-sim/schema-violation.ts';
import { contentWords } from '../../dev/openai-sim/text.ts';

const words = contentWords('Lightweight waterproof hiking jacket in forest green for autumn trails');

/** Validates with zod's own JSON Schema reader, an implementation independent of the simulator. */
function validate(schema: JsonSchema, value: unknown): boolean {
  return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(value).success;
}

function instance(schema: JsonSchema, seed = 'seed-1'): unknown {
  return createInstance(schema, { seed, words });
}

function strictObject(properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
    ...extra,
  };
}

const CASES: Array<[string, JsonSchema]> = [
  ['type arrays and null', strictObject({ a: { type: ['string', 'null'] }, b: { type: ['null'] } })],
  ['enum and const', strictObject({ kind: { enum: ['new', 'used', 'refurbished'] }, v: { const: 2 } })],
  ['anyOf', strictObject({ price: { anyOf: [{ type: 'number', minimum: 1 }, { type: 'null' }] } })],
  [
    'integer bounds',
    strictObject({
      n: { type: 'integer', minimum: 3, maximum: 4 },
      m: { type: 'integer', exclusiveMinimum: 9, exclusiveMaximum: 11 },
    }),
  ],
  [
    'number exclusive bounds',
    strictObject({ p: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 0.001 } }),
  ],
  ['multipleOf', strictObject({ q: { type: 'number', multipleOf: 0.25, minimum: 1, maximum: 2 } })],
  [
    'string lengths',
    strictObject({ title: { type: 'string', maxLength: 7 }, body: { type: 'string', minLength: 300 } }),
  ],
  [
    'array bounds',
    strictObject({ tags: { type: 'array', items: { type: 'string' }, minItems: 4, maxItems: 4 } }),
  ],
  ['empty array', strictObject({ none: { type: 'array', items: { type: 'string' }, maxItems: 0 } })],
  [
    'formats',
    strictObject({
      at: { type: 'string', format: 'date-time' },
      day: { type: 'string', format: 'date' },
      mail: { type: 'string', format: 'email' },
      id: { type: 'string', format: 'uuid' },
      link: { type: 'string', format: 'uri' },
    }),
  ],
  [
    'pattern',
    strictObject({
      code: { type: 'string', pattern: '^[A-Z]{3}-\\d{2,4}$' },
      hex: { type: 'string', pattern: '^#[0-9a-f]{6}$' },
    }),
  ],
  [
    '$defs refs',
    strictObject(
      {
        item: { $ref: '#/$defs/Item' },
        items: { type: 'array', items: { $ref: '#/$defs/Item' }, maxItems: 2 },
      },
      { $defs: { Item: strictObject({ sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } }) } },
    ),
  ],
  [
    'definitions refs',
    strictObject(
      { a: { $ref: '#/definitions/A' } },
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        definitions: { A: { type: 'string', enum: ['x', 'y'] } },
      },
    ),
  ],
  [
    'recursion through $ref #',
    strictObject({ name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } }),
  ],
  [
    'nullable recursion',
    strictObject({ label: { type: 'string' }, next: { anyOf: [{ $ref: '#' }, { type: 'null' }] } }),
  ],
  [
    'booleans and nested objects',
    strictObject({
      ok: { type: 'boolean' },
      inner: strictObject({ deep: strictObject({ x: { type: 'null' } }) }),
    }),
  ],
];

describe('createInstance', () => {
  it.each(CASES)('produces valid instances for %s across seeds', (_name, schema) => {
    const validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    for (let seed = 0; seed < 25; seed += 1) {
      const value = instance(schema, `seed-${seed}`);
      expect(validator.safeParse(value).success, JSON.stringify(value)).toBe(true);
    }
  });

  it('is deterministic for one seed and varies with the seed', () => {
    const schema = CASES[9]?.[1] as JsonSchema;
    expect(instance(schema, 'a')).toEqual(instance(schema, 'a'));
    expect(instance(schema, 'a')).not.toEqual(instance(schema, 'b'));
  });

  it('builds plausible strings from property names and input words', () => {
    const value = instance(
      strictObject({
        title: { type: 'string', maxLength: 30 },
        description: { type: 'string' },
        email: { type: 'string' },
      }),
    ) as Record<string, string>;
    const inputWords = new Set(words.map((word) => word.toLowerCase()));
    const titleWords = value.title?.toLowerCase().split(' ') ?? [];
    expect(titleWords.length).toBeGreaterThan(0);
    expect(
      titleWords.filter((word) => word.length > 0).every((word) => inputWords.has(word) || word.length < 3),
    ).toBe(true);
    expect(value.title?.length).toBeLessThanOrEqual(30);
    expect(value.description).toMatch(/^[A-Z].*\.$/);
    expect(value.email).toMatch(/^[a-z0-9.]+@example\.com$/);
  });

  it('produces instances zod accepts for a zod-generated schema', () => {
    const Schema = z.object({
      when: z.iso.datetime(),
      id: z.uuid(),
      mail: z.email(),
      tags: z.array(z.string().max(12)).min(1).max(3),
      score: z.number().int().min(0).max(10),
    });
    const schema = z.toJSONSchema(Schema, { target: 'draft-7' }) as JsonSchema;
    expect(Schema.safeParse(instance(schema)).success).toBe(true);
  });

  it('rejects a schema with required recursion and no exit', () => {
    const schema = strictObject({ self: { $ref: '#' } });
    expect(() => instance(schema)).toThrow(/no finite instance|cycle/);
  });
});

describe('violateInstance', () => {
  it('drops a required property', () => {
    const schema = strictObject({ title: { type: 'string' }, price: { type: 'number' } });
    const broken = violateInstance(schema, instance(schema));
    expect(broken).not.toHaveProperty('title');
    expect(validate(schema, broken)).toBe(false);
  });

  it('overruns maxLength when nothing is required', () => {
    const schema = { type: 'object', properties: { title: { type: 'string', maxLength: 5 } } };
    const broken = violateInstance(schema, instance(schema)) as { title: string };
    expect(broken.title.length).toBeGreaterThan(5);
    expect(validate(schema, broken)).toBe(false);
  });
});

describe('strictSchemaProblem', () => {
  it('accepts a strict schema and names the first problem otherwise', () => {
    expect(strictSchemaProblem(strictObject({ a: { type: 'string' } }), 'x')).toBeUndefined();
    expect(
      strictSchemaProblem({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, 'x'),
    ).toMatch(/additionalProperties/);
    expect(
      strictSchemaProblem(
        { type: 'object', properties: { a: {} }, required: [], additionalProperties: false },
        'x',
      ),
    ).toMatch(/Missing 'a'/);
    expect(strictSchemaProblem({ type: 'array', items: {} }, 'x')).toMatch(/type: "object"/);
  });
});

describe('sampleRegex', () => {
  it.each(['^[A-Z]{3}$', '^\\d{5}(-\\d{4})?$', '^(red|green|blue)-[a-z0-9_]+$', '^[^@\\s]+@shop\\.test$'])(
    'matches %s',
    (pattern) => {
      const value = sampleRegex(pattern, createRng(pattern));
      expect(value).toBeDefined();
      expect(new RegExp(pattern).test(value as string)).toBe(true);
    },
  );

  it('gives up on lookarounds', () => {
    expect(sampleRegex('^(?=.*\\d)\\w+$', createRng('x'))).toBeUndefined();
  });
});

describe('encodePng', () => {
  it('writes a signature, an IHDR with the size and an IDAT that inflates to the rows', () => {
    const png = encodePng({ width: 3, height: 2, channels: 3, pixels: new Uint8Array(18).fill(7) });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(3);
    expect(png.readUInt32BE(20)).toBe(2);
    const idatAt = png.indexOf('IDAT');
    const rows = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + png.readUInt32BE(idatAt - 4)));
    expect(rows).toEqual(Buffer.from([0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 7, 7, 7, 7, 7, 7, 7, 7, 7]));
    // CRC of the IEND chunk is a well-known constant.
    expect(png.subarray(-4).toString('hex')).toBe('ae426082');
  });
});

describe('parseSimConfig', () => {
  it('accepts the documented shape', () => {
    const config = {
      latency_ms: 5,
      faults: [{ kind: 'status', status: 503, rate: 0.3, endpoint: '/v1/responses', retry_after_s: 1 }],
      moderation: { flagged_terms: ['scam:illicit'] },
    };
    expect(parseSimConfig(config)).toEqual({ ok: true, value: config });
  });

  it('takes latency_ms per endpoint; endpoints left out answer at once', () => {
    const config = { latency_ms: { '/v1/images/generations': 60_000, '/v1/moderations': 200 } };
    const parsed = parseSimConfig(config);
    expect(parsed).toEqual({ ok: true, value: config });
    const latency = parsed.ok ? parsed.value.latency_ms : undefined;
    expect(latencyFor(latency, '/v1/images/generations')).toBe(60_000);
    expect(latencyFor(latency, '/v1/moderations')).toBe(200);
    expect(latencyFor(latency, '/v1/responses')).toBe(0);
    expect(latencyFor(75, '/v1/responses')).toBe(75);
  });

  it('reads SIM_LATENCY_MS as a number or as JSON per endpoint', () => {
    expect(configFromEnv({ SIM_LATENCY_MS: '40' })).toEqual({ latency_ms: 40 });
    expect(configFromEnv({ SIM_LATENCY_MS: '{"/v1/embeddings": 90}' })).toEqual({
      latency_ms: { '/v1/embeddings': 90 },
    });
    expect(() => configFromEnv({ SIM_LATENCY_MS: '{"/v1/embed": 90}' })).toThrow(
      /SIM_LATENCY_MS: latency_ms: '\/v1\/embed' is not one of/,
    );
    expect(() => configFromEnv({ SIM_LATENCY_MS: '{oops' })).toThrow('SIM_LATENCY_MS: not valid JSON');
  });

  it.each([
    [[], /JSON object/],
    [{ fault: [] }, /unknown config field 'fault'/],
    [{ latency_ms: -1 }, /latency_ms/],
    [{ latency_ms: { '/v1/image': 5 } }, /latency_ms: '\/v1\/image' is not one of/],
    [{ latency_ms: { '/v1/embeddings': -5 } }, /latency_ms\['\/v1\/embeddings'\] must be a non-negative/],
    [{ faults: [{ kind: 'explode' }] }, /kind must be one of/],
    [{ faults: [{ kind: 'status', rate: 2 }] }, /rate/],
    [{ faults: [{ kind: 'status', endpoint: '/v1/response' }] }, /endpoint must be one of/],
    [{ faults: [{ kind: 'status', status: 99 }] }, /status/],
    [{ moderation: { flagged_terms: [''] } }, /flagged_terms/],
  ])('rejects %j', (input, message) => {
    const result = parseSimConfig(input);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toMatch(message);
  });
});
