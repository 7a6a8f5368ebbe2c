/**
 * Each task's prompt in tokens (o200k, as the models count), pinned. What never changes between
 * requests (instructions, worked examples, the JSON Schema of the answer) is the prefix OpenAI's prompt
 * cache can serve, from 1,024 tokens up; the request's own fields follow. A change that grows a prompt
 * must say why here (docs/prompt-caching.md has the before and after).
 */
import { zodTextFormat } from 'openai/helpers/zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { CACHED_TASKS } from '../../lib/cached-tasks';
import { creativeBatchTask, creativeTask } from '../../lib/creatives/prompt';
import type { CreativeRequest } from '../../lib/creatives/schema';
import { imageAnalysisTask } from '../../lib/domain/image-analysis';
import { opportunitiesTask } from '../../lib/domain/opportunities-prompt';
import type { StructuredTask } from '../../lib/providers';
import { loadTokenCounter, type TokenCounter } from '../../lib/tokens';
import { withVariant } from '../../lib/variants';

/** OpenAI caches a prompt's prefix from this many tokens. */
const CACHE_MINIMUM = 1024;

let counter: TokenCounter;
beforeAll(async () => {
  counter = await loadTokenCounter();
});

const schemaText = (task: StructuredTask<unknown>) => JSON.stringify(zodTextFormat(task.schema, task.name));
const staticTokens = (task: StructuredTask<unknown>) =>
  counter.countTextTokens(task.instructions) + counter.countTextTokens(schemaText(task));

const creative = (n: number): CreativeRequest => ({
  opportunity: { id: `o${n}`, product_category: `Category ${n}`, description: `Description ${n}` },
  target_audience: `audience ${n}`,
  brand_voice: `voice ${n}`,
  needs_visual: n % 2 === 0,
});

describe('task prompts in tokens', () => {
  it('pins each prompt: instructions and schema (the cacheable prefix)', () => {
    // Before #19: creative 162 + 127, creatives 190 + 165 (its schema changed with the batch size),
    // opportunities 117 + 225, image analysis 80 + 233; none reached the cache's 1,024.
    const pinned = {
      // + 7 worked examples (#19): lift the prefix past 1,024 so it is billed at the cached rate.
      creative: { instructions: 975, schema: 127 },
      // The same examples, as numbered requests answered in one array (the call's own format).
      creatives: { instructions: 1027, schema: 165 },
      // + 4 worked examples (#19), for the same reason.
      opportunities: { instructions: 907, schema: 225 },
      // Unchanged: each call's image costs more than the prefix would save (docs/prompt-caching.md).
      image_analysis: { instructions: 80, schema: 233 },
    };
    const tasks = [
      creativeTask(creative(1)),
      creativeBatchTask([creative(1), creative(2)]),
      opportunitiesTask({ intent: 'rain jackets for cycling commuters' }),
      imageAnalysisTask({ image_url: 'https://example.com/a.png' } as never, 'data:image/png;base64,AAAA'),
    ];
    const measured = Object.fromEntries(
      tasks.map((t) => [
        t.name,
        {
          instructions: counter.countTextTokens(t.instructions),
          schema: counter.countTextTokens(schemaText(t)),
        },
      ]),
    );
    expect(measured).toEqual(pinned);
    // The cached-share alert watches exactly the tasks whose prefix reaches the cache.
    const reaching = tasks.filter((t) => staticTokens(t) >= CACHE_MINIMUM).map((t) => t.name);
    expect(new Set(reaching)).toEqual(CACHED_TASKS);
  });

  it('gives every cached task a shared prefix of at least 1,024 tokens, whatever the request and batch size', () => {
    const cached = [
      [creativeTask(creative(1)), creativeTask({ ...creative(2), tone: 'urgent' })],
      [
        creativeBatchTask([creative(1)]),
        creativeBatchTask(Array.from({ length: 50 }, (_, i) => creative(i))),
      ],
      [
        opportunitiesTask({ intent: 'tents' }),
        opportunitiesTask({ intent: 'a gift', context: { region: 'EU' } }),
      ],
    ] as const;
    for (const [a, b] of cached) {
      expect(b.instructions).toBe(a.instructions);
      expect(b.input).not.toEqual(a.input);
      expect(b.cacheKey).toBe(a.cacheKey);
      expect(schemaText(b)).toBe(schemaText(a));
      // What two requests send alike before they first differ, in OpenAI's order: the schema (it
      // prefixes the system message), then the instructions.
      const [x, y] = [a, b].map((t) => schemaText(t) + t.instructions) as [string, string];
      let same = 0;
      while (same < x.length && x[same] === y[same]) same++;
      expect(counter.countTextTokens(x.slice(0, same))).toBeGreaterThanOrEqual(CACHE_MINIMUM);
    }
    expect(staticTokens(creativeTask(creative(1)))).toBeGreaterThanOrEqual(CACHE_MINIMUM);
  });

  it('names the prompt-cache key by task, prompt version and variant', () => {
    const task = creativeTask(creative(1));
    expect(task.cacheKey).toBe('creative-cre-2');
    expect(opportunitiesTask({ intent: 'tents' }).cacheKey).toBe('opportunities-opp-2');
    expect(creativeBatchTask([creative(1)]).cacheKey).toBe('creatives-cre-2');
    const variant = { task: 'creatives' as const, name: 'warmer', instructions: 'Be warmer.' };
    const varied = withVariant(task, variant);
    expect(varied.cacheKey).toBe('creative-cre-2-warmer');
    // The variant's words come after everything the control shares.
    expect(varied.instructions.startsWith(task.instructions)).toBe(true);
    // A control (no instructions) shares the task's own prefix and key.
    expect(withVariant(task, { ...variant, name: 'control', instructions: '' }).cacheKey).toBe(task.cacheKey);
  });

  it("fixes the combined call's count in its schema, for 1 to 50 requests", () => {
    const task = creativeBatchTask([creative(1), creative(2)]);
    const one = {
      copy: 'Light shoes.',
      image_prompt: 'Shoes on a trail',
      tone: 'informative',
      call_to_action: 'Shop',
    };
    expect(task.schema.safeParse({ creatives: [one, one] }).success).toBe(true);
    expect(task.schema.safeParse({ creatives: [one] }).success).toBe(false);
    expect(() => creativeBatchTask([])).toThrow(RangeError);
    expect(() => creativeBatchTask(Array.from({ length: 51 }, (_, i) => creative(i)))).toThrow(RangeError);
  });
});
