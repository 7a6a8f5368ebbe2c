/** The service's own routes in the OpenAPI document: what it is, whether it is up, its docs. */
import { z } from 'zod';
import type { RouteDoc } from '../../lib/openapi/route-doc';
import { HealthBody, PublicHealthBody, RootResponse } from './schemas';

const html = { 'text/html': { type: 'string' } };
const asset = (path: string, operationId: string, summary: string, type: string): RouteDoc => ({
  method: 'get',
  path,
  operationId,
  summary,
  description: 'A file of the self-hosted Swagger UI that `/docs` loads; revalidated by ETag.',
  tag: 'Service',
  auth: 'none',
  responses: {
    200: {
      description: summary,
      content: { [type]: { type: 'string' } },
      headers: { etag: "The file's hash." },
    },
    304: { description: 'Not modified (`If-None-Match` matched).' },
  },
});

export const SERVICE_ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/',
    operationId: 'getRoot',
    summary: 'Name, version and links',
    description: 'What this service is and where to go next.',
    tag: 'Service',
    auth: 'none',
    responses: { 200: { description: 'The service.', schema: RootResponse } },
  },
  {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness; with the admin key, one Redis round trip and the configuration',
    description:
      'Without the admin key (none, or any other bearer, a client key included): `{status: "ok", version}`, with no Redis command and nothing about the configuration. With the admin key: one Redis round trip, and which store, provider and models are configured (`local` or `remote`), never a secret; 503 with `status: degraded` when Redis does not answer.',
    tag: 'Service',
    auth: 'none',
    // Anyone may call; the admin key adds the details.
    security: [{}, { adminKey: [] }],
    responses: {
      200: {
        description: 'Up (and, with the admin key, Redis answers).',
        schema: z.union([PublicHealthBody, HealthBody]),
      },
      503: { description: 'With the admin key: up, but Redis does not answer.', schema: HealthBody },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    description: 'Generated from the zod schemas the handlers validate with.',
    tag: 'Service',
    auth: 'none',
    responses: {
      200: {
        description: 'The document.',
        schema: z.object({ openapi: z.string().regex(/^3\.1\.\d+$/) }).catchall(z.unknown()),
      },
    },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'getDocs',
    summary: 'The interactive API reference',
    description:
      'Swagger UI over `/openapi.json`, served from the gateway itself (no CDN), sandboxed (CSP `sandbox`: an opaque origin that cannot read what the dashboard keeps on this origin). **Authorize** takes a client key or the admin key for **Try it out**; the key stays in the page.',
    tag: 'Service',
    auth: 'none',
    responses: { 200: { description: 'The page.', content: html } },
  },
  asset('/docs/swagger-ui.css', 'getDocsStylesheet', "Swagger UI's stylesheet", 'text/css'),
  asset('/docs/swagger-ui-bundle.js', 'getDocsBundle', "Swagger UI's script", 'text/javascript'),
  {
    method: 'get',
    path: '/docs/init.js',
    operationId: 'getDocsInit',
    summary: 'The script that starts Swagger UI on `/docs`',
    description: "A separate file, so the page's CSP allows scripts from this origin only.",
    tag: 'Service',
    auth: 'none',
    responses: { 200: { description: 'The script.', content: { 'text/javascript': { type: 'string' } } } },
  },
  {
    method: 'get',
    path: '/dashboard',
    operationId: 'getDashboard',
    summary: "The operator's dashboard",
    description:
      'One self-contained page. It holds no data: it asks for the admin key and reads `/v1/metrics` and `/v1/budget` with it.',
    tag: 'Service',
    auth: 'none',
    responses: { 200: { description: 'The page.', content: html } },
  },
];
