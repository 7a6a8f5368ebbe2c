import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { BulkRequest } from '../../functions/batches';
import { BatchRequest } from '../../functions/creatives-batch';
import { MatchRequest } from '../../functions/match';
import { CreativeRequest } from '../../lib/creatives/schema';
import { ImageAnalysisRequest } from '../../lib/domain/image-analysis';
import { OpportunitiesRequest } from '../../lib/domain/opportunities';
import { ImagesRequest } from '../../lib/proxy/image-schemas';
import {
  ChatCompletionRequest,
  EmbeddingsRequest,
  ModerationsRequest,
  ResponsesRequest,
} from '../../lib/proxy/schemas';
import { sparseParse } from '../../lib/sparse-object';

const CHAT = { model: 'gpt-6-luna', messages: [{ role: 'user', content: 'waterproof boots?' }] };
/** Every request schema a route validates, with a body it accepts. */
const SCHEMAS: [string, z.ZodObject, Record<string, unknown>][] = [
  ['chat', ChatCompletionRequest, CHAT],
  ['responses', ResponsesRequest, { model: 'gpt-6-luna', input: 'boots?' }],
  ['embeddings', EmbeddingsRequest, { model: 'text-embedding-3-large', input: 'boots' }],
  ['moderations', ModerationsRequest, { model: 'omni-moderation-latest', input: 'boots' }],
  ['images', ImagesRequest, { model: 'gpt-image-2.5-flare', prompt: 'boots', size: '1024x1024' }],
  ['opportunities', OpportunitiesRequest, { intent: 'boots for a wet hike' }],
  [
    'creatives',
    CreativeRequest,
    {
      opportunity: { id: 'o1', product_category: 'socks', description: 'warm socks' },
      target_audience: 'hikers',
      brand_voice: 'friendly',
    },
  ],
  ['creatives batch', BatchRequest, { items: [{}] }],
  ['bulk', BulkRequest, { task: 'creatives', items: [{}] }],
  ['match', MatchRequest, { intent: 'boots', candidates: [{ id: 'a', text: 'a boot' }] }],
  ['image analysis', ImageAnalysisRequest, { image_url: 'https://example.com/boot.png' }],
];
/** Values of every JSON kind, right and wrong for one field or another. */
const VALUES: unknown[] = [
  null,
  '',
  'auto',
  ' Gpt-6-Luna ',
  'x'.repeat(300),
  0,
  1,
  -1,
  2.5,
  4097,
  true,
  false,
  [],
  [{}],
  ['a', 'b'],
  [{ role: 'user', content: 'hi' }],
  [{ type: 'input_audio' }],
  [{ type: 'web_search' }],
  {},
  { include_usage: true },
  { type: 'json_object' },
];

/** Same success, same output (its key order too: it is sent upstream as JSON), same issues. */
function expectSame(schema: z.ZodObject, value: unknown) {
  const whole = schema.safeParse(value);
  const sparse = sparseParse(schema, value);
  expect(sparse.success).toBe(whole.success);
  if (whole.success && sparse.success) expect(JSON.stringify(sparse.data)).toBe(JSON.stringify(whole.data));
  else expect(JSON.stringify(sparse.error?.issues)).toBe(JSON.stringify(whole.error?.issues));
}

describe('sparseParse', () => {
  it.each(SCHEMAS)('%s: answers every body as the whole schema does', (_name, schema, base) => {
    const keys = Object.keys(schema.shape);
    // The body each case starts from is one the route accepts: outputs are compared, not only errors.
    expect(schema.safeParse(base).success).toBe(true);
    expectSame(schema, base);
    for (const odd of [null, 'text', 7, [], [base], { unknown_field: 1 }, { ...base, unknown_field: 1 }]) {
      expectSame(schema, odd);
    }
    expectSame(schema, JSON.parse(`{"__proto__": {"x": 1}, "model": "gpt-6-luna"}`));
    for (const key of keys) {
      // Each field alone, beside the base, and without the base's own fields.
      for (const value of VALUES) {
        expectSame(schema, { ...base, [key]: value });
        expectSame(schema, { [key]: value });
      }
      const { [key]: _left, ...without } = base;
      expectSame(schema, without);
    }
    // Fields together, in both orders: an object-level check (one output cap, say) sees them all.
    for (const [i, a] of keys.entries()) {
      for (const b of keys.slice(i + 1)) {
        expectSame(schema, { ...base, [a]: 64, [b]: 64 });
        expectSame(schema, { [b]: 'auto', ...base, [a]: 'auto' });
      }
    }
  });

  it('keeps an object-level check of a shape it parses over fewer keys', () => {
    const both = { ...CHAT, max_tokens: 10, max_completion_tokens: 10 };
    const result = sparseParse(ChatCompletionRequest, both);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['max_tokens']);
    expect(sparseParse(ChatCompletionRequest, { ...CHAT, max_tokens: 10 }).success).toBe(true);
  });
});
