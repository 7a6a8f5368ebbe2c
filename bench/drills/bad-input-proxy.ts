/**
 * The bad-input drill's view of the OpenAI-compatible proxy (`/openai/v1/*`, functions/openai-*.ts): each
 * route with a valid body to break, its constrained fields, and bodies wrong for a reason only the proxy
 * knows (a model it does not serve, `n` past its limit, a stream with bad options, a field it refuses
 * because it cannot price it, nesting past 64 levels). Every one must be refused before any spend.
 */
import type { RouteSpec } from './bad-input-routes.ts';

const CHAT = { model: 'gpt-6-luna', messages: [{ role: 'user', content: 'waterproof boots?' }] };
const RESPONSES = { model: 'gpt-6-luna', input: 'waterproof boots?' };
const EMBEDDINGS = { model: 'text-embedding-3-large', input: 'waterproof boots' };
const MODERATIONS = { model: 'omni-moderation-latest', input: 'waterproof boots' };
// The model first: invalid UTF-8 goes into the first string value (see `utf8InModel`).
const IMAGES = { model: 'gpt-image-2.5-flare', prompt: 'a pair of boots', size: '1024x1024' };

/** The body as JSON with `nested` empty arrays at `path`, where the whole body nests `depth` levels. */
export function nestedTo(body: object, path: string[], depth: number): string {
  const marker = '"__nest__"';
  let at: Record<string, unknown> = structuredClone(body) as Record<string, unknown>;
  const copy = at;
  for (const part of path.slice(0, -1)) at = at[part] as Record<string, unknown>;
  at[path.at(-1) as string] = '__nest__';
  const json = JSON.stringify(copy);
  const before = json.slice(0, json.indexOf(marker));
  // No string in these bodies holds a bracket, so counting them finds the marker's depth.
  const open = (before.match(/[[{]/g) ?? []).length - (before.match(/[\]}]/g) ?? []).length;
  const nested = depth - open;
  return json.replace(marker, '['.repeat(nested) + ']'.repeat(nested));
}

/** `json` with bytes that are not UTF-8 at the start of its first string value (the model). */
function utf8InModel(body: object): Uint8Array {
  const json = JSON.stringify(body);
  const at = json.indexOf('"', json.indexOf(':')) + 1;
  return Buffer.concat([
    Buffer.from(json.slice(0, at)),
    Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
    Buffer.from(json.slice(at)),
  ]);
}

/** A byte that is not UTF-8 where JSON wants a value. */
const utf8OutsideStrings = (body: object) =>
  Buffer.concat([Buffer.from(JSON.stringify(body).slice(0, -1)), Buffer.from(',"x":\xff}', 'latin1')]);

/** Cases every model-taking route gets: models it does not serve for this endpoint. */
function modelCases(body: object, otherKindModel: string): RouteSpec['cases'] {
  const notFound = [404];
  return {
    'unknown model': { body: { ...body, model: 'gpt-unknown' }, expect: notFound },
    'unknown dated model': { body: { ...body, model: 'gpt-unknown-2026-01-01' }, expect: notFound },
    'priced model with a malformed date': {
      body: { ...body, model: 'gpt-6-luna-2026-1-1' },
      expect: notFound,
    },
    'model of another kind': { body: { ...body, model: otherKindModel }, expect: notFound },
    'model as an array': { body: { ...body, model: ['gpt-6-luna'] } },
    'invalid UTF-8 in the model': { body: utf8InModel(body), expect: notFound },
    'invalid UTF-8 outside strings': { body: utf8OutsideStrings(body) },
  };
}

const tool = (parameters: unknown) => ({ type: 'function', function: { name: 'f', parameters } });
/** Where a chat tool's JSON schema sits. */
const TOOL_PARAMS = ['tools', '0', 'function', 'parameters'];

/** The proxy's routes, as the drill attacks them. */
export const PROXY_ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    route: 'POST /openai/v1/chat/completions',
    path: '/openai/v1/chat/completions',
    access: 'client',
    body: CHAT,
    textFields: { model: 256, 'messages.0.role': 64 },
    emptyOk: ['messages.0.role'],
    lookupFields: ['model'],
    formatFields: [
      'n',
      'stream',
      'stream_options.include_usage',
      'messages',
      'tools',
      'max_completion_tokens',
      'service_tier',
      'response_format',
    ],
    cases: {
      ...modelCases(CHAT, 'text-embedding-3-large'),
      'n too large (9)': { body: { ...CHAT, n: 9 } },
      'n zero': { body: { ...CHAT, n: 0 } },
      'n fractional': { body: { ...CHAT, n: 1.5 } },
      'no messages': { body: { ...CHAT, messages: [] } },
      'max_completion_tokens past PROXY_MAX_OUTPUT_TOKENS': { body: { ...CHAT, max_completion_tokens: 1e6 } },
      'max_tokens and max_completion_tokens': { body: { ...CHAT, max_tokens: 5, max_completion_tokens: 5 } },
      'stream with include_usage "yes"': {
        body: { ...CHAT, stream: true, stream_options: { include_usage: 'yes' } },
      },
      'stream with stream_options an array': { body: { ...CHAT, stream: true, stream_options: [true] } },
      'stream "true" (a string)': { body: { ...CHAT, stream: 'true' } },
      'stream with n too large': { body: { ...CHAT, stream: true, n: 9 } },
      'stream with an unknown model': {
        body: { ...CHAT, stream: true, stream_options: { include_usage: true }, model: 'gpt-unknown' },
        expect: [404],
      },
      'audio output': { body: { ...CHAT, modalities: ['text', 'audio'], audio: { voice: 'alloy' } } },
      'predicted output': { body: { ...CHAT, prediction: { type: 'content', content: 'x' } } },
      'web search options': { body: { ...CHAT, web_search_options: {} } },
      'built-in tool': { body: { ...CHAT, tools: [{ type: 'web_search' }] } },
      'file input part': {
        body: { ...CHAT, messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'f' } }] }] },
      },
      'store: true': { body: { ...CHAT, store: true } },
      'priority service tier': { body: { ...CHAT, service_tier: 'priority' } },
      'temperature 3': { body: { ...CHAT, temperature: 3 } },
      'tool schema nested 65 deep': { body: nestedTo({ ...CHAT, tools: [tool({})] }, TOOL_PARAMS, 65) },
      // At the limit the depth check lets it through; the unknown model then refuses it.
      'tool schema nested 64 deep, unknown model': {
        body: nestedTo({ ...CHAT, model: 'gpt-unknown', tools: [tool({})] }, TOOL_PARAMS, 64),
        expect: [404],
      },
    },
  },
  {
    method: 'POST',
    route: 'POST /openai/v1/responses',
    path: '/openai/v1/responses',
    access: 'client',
    body: RESPONSES,
    textFields: { model: 256 },
    lookupFields: ['model'],
    formatFields: ['stream', 'max_output_tokens', 'reasoning', 'truncation', 'background', 'include'],
    cases: {
      ...modelCases(RESPONSES, 'gpt-image-2.5-flare'),
      previous_response_id: { body: { ...RESPONSES, previous_response_id: 'resp_1' } },
      conversation: { body: { ...RESPONSES, conversation: 'conv_1' } },
      'stored prompt': { body: { ...RESPONSES, prompt: { id: 'pmpt_1' } } },
      'background: true': { body: { ...RESPONSES, background: true } },
      'stream in the background': { body: { ...RESPONSES, stream: true, background: true } },
      'stream with an unknown reasoning effort': {
        body: { ...RESPONSES, stream: true, reasoning: { effort: 'maximal' } },
      },
      'empty input list': { body: { ...RESPONSES, input: [] } },
      'input file part': {
        body: { ...RESPONSES, input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
      },
      'max_output_tokens past PROXY_MAX_OUTPUT_TOKENS': { body: { ...RESPONSES, max_output_tokens: 1e6 } },
      'store: true': { body: { ...RESPONSES, store: true } },
      'text format nested 65 deep': {
        body: nestedTo({ ...RESPONSES, text: { format: {} } }, ['text', 'format'], 65),
      },
    },
  },
  {
    method: 'POST',
    route: 'POST /openai/v1/embeddings',
    path: '/openai/v1/embeddings',
    access: 'client',
    body: EMBEDDINGS,
    textFields: { model: 256 },
    lookupFields: ['model'],
    formatFields: ['dimensions', 'encoding_format'],
    cases: {
      ...modelCases(EMBEDDINGS, 'gpt-6-luna'),
      'empty input': { body: { ...EMBEDDINGS, input: '' } },
      'empty input list': { body: { ...EMBEDDINGS, input: [] } },
      'input list with an empty string': { body: { ...EMBEDDINGS, input: ['boots', ''] } },
      'negative token id': { body: { ...EMBEDDINGS, input: [1, -2] } },
      'input an object': { body: { ...EMBEDDINGS, input: { text: 'boots' } } },
      '2,049 inputs': { body: { ...EMBEDDINGS, input: Array.from({ length: 2049 }, () => 'boots') } },
      'dimensions 0': { body: { ...EMBEDDINGS, dimensions: 0 } },
    },
  },
  {
    method: 'POST',
    route: 'POST /openai/v1/moderations',
    path: '/openai/v1/moderations',
    access: 'client',
    body: MODERATIONS,
    textFields: { model: 256 },
    lookupFields: ['model'],
    cases: {
      ...modelCases(MODERATIONS, 'gpt-6-luna'),
      'no input': { body: { model: MODERATIONS.model } },
      'empty input list': { body: { ...MODERATIONS, input: [] } },
      'input a number': { body: { ...MODERATIONS, input: 42 } },
      'input part of an unknown type': { body: { ...MODERATIONS, input: [{ type: 'input_audio' }] } },
    },
  },
  {
    method: 'POST',
    route: 'POST /openai/v1/images/generations',
    path: '/openai/v1/images/generations',
    access: 'client',
    body: IMAGES,
    textFields: { model: 256, prompt: 32_000 },
    emptyOk: ['prompt'],
    lookupFields: ['model'],
    formatFields: ['n', 'size', 'quality', 'stream', 'background', 'output_format', 'output_compression'],
    cases: {
      ...modelCases(IMAGES, 'gpt-6-luna'),
      'n too large (11)': { body: { ...IMAGES, n: 11 } },
      'n × size past the pixel cap': { body: { ...IMAGES, n: 10, size: '1536x1024' } },
      'size past 3840 a side': { body: { ...IMAGES, size: '4096x1024' } },
      'size not a multiple of 16': { body: { ...IMAGES, size: '1000x1000' } },
      'stream: true': { body: { ...IMAGES, stream: true } },
      'quality ultra': { body: { ...IMAGES, quality: 'ultra' } },
      'no prompt': { body: { model: IMAGES.model } },
    },
  },
  { method: 'GET', route: 'GET /openai/v1/models', path: '/openai/v1/models', access: 'client' },
  {
    method: 'GET',
    route: 'GET /openai/v1/models/:model',
    path: '/openai/v1/models/gpt-unknown',
    access: 'client',
  },
];
