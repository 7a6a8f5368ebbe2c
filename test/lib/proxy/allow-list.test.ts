import { describe, expect, it } from 'vitest';
import { ChatCompletionRequest, ResponsesRequest } from '../../../lib/proxy/schemas';

const chat = (content: unknown[]) => ({ model: 'gpt-6-luna', messages: [{ role: 'user', content }] });

describe('refuseUnpricedParts', () => {
  it('names each unpriced part where it is, however deep, and leaves every other part alone', () => {
    const result = ChatCompletionRequest.safeParse({
      model: 'gpt-6-luna',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'input_audio' }] },
        { role: 'user', content: 'plain' },
        { role: 'user', content: [{ type: 'file', file: { type: 'input_file' } }] },
      ],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toEqual([
      ['messages', 0, 'content', 1, 'type'],
      ['messages', 2, 'content', 0, 'type'],
    ]);
    const responses = ResponsesRequest.safeParse({
      model: 'gpt-6-luna',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_file' }] }],
    });
    expect(responses.error?.issues.map((i) => i.path)).toEqual([['input', 0, 'content', 1, 'type']]);
  });

  it('takes a part type named like an object property (constructor, toString) for what it is: no unpriced part', () => {
    for (const type of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      expect(ChatCompletionRequest.safeParse(chat([{ type, text: 'x' }])).success).toBe(true);
    }
    expect(ChatCompletionRequest.safeParse(chat([{ type: 'input_audio' }])).success).toBe(false);
  });
});
