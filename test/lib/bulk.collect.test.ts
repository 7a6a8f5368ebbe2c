import { describe, expect, it } from 'vitest';
import { collectChunk } from '../../lib/bulk/collect';
import { type LineOutcome, readLine } from '../../lib/bulk/lines';
import { TASKS } from '../../lib/bulk/tasks';
import { opportunitiesText, withIds } from '../../lib/domain/opportunities';
import type { Verdict } from '../../lib/moderation';

const usage = (input: number, output: number) => ({
  input_tokens: input,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: output,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: input + output,
});

/** A Responses body as a batch output line carries it. */
const body = (content: unknown[], extra: Record<string, unknown> = {}) => ({
  object: 'response',
  status: 'completed',
  output: [{ type: 'message', role: 'assistant', content }],
  usage: usage(100, 20),
  ...extra,
});
const line = (customId: string, statusCode: number, responseBody: unknown) =>
  JSON.stringify({
    id: `batch_req_${customId}`,
    custom_id: customId,
    response: { status_code: statusCode, request_id: 'req_1', body: responseBody },
    error: null,
  });
const text = (value: unknown) => body([{ type: 'output_text', text: JSON.stringify(value) }]);

const OPPORTUNITIES = {
  opportunities: [
    {
      title: 'Trail boots',
      product_category: 'Footwear',
      rationale: 'Rain',
      relevance: 0.9,
      needs_visual: true,
    },
  ],
  reasoning: 'Wet trip',
  confidence: 0.8,
  safety_flags: [],
};
const COPY = {
  copy: 'Dry feet all autumn',
  image_prompt: 'Boots on a wet trail',
  tone: 'playful',
  call_to_action: 'Shop boots',
};

const checked = (openai: Verdict['checked']['openai']) =>
  ({ openai, business_rules: 'passed', brand_safety: 'passed' }) as const;
const approved: Verdict = {
  approved: true,
  layer: null,
  reason: null,
  categories: {},
  pattern: null,
  checked: checked('passed'),
};
const flagged: Verdict = {
  approved: false,
  layer: 'openai',
  reason: 'flagged by openai moderation',
  categories: { violence: true },
  pattern: 'violence',
  checked: checked('flagged'),
};

/** A moderation stand-in: flags texts containing `bad`, and records what it was asked. */
function moderation() {
  const calls: string[][] = [];
  return {
    calls,
    moderate: async (texts: string[]) => {
      calls.push(texts);
      return texts.map((t) => (t.includes('bad') ? flagged : approved));
    },
  };
}

const item = (index: number, textValue = `intent ${index}`) => ({
  index,
  item: { key: `key-${index}`, text: textValue },
});
const MISSING = { type: 'api_error', code: 'batch_expired', message: 'expired' };

/** Every readable line of the files (JSONL text), by custom_id, as staging stores them. */
const readLines = (...files: string[]) =>
  new Map(
    files.flatMap((file) =>
      file.split('\n').flatMap((raw): [string, LineOutcome][] => {
        const line = readLine(raw);
        return line ? [line] : [];
      }),
    ),
  );

describe('readLine', () => {
  it('matches lines on custom_id across the output and error files, whatever their order', () => {
    const lines = readLines(
      [line('2', 200, text({ a: 1 })), 'not json', line('0', 200, text({ b: 2 }))].join('\n'),
      `${line('1', 400, { error: { type: 'invalid_request_error', code: 'invalid_value', message: 'Bad max_output_tokens.' } })}\n`,
    );
    expect([...lines.keys()].sort()).toEqual(['0', '1', '2']);
    expect(lines.get('2')).toEqual({
      text: '{"a":1}',
      usage: { inputTokens: 100, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 20, reasoningTokens: 0 },
    });
    expect(lines.get('1')).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_value', message: 'Bad max_output_tokens.' },
    });
  });

  it('turns refusals, cut-off answers, provider failures and unrun requests into item errors', () => {
    const lines = readLines(
      [
        line('0', 200, body([{ type: 'refusal', refusal: 'No.' }])),
        line(
          '1',
          200,
          body([{ type: 'output_text', text: '{"a"' }], {
            status: 'incomplete',
            incomplete_details: { reason: 'max_output_tokens' },
          }),
        ),
        line('2', 500, { error: { message: 'internal details sk-secret', type: 'server_error' } }),
        JSON.stringify({
          custom_id: '3',
          response: null,
          error: { code: 'batch_expired', message: 'Too late.' },
        }),
      ].join('\n'),
    );
    expect(lines.get('0')).toMatchObject({
      error: { code: 'invalid_model_output', message: expect.stringContaining('refused') },
    });
    expect(lines.get('0')?.usage.outputTokens).toBe(20);
    expect(lines.get('1')).toMatchObject({
      error: { message: expect.stringContaining('cut off (max_output_tokens)') },
    });
    expect(lines.get('2')).toMatchObject({ error: { type: 'api_error', code: 'upstream_error' } });
    expect(JSON.stringify(lines.get('2'))).not.toContain('sk-secret');
    expect(lines.get('3')).toMatchObject({
      error: { type: 'api_error', code: 'batch_expired', message: 'Too late.' },
    });
  });
});

describe('collectChunk', () => {
  it('validates, moderates (intent and answer) and caches opportunities in one moderation call, errors per item', async () => {
    const flaggedAnswer = { ...OPPORTUNITIES, reasoning: 'A bad idea' };
    const lines = readLines(
      [
        line('0', 200, text(OPPORTUNITIES)),
        line('1', 200, body([{ type: 'output_text', text: 'not json' }])),
        line('2', 200, text({ ...OPPORTUNITIES, confidence: 2 })),
        line('4', 200, text(OPPORTUNITIES)),
        line('5', 200, text(flaggedAnswer)),
      ].join('\n'),
    );
    const m = moderation();
    const items = [item(0), item(1), item(2), item(3), item(4, 'a bad intent'), item(5)];
    const chunk = await collectChunk(TASKS.opportunities, items, lines, MISSING, m.moderate);
    const answer = opportunitiesText(OPPORTUNITIES);
    expect(answer).toBe('Trail boots\nFootwear\nRain\nWet trip');
    expect(m.calls).toEqual([
      ['intent 0', answer, 'a bad intent', answer, 'intent 5', opportunitiesText(flaggedAnswer)],
    ]);
    const value = await withIds(OPPORTUNITIES as Parameters<typeof withIds>[0]);
    expect(chunk.writes).toEqual([['key-0', value]]);
    expect(chunk.results).toEqual([
      { index: 0, ok: true, ...value },
      { index: 1, ok: false, error: expect.objectContaining({ code: 'invalid_model_output' }) },
      {
        index: 2,
        ok: false,
        error: expect.objectContaining({ message: expect.stringContaining('confidence') }),
      },
      { index: 3, ok: false, error: MISSING },
      {
        index: 4,
        ok: false,
        error: expect.objectContaining({ code: 'content_policy_violation', param: 'intent' }),
      },
      {
        index: 5,
        ok: false,
        error: expect.objectContaining({
          code: 'creative_rejected',
          message: 'The generated opportunities were rejected by openai: flagged by openai moderation.',
        }),
      },
    ]);
    expect(chunk).toMatchObject({ approved: 1, rejected: 2, errored: 3 });
    expect(chunk.usage).toEqual({
      inputTokens: 500,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 100,
      reasoningTokens: 0,
    });
  });

  it('moderates creative copy too: flagged copy is creative_rejected, approved copy cached without an image', async () => {
    const lines = readLines(
      [line('0', 200, text(COPY)), line('1', 200, text({ ...COPY, copy: 'A bad slogan' }))].join('\n'),
    );
    const m = moderation();
    const chunk = await collectChunk(TASKS.creatives, [item(0), item(1)], lines, MISSING, m.moderate);
    expect(m.calls[0]).toEqual([
      'intent 0',
      `${COPY.copy}\n${COPY.call_to_action}\n${COPY.image_prompt}`,
      'intent 1',
      expect.stringContaining('A bad slogan'),
    ]);
    const creative = { ...COPY, image: null, moderation: { approved: true, checked: checked('passed') } };
    expect(chunk.writes).toEqual([['key-0', creative]]);
    expect(chunk.results).toEqual([
      { index: 0, ok: true, creative },
      {
        index: 1,
        ok: false,
        error: expect.objectContaining({
          code: 'creative_rejected',
          details: expect.objectContaining({ layer: 'openai' }),
        }),
      },
    ]);
  });

  it('serves but never caches what the local layers alone passed (the moderation API was down)', async () => {
    const lines = readLines(
      [line('0', 200, text(OPPORTUNITIES)), line('1', 200, text(OPPORTUNITIES))].join('\n'),
    );
    const localOnly: Verdict = { ...approved, checked: checked('unavailable') };
    // Item 0's intent and item 1's answer met the outage.
    const verdicts = [localOnly, approved, approved, localOnly];
    const chunk = await collectChunk(
      TASKS.opportunities,
      [item(0), item(1)],
      lines,
      MISSING,
      async () => verdicts,
    );
    expect(chunk.results.map((r) => r.ok)).toEqual([true, true]);
    expect(chunk.writes).toEqual([]);
  });

  it('asks moderation nothing when no output is usable', async () => {
    const m = moderation();
    const chunk = await collectChunk(TASKS.creatives, [item(0)], new Map(), MISSING, m.moderate);
    expect(m.calls).toEqual([]);
    expect(chunk.results).toEqual([{ index: 0, ok: false, error: MISSING }]);
  });
});
