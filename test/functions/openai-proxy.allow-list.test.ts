import { describe, expect, it } from 'vitest';
import { simRequests } from '../support/providers';
import { proxyCaller, warmTokenizer } from './openai-proxy.support';

warmTokenizer();

const chat = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Suggest a rain jacket' }] };
const responses = { model: 'gpt-6-luna', input: 'Suggest a rain jacket' };

type ErrorJson = { error: { type: string; code: string; param?: string; message: string } };

// Each refused request: the path, the body, and the field the error must name.
const REFUSED: [string, string, Record<string, unknown>, string][] = [
  ['a built-in tool', '/responses', { ...responses, tools: [{ type: 'web_search' }] }, 'tools.0.type'],
  [
    'an MCP server (OpenAI would connect to any URL)',
    '/responses',
    { ...responses, tools: [{ type: 'mcp', server_label: 'x', server_url: 'https://attacker.example' }] },
    'tools.0.type',
  ],
  [
    'a file input by URL',
    '/responses',
    {
      ...responses,
      input: [
        {
          role: 'user',
          content: [{ type: 'input_file', file_url: 'https://example.com/catalogue.pdf' }],
        },
      ],
    },
    'input.0.content.0.type',
  ],
  [
    'a file part in a chat message',
    '/chat/completions',
    { ...chat, messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file_1' } }] }] },
    'messages.0.content.0.type',
  ],
  ['the priority tier', '/responses', { ...responses, service_tier: 'priority' }, 'service_tier'],
  ['the flex tier', '/chat/completions', { ...chat, service_tier: 'flex' }, 'service_tier'],
  ['storing the answer', '/responses', { ...responses, store: true }, 'store'],
  [
    'two output caps',
    '/chat/completions',
    { ...chat, max_completion_tokens: 16, max_tokens: 1_000_000 },
    'max_tokens',
  ],
  ['audio output', '/chat/completions', { ...chat, modalities: ['text', 'audio'] }, 'modalities.1'],
  [
    'predicted outputs',
    '/chat/completions',
    { ...chat, prediction: { type: 'content', content: 'x' } },
    'prediction',
  ],
  ['web search options', '/chat/completions', { ...chat, web_search_options: {} }, 'web_search_options'],
  ['a field the gateway does not know', '/chat/completions', { ...chat, surprise: 1 }, 'surprise'],
  [
    'an unknown reasoning field',
    '/responses',
    { ...responses, reasoning: { budget: 9 } },
    'reasoning.budget',
  ],
  [
    'an unknown embeddings field',
    '/embeddings',
    { model: 'text-embedding-3-small', input: 'x', extra: 1 },
    'extra',
  ],
  [
    'an unknown image field',
    '/images/generations',
    { model: 'gpt-image-2', prompt: 'a boot', input_fidelity: 'high' },
    'input_fidelity',
  ],
];

describe('the proxy forwards only what it can price', () => {
  it.each(REFUSED)(
    'refuses %s with a 400 naming the field; nothing goes upstream, nothing is spent',
    async (_what, path, body, param) => {
      const { raw, sim, spentUsd } = await proxyCaller();
      const res = await raw(path, body);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ErrorJson;
      expect(error).toMatchObject({ type: 'invalid_request_error', param });
      expect(error.message).toContain('not supported through the gateway');
      expect(await simRequests(sim)).toEqual({});
      expect(await spentUsd()).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
    },
  );

  it('forwards function tools, reasoning and the standard tier, and keeps answers off the organisation', async () => {
    const { raw } = await proxyCaller();
    const res = await raw('/responses', {
      ...responses,
      tools: [{ type: 'function', name: 'find_jacket', parameters: { type: 'object', properties: {} } }],
      reasoning: { effort: 'low' },
      service_tier: 'default',
      metadata: { campaign: 'autumn' },
    });
    expect(res.status).toBe(200);
    // Responses stores answers by default; the gateway sends store: false.
    expect(((await res.json()) as { store: boolean }).store).toBe(false);
  });

  it('lets a client store answers only when PROXY_ALLOW_STORE is on', async () => {
    const { raw } = await proxyCaller({ PROXY_ALLOW_STORE: 'true' });
    const stored = await raw('/responses', { ...responses, store: true });
    expect(stored.status).toBe(200);
    expect(((await stored.json()) as { store: boolean }).store).toBe(true);
  });
});
