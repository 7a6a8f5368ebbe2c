/**
 * The bad-input drill's corpus: requests that are malformed for a reason the gateway must see before it
 * does any work (bad JSON, wrong types, oversize bodies and fields, unicode in constrained fields, missing
 * or garbled keys, injection strings where they break a constraint, bad ids, nesting past 64 levels), on
 * every route of docs/api.md's Endpoints table plus the bulk routes and the OpenAI-compatible proxy's
 * (models it does not serve, `n` past its limit, streams with bad options, fields it cannot price). Each
 * must get a typed 4xx.
 *
 * An injection string in a free-text field is valid input (a prompt-injection sentence is a legitimate
 * intent), so here it only appears together with a real violation (past the field's length); the drill
 * sends it on its own separately (bad-input.ts) and checks it gets normal handling.
 */
import { PROXY_ROUTES } from './bad-input-proxy.ts';
import { INJECTIONS, ROUTES, type RouteSpec, UNICODE } from './bad-input-routes.ts';

/** Every route the corpus covers: the domain API's and the OpenAI-compatible proxy's. */
export const CORPUS_ROUTES: RouteSpec[] = [...ROUTES, ...PROXY_ROUTES];

/** One malformed request. */
export interface BadCase {
  /** Unique, readable: "POST /v1/opportunities body: intent null". */
  id: string;
  /** The route template it targets, e.g. "DELETE /admin/keys/:id". */
  route: string;
  method: string;
  /** Concrete path, query included. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Header lines written byte for byte (sendRaw), for what fetch refuses to send. */
  rawHeaderLines?: string[];
  /** Statuses the case should get; any other 4xx is reported but still typed and harmless. */
  expect: number[];
  /**
   * Rejected by the HTTP layer before the Worker runs (as Cloudflare's edge would): a 4xx is required,
   * the gateway's error body is not.
   */
  platform?: boolean;
}

/** The keys the corpus uses: a working client key, the admin key, a revoked key. */
export interface CorpusKeys {
  client: string;
  admin: string;
  revoked: string;
}

/** Builds the whole corpus; ids are unique. */
export function badInputCorpus(keys: CorpusKeys, maxBodyBytes = 1_048_576): BadCase[] {
  const cases: BadCase[] = [];
  const add = (spec: RouteSpec, label: string, parts: Partial<BadCase> & { expect: number[] }) => {
    cases.push({
      id: `${spec.route} ${label}`,
      route: spec.route,
      method: spec.method,
      path: spec.path,
      headers: {},
      ...parts,
    });
  };
  for (const spec of CORPUS_ROUTES) {
    const auth = { authorization: `Bearer ${spec.access === 'admin' ? keys.admin : keys.client}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const validBody = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const withBody = (body: string | Uint8Array, label: string, expect = [400]) =>
      add(spec, `body: ${label}`, { headers: json, body, expect });
    if (spec.access !== 'public' || spec.route === 'GET /v1/images/:id') {
      // A content-addressed image path is public, where a bad key changes nothing: use a malformed id too.
      const authPath = spec.route === 'GET /v1/images/:id' ? '/v1/images/not-a-hash' : spec.path;
      for (const [label, headers] of authCases(keys)) {
        if (spec.route === 'GET /v1/images/:id') {
          add(spec, `auth: ${label}`, { path: authPath, headers, expect: [401] });
        } else {
          add(spec, `auth: ${label}`, {
            headers: { ...headers, ...(validBody ? { 'content-type': 'application/json' } : {}) },
            body: validBody,
            expect: [401],
          });
        }
      }
      for (const [label, line] of rawAuthLines(keys)) {
        add(spec, `auth (raw): ${label}`, {
          path: authPath,
          rawHeaderLines: [line],
          body: validBody,
          expect: [400, 401],
          platform: true,
        });
      }
    }
    if (spec.access === 'admin') {
      add(spec, 'auth: client key on an admin route', {
        headers: { authorization: `Bearer ${keys.client}` },
        expect: [401, 403],
      });
    }
    for (const method of wrongMethods(spec)) {
      // 400 too: a wrong method can land on another route's pattern (GET /v1/images/analyze is an image id).
      add(spec, `wrong method ${method}`, { method, headers: auth, expect: [400, 404, 405] });
    }
    if (spec.body !== undefined) {
      for (const [label, body] of Object.entries(SYNTAX_ERRORS)) withBody(body, label);
      withBody(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'nested 100,000 deep');
      withBody(`{"a":${'['.repeat(64)}${']'.repeat(64)}}`, 'nested 65 deep (one past the limit)');
      withBody(`{"x":"${'a'.repeat(maxBodyBytes)}"}`, `over MAX_BODY_BYTES (${maxBodyBytes})`, [413]);
      // The size limit answers before authentication: it costs nothing, and names only MAX_BODY_BYTES.
      add(spec, 'auth: unknown key with a body over MAX_BODY_BYTES', {
        headers: { authorization: `Bearer cag_${'A'.repeat(43)}`, 'content-type': 'application/json' },
        body: `{"x":"${'a'.repeat(maxBodyBytes)}"}`,
        expect: [401, 413],
      });
      add(spec, 'body: JSON as text/plain', {
        headers: { ...auth, 'content-type': 'text/plain' },
        body: validBody,
        expect: [400, 415],
      });
      withBody(JSON.stringify({ ...spec.body, unexpected_field: INJECTIONS.sql }), 'unknown field');
      for (const field of Object.keys(spec.textFields ?? {})) addFieldCases(spec, field, withBody);
      for (const field of spec.formatFields ?? []) {
        for (const [label, value] of Object.entries({
          ...INJECTIONS,
          ...UNICODE,
          number: -1,
          object: { $gt: 1 },
        })) {
          withBody(JSON.stringify(setPath(spec.body, field, value)), `${field} = ${label}`);
        }
      }
      for (const field of spec.lookupFields ?? []) {
        for (const [label, value] of Object.entries({ ...INJECTIONS, ...UNICODE, number: -1, object: {} })) {
          withBody(JSON.stringify(setPath(spec.body, field, value)), `${field} = ${label}`, [400, 404]);
        }
      }
      for (const [label, { body, expect }] of Object.entries(spec.cases ?? {})) {
        const raw = typeof body === 'string' || body instanceof Uint8Array;
        withBody(raw ? body : JSON.stringify(body), label, expect);
      }
    }
    for (const [label, path] of paramCases(spec))
      add(spec, label, { path, headers: auth, expect: [400, 404] });
  }
  return cases;
}

function addFieldCases(spec: RouteSpec, field: string, withBody: (body: string, label: string) => void) {
  const max = spec.textFields?.[field] ?? 0;
  const put = (value: unknown) => JSON.stringify(setPath(spec.body, field, value));
  const wrong: Record<string, unknown> = { null: null, number: 42, array: ['a'], object: { a: 1 } };
  if (!spec.emptyOk?.includes(field)) Object.assign(wrong, { empty: '', blank: ' \t\n ' });
  for (const [label, value] of Object.entries(wrong)) withBody(put(value), `${field} ${label}`);
  // Injection and unicode payloads, repeated past the field's limit: malformed by length, whatever they carry.
  for (const [label, payload] of Object.entries({
    ...INJECTIONS,
    emoji: UNICODE.emoji as string,
    rtl: UNICODE.rtl_override as string,
  })) {
    withBody(
      // zod counts code points, not UTF-16 units.
      put(payload.repeat(Math.ceil((max + 1) / [...payload].length))),
      `${field} ${label} over ${max} chars`,
    );
  }
}

/** Methods no route serves on this route's path. */
function wrongMethods(spec: RouteSpec): string[] {
  const served = new Set(CORPUS_ROUTES.filter((r) => r.path === spec.path).map((r) => r.method));
  return ['PUT', 'PATCH', 'GET', 'DELETE'].filter((m) => !served.has(m as RouteSpec['method'])).slice(0, 3);
}

function authCases(keys: CorpusKeys): [string, Record<string, string>][] {
  return [
    ['no authorization header', {}],
    ['empty bearer', { authorization: 'Bearer ' }],
    ['basic scheme', { authorization: 'Basic ZHJpbGw6ZHJpbGw=' }],
    ['unknown key', { authorization: `Bearer cag_${'A'.repeat(43)}` }],
    ['garbled key', { authorization: `Bearer cag_${INJECTIONS.sql}` }],
    ['key without scheme', { authorization: keys.client }],
    ['oversized key (8 KB)', { authorization: `Bearer cag_${'x'.repeat(8192)}` }],
    ['revoked key', { authorization: `Bearer ${keys.revoked}` }],
    ['key in x-api-key only', { 'x-api-key': keys.client }],
  ];
}

/** Header lines fetch will not send: CR/LF inside, bytes outside Latin-1. */
function rawAuthLines(keys: CorpusKeys): [string, string][] {
  return [
    ['CRLF-injected header', `authorization: Bearer cag_nope\r\nx-admin: ${keys.admin}`],
    [
      'zero-width chars in the key',
      `authorization: Bearer ${keys.client.slice(0, 10)}\u200b${keys.client.slice(10)}`,
    ],
    ['bare CR inside the value', `authorization: Bearer ${keys.client}\rx-evil: 1`],
  ];
}

const SYNTAX_ERRORS: Record<string, string> = {
  'empty body': '',
  'truncated object': '{"intent": "boots"',
  'missing value': '{"intent": }',
  'single quotes': "{'intent': 'boots'}",
  'trailing garbage': '{"a": 1} trailing',
  'bare null': 'null',
  'bare array': '[]',
  'bare string': '"intent"',
  'bare number': '42',
  'NaN literal': '{"a": NaN}',
};

function paramCases(spec: RouteSpec): [string, string][] {
  const ids = {
    traversal: '..%2F..%2Fadmin%2Fkeys',
    'encoded CRLF': 'key_x%0d%0aset-cookie:%20a=b',
    sql: "key_'%20OR%20'1'%3D'1",
    html: '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    'lone surrogate (as UTF-8 bytes)': 'key_%ED%A0%80',
    'overlong (5,000 chars)': `key_${'f'.repeat(5000)}`,
  };
  const withId = (template: string) =>
    Object.entries(ids).map(
      ([label, id]) => [`id: ${label}`, template.replace(':id', id)] as [string, string],
    );
  if (spec.route === 'DELETE /admin/keys/:id') return withId('/admin/keys/:id');
  if (spec.route === 'GET /v1/images/:id') return withId('/v1/images/:id');
  if (spec.route === 'GET /v1/batches/:id') {
    return [
      ...withId('/v1/batches/:id'),
      ...['limit=0', 'limit=abc', 'offset=-1', 'limit=1001'].map(
        (q) => [`query ${q}`, `${spec.path}?${q}`] as [string, string],
      ),
    ];
  }
  if (spec.route === 'POST /v1/batches/:id/cancel') return withId('/v1/batches/:id/cancel');
  if (spec.route === 'GET /openai/v1/models/:model') {
    return [
      ...withId('/openai/v1/models/:id'),
      ['id: an unknown dated model', '/openai/v1/models/gpt-x-2026-01-01'],
    ];
  }
  const queries: Record<string, string[]> = {
    'GET /v1/metrics': [
      'minutes=0',
      'minutes=1441',
      'minutes=abc',
      'minutes=-5',
      `minutes=${encodeURIComponent(INJECTIONS.sql)}`,
    ],
    'GET /admin/variants': [
      'days=0',
      'days=36',
      'days=abc',
      `days=${encodeURIComponent(UNICODE.emoji as string)}`,
    ],
  };
  return (queries[spec.route] ?? []).map((q) => [`query ${q}`, `${spec.path}?${q}`]);
}

/** `body` with the value at a dotted path replaced (arrays by index), creating objects on the way. */
export function setPath(body: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  const parts = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    if (typeof at[part] !== 'object' || at[part] === null) at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  at[parts.at(-1) as string] = value;
  return copy;
}

/** The JSON with a byte sequence that is not UTF-8 inside its first string value. */
export function invalidUtf8(json: string): Uint8Array {
  const bytes = Buffer.from(json, 'utf8');
  const quote = bytes.indexOf(0x22, bytes.indexOf(0x3a)); // first string value
  return Buffer.concat([
    bytes.subarray(0, quote + 1),
    Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
    bytes.subarray(quote + 1),
  ]);
}
