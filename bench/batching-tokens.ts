/**
 * Tokens of ten creatives written by one batched call (POST /v1/creatives/batch) against ten single
 * calls (POST /v1/creatives), counted with the o200k tokenizer on exactly what the gateway sends: the
 * instructions, the input and the JSON schema of each call. Output is counted on ten realistic
 * creatives, as one JSON object each or as one `{"creatives": [...]}` answer.
 *
 * Run: npm run bench:batching (writes bench/results/batching-tokens.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { creativeBatchTask, creativeTask } from '../lib/creatives/prompt.ts';
import type { CreativeOutput, CreativeRequest } from '../lib/creatives/schema.ts';
import type { StructuredTask } from '../lib/providers/structured-calls.ts';
import { loadTokenCounter, MESSAGE_OVERHEAD_TOKENS } from '../lib/tokens.ts';

const CATEGORIES = [
  ['Hiking boots', 'Waterproof boots for autumn walks', 'weekend hikers in rainy regions'],
  ['Espresso machines', 'Compact machine for a first home barista setup', 'coffee lovers in small flats'],
  ['Running shoes', 'Cushioned trainers for a first half marathon', 'new runners training for a race'],
  ['Winter coats', 'Insulated parka for city commutes', 'commuters in cold northern cities'],
  ['Board games', 'Cooperative games for family evenings', 'parents of children aged 8 to 12'],
  ['Yoga mats', 'Non-slip mat for hot yoga', 'studio regulars who practise daily'],
  ['Desk lamps', 'Dimmable lamp for late study sessions', 'students preparing for exams'],
  ['Camping stoves', 'Light stove for two-day treks', 'backpackers who count every gram'],
  ['Headphones', 'Noise-cancelling headphones for flights', 'frequent business travellers'],
  ['Plant pots', 'Self-watering pots for herbs', 'balcony gardeners who travel often'],
] as const;

const requests: CreativeRequest[] = CATEGORIES.map(([category, description, audience], i) => ({
  opportunity: { id: `opp_${i}`, product_category: category, description },
  target_audience: audience,
  brand_voice: 'warm, practical, confident',
  needs_visual: true,
}));

/** What a model typically writes for each request: realistic lengths, within the schema's limits. */
const outputs: CreativeOutput[] = CATEGORIES.map(([category, , audience]) => ({
  copy: `${category} made for ${audience.split(' ').slice(0, 3).join(' ')}: ready when you are.`.slice(0, 90),
  image_prompt: `Studio product photo of ${category.toLowerCase()} on a natural wood surface, soft daylight from the left, muted earth tones, shallow depth of field, no text, no logos, no people.`,
  tone: 'informative',
  call_to_action: 'Shop the range',
}));

const { countTextTokens } = await loadTokenCounter();

function inputTokens(task: StructuredTask<unknown>): number {
  const input = typeof task.input === 'string' ? task.input : JSON.stringify(task.input);
  const schema = JSON.stringify(z.toJSONSchema(task.schema));
  return (
    countTextTokens(task.instructions) +
    countTextTokens(input) +
    countTextTokens(schema) +
    2 * MESSAGE_OVERHEAD_TOKENS
  );
}

const single = {
  calls: requests.length,
  input_tokens: requests.reduce((sum, r) => sum + inputTokens(creativeTask(r)), 0),
  output_tokens: outputs.reduce((sum, o) => sum + countTextTokens(JSON.stringify(o)), 0),
};
const batched = {
  calls: 1,
  input_tokens: inputTokens(creativeBatchTask(requests)),
  output_tokens: countTextTokens(JSON.stringify({ creatives: outputs })),
};
const total = (x: { input_tokens: number; output_tokens: number }) => x.input_tokens + x.output_tokens;
const saving = (a: number, b: number) => `${(((a - b) / a) * 100).toFixed(1)} %`;

const result = {
  items: requests.length,
  tokenizer: 'o200k_base',
  single,
  batched,
  input_saving: saving(single.input_tokens, batched.input_tokens),
  output_saving: saving(single.output_tokens, batched.output_tokens),
  total_saving: saving(total(single), total(batched)),
};

console.log(`Ten creatives: ten single calls against one batched call (o200k tokens)

| | calls | input tokens | output tokens | total |
| --- | ---: | ---: | ---: | ---: |
| 10 × POST /v1/creatives | ${single.calls} | ${single.input_tokens} | ${single.output_tokens} | ${total(single)} |
| 1 × POST /v1/creatives/batch | ${batched.calls} | ${batched.input_tokens} | ${batched.output_tokens} | ${total(batched)} |
| saving | | ${result.input_saving} | ${result.output_saving} | ${result.total_saving} |
`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/batching-tokens.json', import.meta.url),
  `${JSON.stringify(result, null, 2)}\n`,
);
