/**
 * The usage readers (lib/proxy/usage.ts) read by hand what zod schemas read before: the schemas stay
 * here as the specification, and every reader must agree with its schema on every value below.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  chatUsage,
  embeddingsUsage,
  imagesUsage,
  responsesUsage,
  type UsageReader,
} from '../../../lib/proxy/usage';

const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const details = (fields: Record<string, z.ZodType>) => z.object(fields).nullish();

const SCHEMAS = {
  chat: z.object({
    prompt_tokens: Count,
    completion_tokens: Count,
    prompt_tokens_details: details({ cached_tokens: Count.nullish(), cache_write_tokens: Count.nullish() }),
    completion_tokens_details: details({ reasoning_tokens: Count.nullish() }),
  }),
  responses: z.object({
    input_tokens: Count,
    output_tokens: Count,
    input_tokens_details: details({ cached_tokens: Count.nullish(), cache_write_tokens: Count.nullish() }),
    output_tokens_details: details({ reasoning_tokens: Count.nullish() }),
  }),
};

/** Values a field may come with: counts, non-counts, and non-numbers. */
const VALUES: unknown[] = [
  undefined,
  null,
  0,
  7,
  Number.MAX_SAFE_INTEGER,
  2 ** 53,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '7',
  true,
  {},
  [],
];
const DETAILS: ((v: unknown) => unknown)[] = [
  () => undefined,
  () => null,
  () => ({}),
  () => [],
  () => 'details',
  (v) => ({ cached_tokens: v }),
  (v) => ({ cache_write_tokens: v }),
  (v) => ({ reasoning_tokens: v }),
  (v) => ({ cached_tokens: 3, cache_write_tokens: v, reasoning_tokens: v, other: 'x' }),
];

/** Every usage object built from those values, with the API's field names. */
function usages(names: [string, string, string, string]): unknown[] {
  const [input, output, inputDetails, outputDetails] = names;
  const out: unknown[] = [undefined, null, 'usage', [], {}];
  for (const a of VALUES) for (const b of [7, ...VALUES]) out.push(withDefined({ [input]: a, [output]: b }));
  for (const v of VALUES)
    for (const d of DETAILS)
      for (const e of DETAILS.slice(0, 5)) {
        out.push(withDefined({ [input]: 10, [output]: 4, [inputDetails]: d(v), [outputDetails]: e(v) }));
        out.push(withDefined({ [input]: 10, [output]: 4, [inputDetails]: e(v), [outputDetails]: d(v) }));
      }
  return out;
}

const withDefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** What the zod schema made of a usage, in the readers' shape. */
function bySchema(schema: z.ZodType, usage: unknown, names: [string, string, string, string]) {
  const u = schema.safeParse(usage).data as Record<string, Record<string, number> | number> | undefined;
  if (!u) return undefined;
  const [input, output, inputDetails, outputDetails] = names;
  const inDetails = (u[inputDetails] ?? {}) as Record<string, number | null>;
  const outDetails = (u[outputDetails] ?? {}) as Record<string, number | null>;
  return {
    inputTokens: u[input],
    cachedTokens: inDetails.cached_tokens ?? 0,
    cacheWriteTokens: inDetails.cache_write_tokens ?? 0,
    outputTokens: u[output],
    reasoningTokens: outDetails.reasoning_tokens ?? 0,
  };
}

describe('usage readers', () => {
  const cases: [string, UsageReader, z.ZodType, [string, string, string, string]][] = [
    [
      'chat',
      chatUsage,
      SCHEMAS.chat,
      ['prompt_tokens', 'completion_tokens', 'prompt_tokens_details', 'completion_tokens_details'],
    ],
    [
      'responses',
      responsesUsage,
      SCHEMAS.responses,
      ['input_tokens', 'output_tokens', 'input_tokens_details', 'output_tokens_details'],
    ],
  ];
  for (const [name, reader, schema, names] of cases) {
    it(`${name}: reads what its zod schema reads, and refuses what it refuses`, () => {
      const all = usages(names);
      let readable = 0;
      for (const usage of all) {
        const expected = bySchema(schema, usage, names);
        if (expected) readable += 1;
        expect(reader(usage), JSON.stringify(usage)).toEqual(expected);
      }
      // The corpus holds both kinds, many of each.
      expect(readable).toBeGreaterThan(50);
      expect(all.length - readable).toBeGreaterThan(500);
    });
  }

  it('embeddings and images: their totals are counts, or there is no usage', () => {
    expect(embeddingsUsage({ prompt_tokens: 12, total_tokens: 12 })).toEqual({
      inputTokens: 12,
      cachedTokens: 0,
      outputTokens: 0,
    });
    expect(imagesUsage({ input_tokens: 50, output_tokens: 4160 })).toEqual({
      inputTokens: 50,
      cachedTokens: 0,
      outputTokens: 4160,
    });
    for (const v of VALUES.filter((x) => !Number.isSafeInteger(x) || (x as number) < 0)) {
      expect(embeddingsUsage({ prompt_tokens: v })).toBeUndefined();
      expect(imagesUsage({ input_tokens: 50, output_tokens: v })).toBeUndefined();
      expect(imagesUsage({ input_tokens: v, output_tokens: 50 })).toBeUndefined();
    }
    for (const usage of [undefined, null, 'usage', [], {}]) {
      expect(embeddingsUsage(usage)).toBeUndefined();
      expect(imagesUsage(usage)).toBeUndefined();
    }
  });
});
