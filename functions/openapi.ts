import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { buildDocument } from '../lib/openapi/document';
import pkg from '../package.json';
import { ROUTES, TAGS } from './openapi/index';

const DESCRIPTION = `${pkg.description}

Send a key as \`Authorization: Bearer <key>\`: a client key (\`cag_…\`, from \`POST /admin/keys\`) for \`/v1/*\`, the admin key for \`/admin/*\`. Every error has one body, \`{"error": {type, code, message, param?, details?, request_id}}\`; every response carries \`x-request-id\`, and keyed responses \`x-ratelimit-limit\`, \`x-ratelimit-remaining\` and \`x-ratelimit-reset\`.`;

// Converting some thirty zod schemas takes tens of milliseconds of CPU, so the document is built once
// per isolate, on its first request. It depends on the code alone (no env, no request), so keeping it
// shares nothing between requests that could differ.
let serialized: string | undefined;
const documentJson = () =>
  (serialized ??= JSON.stringify(
    buildDocument(ROUTES, { title: pkg.name, version: pkg.version, description: DESCRIPTION, tags: TAGS }),
  ));

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document, built (lib/openapi) from the route descriptions in
 * functions/openapi/ and the handlers' own zod schemas. Public, and readable cross-origin so other
 * tools can load it.
 */
export const openapi = new Hono<AppEnv>().get('/openapi.json', (c) =>
  c.body(documentJson(), 200, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'public, max-age=300',
    'access-control-allow-origin': '*',
  }),
);
