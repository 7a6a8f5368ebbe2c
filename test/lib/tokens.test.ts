import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import {
  IMAGE_INPUT_TOKENS,
  loadTokenCounter,
  MESSAGE_OVERHEAD_TOKENS,
  REPLY_PRIMING_TOKENS,
  rememberingPerTenant,
  SAFETY_MARGIN_TOKENS,
} from '../../lib/tokens';

const { countTextTokens, estimateInputTokens } = await loadTokenCounter();

const PROSE =
  'Waterproof leather hiking boots with a Vibram sole, sizes 38 to 47, in brown and black. ' +
  'Gusseted tongue, padded collar and a lacing system that stays tied on wet trails.';

describe("a tenant's counter (forTenant)", () => {
  it('counts every text, short, long, repeated and spelling a special token, exactly as the encoder does', async () => {
    const counter = await loadTokenCounter();
    const tenants = ['key_a', 'key_b'].map((id) => counter.forTenant(id));
    const texts = [
      'user',
      PROSE,
      PROSE.repeat(30),
      'héllo wörld 日本語 '.repeat(5),
      '<|endoftext|> and more',
    ];
    for (let round = 0; round < 3; round++) {
      for (const tenant of tenants) {
        for (const text of texts) {
          const exact = countTextTokens(text);
          expect(tenant.countTextTokens(text)).toBe(exact);
          expect(tenant.estimateInputTokens({ instructions: text, input: PROSE })).toBe(
            estimateInputTokens({ instructions: text, input: PROSE }),
          );
        }
      }
    }
    expect(tenants[0]?.forTenant('key_c').countTextTokens(PROSE)).toBe(countTextTokens(PROSE));
  });
});

describe('rememberingPerTenant', () => {
  // The encoder's own count, watched: which texts it is asked to count again.
  const watched = () => {
    const asked: string[] = [];
    const count = (text: string) => {
      asked.push(text);
      return encode(text, { disallowedSpecial: new Set() }).length;
    };
    return { asked, count };
  };

  it('remembers a text for the tenant that sent it, never for another', () => {
    const { asked, count } = watched();
    const remember = rememberingPerTenant(count, { texts: 16, chars: 10_000 });
    const prompt = `${PROSE} (system prompt)`;
    expect(remember('key_a', prompt)).toBe(encode(prompt).length);
    expect(remember('key_a', prompt)).toBe(encode(prompt).length);
    expect(asked).toEqual([prompt]);
    // The other tenant's first call counts it afresh: nothing it can time says key_a sent it.
    expect(remember('key_b', prompt)).toBe(encode(prompt).length);
    expect(asked).toEqual([prompt, prompt]);
    expect(remember('key_b', prompt)).toBe(encode(prompt).length);
    expect(asked).toHaveLength(2);
  });

  it('holds at most its number of texts, dropping the oldest first', () => {
    const { asked, count } = watched();
    const remember = rememberingPerTenant(count, { texts: 3, chars: 10_000 });
    const texts = ['first text here', 'second text here', 'third text here', 'fourth text here'];
    for (const text of texts) remember('key_a', text);
    asked.length = 0;
    // The three newest are remembered; the first was dropped and is counted again.
    for (const text of texts.slice(1)) remember('key_a', text);
    expect(asked).toEqual([]);
    remember('key_a', texts[0] ?? '');
    expect(asked).toEqual([texts[0]]);
  });

  it('holds at most its characters over all tenants, and keeps no text longer than all of them', () => {
    const { asked, count } = watched();
    const remember = rememberingPerTenant(count, { texts: 100, chars: 100 });
    const forty = (c: string) => c.repeat(40);
    remember('key_a', forty('a'));
    remember('key_b', forty('b'));
    // A third would pass 100 characters: the oldest (key_a's) goes.
    remember('key_a', forty('c'));
    asked.length = 0;
    remember('key_b', forty('b'));
    remember('key_a', forty('c'));
    expect(asked).toEqual([]);
    remember('key_a', forty('a'));
    expect(asked).toEqual([forty('a')]);
    // Longer than the whole budget: counted, and counted again next time, without dropping the others.
    asked.length = 0;
    const long = 'x'.repeat(101);
    expect(remember('key_a', long)).toBe(encode(long).length);
    remember('key_a', long);
    expect(asked).toEqual([long, long]);
  });

  it('stays within its bounds over many tenants and texts', () => {
    const { count } = watched();
    let held = 0;
    const counting = (text: string) => {
      held += 1;
      return count(text);
    };
    const remember = rememberingPerTenant(counting, { texts: 50, chars: 2_000 });
    for (let i = 0; i < 3_000; i++) remember(`key_${i % 7}`, `text number ${i} of the run`);
    held = 0;
    // Only the newest fit: the last 50 texts (each under 40 characters) are all remembered.
    for (let i = 2_950; i < 3_000; i++) remember(`key_${i % 7}`, `text number ${i} of the run`);
    expect(held).toBe(0);
    remember('key_0', 'text number 0 of the run');
    expect(held).toBe(1);
  });
});

describe('countTextTokens', () => {
  it('gives the exact o200k_base counts for known strings', () => {
    expect(countTextTokens('hello world')).toBe(2);
    expect(countTextTokens('Hello, world!')).toBe(4);
    expect(countTextTokens('The quick brown fox jumps over the lazy dog.')).toBe(10);
    expect(countTextTokens('héllo wörld 日本語')).toBe(7);
  });

  it('counts a short text it remembers exactly as the encoder does, however often and whatever came before', async () => {
    const shorts = [
      'user',
      'system',
      'assistant',
      'developer',
      'tool',
      'a',
      ' ',
      'héllo',
      '日本語',
      '0123456789abcdef',
    ];
    for (let round = 0; round < 3; round++) {
      for (const text of shorts) expect(countTextTokens(text)).toBe(encode(text).length);
    }
    // Past the remembered length, counted afresh: still exact.
    expect(countTextTokens('0123456789abcdefg')).toBe(encode('0123456789abcdefg').length);
    // One counter per isolate: what it remembers serves every request.
    expect(await loadTokenCounter()).toBe(await loadTokenCounter());
  });

  it('agrees with the encoder on longer text', () => {
    const text = PROSE.repeat(20);
    expect(countTextTokens(text)).toBe(encode(text).length);
    expect(countTextTokens(text)).toBeGreaterThan(500);
  });

  it('returns 0 for the empty string', () => {
    expect(countTextTokens('')).toBe(0);
  });

  it('counts text that spells a special token as plain text instead of throwing', () => {
    expect(() => encode('<|endoftext|>')).toThrow();
    expect(countTextTokens('<|endoftext|>')).toBe(7);
  });
});

describe('estimateInputTokens', () => {
  it('adds message overhead and the documented margin to the exact count', () => {
    // 2 text + 4 user message + 3 reply priming = 9; + ceil(10 % of 9) + 16 = 26.
    expect(estimateInputTokens({ input: 'hello world' })).toBe(26);
    // Instructions are a second message: 2 + 2 + 4 + 4 + 3 = 15; + ceil(1.5) + 16 = 33.
    expect(estimateInputTokens({ instructions: 'hello world', input: 'hello world' })).toBe(33);
  });

  it('is never below the raw token counts plus 10 % and 16 tokens', () => {
    for (const text of ['a', 'hello world', PROSE, PROSE.repeat(50), '{"type":"object","properties":{}}']) {
      const raw = countTextTokens(text);
      const estimate = estimateInputTokens({ instructions: text, input: text });
      expect(estimate).toBeGreaterThanOrEqual(2 * raw + Math.ceil((2 * raw) / 10) + SAFETY_MARGIN_TOKENS);
    }
  });

  it('counts text parts like the same text given as a string', () => {
    const asParts = estimateInputTokens({
      input: [
        { type: 'text', text: 'hello' },
        { type: 'text', text: ' world' },
      ],
    });
    expect(asParts).toBe(estimateInputTokens({ input: 'hello world' }));
  });

  it('adds the fixed allowance per image, whatever the length of its URL', () => {
    const textOnly = estimateInputTokens({ input: PROSE });
    const dataUrl = `data:image/png;base64,${'A'.repeat(100_000)}`;
    const oneImage = estimateInputTokens({
      input: [
        { type: 'text', text: PROSE },
        { type: 'image', url: dataUrl },
      ],
    });
    const twoImages = estimateInputTokens({
      input: [
        { type: 'text', text: PROSE },
        { type: 'image', url: 'https://example.com/a.png' },
        { type: 'image', url: dataUrl },
      ],
    });
    expect(oneImage - textOnly).toBe(IMAGE_INPUT_TOKENS);
    expect(twoImages - textOnly).toBe(2 * IMAGE_INPUT_TOKENS);
    expect(IMAGE_INPUT_TOKENS).toBeGreaterThanOrEqual(85);
  });

  it('counts a structured-output schema, given as an object or as its JSON', () => {
    const schema = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] };
    const without = estimateInputTokens({ input: PROSE });
    const withObject = estimateInputTokens({ input: PROSE, schema });
    expect(withObject - without).toBeGreaterThanOrEqual(countTextTokens(JSON.stringify(schema)));
    expect(estimateInputTokens({ input: PROSE, schema: JSON.stringify(schema) })).toBe(withObject);
  });

  it('handles empty input with only the overhead and margin', () => {
    const overhead = MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS;
    const expected = overhead + Math.ceil(overhead / 10) + SAFETY_MARGIN_TOKENS;
    expect(estimateInputTokens({ input: '' })).toBe(expected);
    expect(estimateInputTokens({ input: [] })).toBe(expected);
    expect(estimateInputTokens({ instructions: '', input: '' })).toBeGreaterThan(expected);
  });
});
