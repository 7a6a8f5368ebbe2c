import { describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../lib/errors';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../lib/json-depth';
import { envWith } from '../support/env';
import { callGateway } from '../support/gateway';
import { bearer, createTestKey } from '../support/keys';
import { simKey, simRequests } from '../support/providers';

const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('deeply nested JSON', () => {
  it('counts only brackets outside strings', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds(`{"s":"${'['.repeat(100)}\\"{{{"}`, 1)).toBe(false);
    expect(jsonDepthExceeds(deep(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDepthExceeds(deep(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
  });

  it.each([
    [
      '/openai/v1/chat/completions',
      `{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep(50_000)}}}]}`,
    ],
    [
      '/openai/v1/responses',
      `{"model":"gpt-6-luna","input":"hi","text":{"format":{"type":"json_schema","name":"x","schema":${deep(50_000)}}}}`,
    ],
    ['/v1/opportunities', `{"intent":"boots","context":${deep(50_000)}}`],
  ])('refuses a body nested 50,000 deep on %s with 400, before any upstream call', async (path, body) => {
    const { key } = await createTestKey({ rpm: 1000 });
    const sim = simKey();
    const env = envWith({ OPENAI_API_KEY: sim });
    const res = await callGateway(
      path,
      { method: 'POST', body, headers: { ...bearer(key), 'content-type': 'application/json' } },
      env,
    );
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_request',
    });
    expect(await simRequests(sim)).toEqual({});
  });
});
