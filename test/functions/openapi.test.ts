import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { KeyId } from '../../functions/admin-keys';
import { ReportQuery } from '../../functions/admin-variants';
import { app, isPublic } from '../../functions/index';
import { ROUTES } from '../../functions/openapi/index';
import { OpportunitiesRequest } from '../../lib/domain/opportunities';
import { jsonSchemaOf } from '../../lib/openapi/document';
import { ErrorResponse } from '../../lib/openapi/errors';
import type { RouteDoc } from '../../lib/openapi/route-doc';
import pkg from '../../package.json';
import { adminAuth, bearer, createTestKey } from '../support/keys';

type Operation = {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: { 'application/json': { schema: Record<string, unknown>; example?: unknown } } };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};
type Document = {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    securitySchemes: Record<string, { type: string; scheme: string }>;
  };
};

async function fetchDocument(): Promise<Document> {
  const res = await exports.default.fetch('http://gateway/openapi.json');
  expect(res.status).toBe(200);
  return res.json();
}

const operationOf = (doc: Document, route: Pick<RouteDoc, 'method' | 'path'>) =>
  doc.paths[route.path]?.[route.method] as Operation;

/** A property's JSON Schema in an object schema's conversion. */
const propertyOf = (schema: Parameters<typeof jsonSchemaOf>[0], name: string) =>
  (jsonSchemaOf(schema, 'input') as { properties: Record<string, unknown> }).properties[name];

/** A concrete path for an OpenAPI template: every parameter a 64-hex id (the images' pattern). */
const samplePath = (path: string) => path.replace(/\{\w+\}/g, 'a'.repeat(64));

describe('GET /openapi.json', () => {
  it('serves an OpenAPI 3.1 document without a key, readable cross-origin', async () => {
    const res = await exports.default.fetch('http://gateway/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = await res.json<Document>();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: pkg.name, version: pkg.version });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    expect(doc.components.securitySchemes).toMatchObject({
      clientKey: { type: 'http', scheme: 'bearer' },
      adminKey: { type: 'http', scheme: 'bearer' },
    });
    expect(doc.components.schemas.Error).toEqual(jsonSchemaOf(ErrorResponse, 'output'));
  });

  it('documents every route the app serves, and nothing it does not', async () => {
    const doc = await fetchDocument();
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect([...new Set(documented)].sort()).toEqual([...new Set(served)].sort());
    expect(documented).toHaveLength(new Set(documented).size);
  });

  it('gives every operation a unique id and names its security as the guard applies it', async () => {
    const doc = await fetchDocument();
    const ids = ROUTES.map((r) => operationOf(doc, r).operationId);
    expect(new Set(ids).size).toBe(ROUTES.length);
    for (const route of ROUTES) {
      const security = operationOf(doc, route).security;
      // A public route takes no credential, or lists the empty requirement first (anyone may call).
      const anyone = security.length === 0 || Object.keys(security[0] ?? { x: 1 }).length === 0;
      expect([route.path, anyone]).toEqual([route.path, isPublic(samplePath(route.path))]);
      if (route.auth === 'admin') expect(security[0]).toEqual({ adminKey: [] });
      if (route.auth === 'admin') expect(security).not.toContainEqual({ clientKey: [] });
      if (route.auth === 'key') expect(security).toEqual([{ clientKey: [] }, { adminKey: [] }]);
    }
  });

  it("describes each request body, path and query with the handler's own zod schema", async () => {
    const doc = await fetchDocument();
    const withBody = ROUTES.filter((r) => r.body);
    expect(withBody.length).toBeGreaterThanOrEqual(7);
    for (const route of withBody) {
      const content = operationOf(doc, route).requestBody?.content['application/json'];
      expect(content?.schema).toEqual(jsonSchemaOf(route.body as NonNullable<RouteDoc['body']>, 'input'));
    }
    // The link, concretely: what the handler requires, the document requires.
    const opportunities = operationOf(doc, { method: 'post', path: '/v1/opportunities' });
    const body = opportunities.requestBody?.content['application/json'].schema;
    expect(body).toMatchObject({ required: ['intent'], additionalProperties: false });
    expect(OpportunitiesRequest.safeParse({}).success).toBe(false);

    const revoke = operationOf(doc, { method: 'delete', path: '/admin/keys/{id}' });
    expect(revoke.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: propertyOf(KeyId, 'id') },
    ]);
    const variants = operationOf(doc, { method: 'get', path: '/admin/variants' });
    expect(variants.parameters).toEqual([
      { name: 'days', in: 'query', required: false, schema: propertyOf(ReportQuery, 'days') },
    ]);
    expect(variants.parameters?.[0]?.schema).toMatchObject({ default: 7, minimum: 1, maximum: 35 });
  });

  it('gives example bodies the handler accepts (Try it out starts from them)', () => {
    for (const route of ROUTES.filter((r) => r.body)) {
      const parsed = route.body?.safeParse(route.example);
      expect([route.path, parsed?.error?.issues ?? []]).toEqual([route.path, []]);
    }
  });

  it.each(ROUTES.filter((r) => r.body))(
    '$method $path answers 400 naming the first field the document requires when it is left out',
    async (route) => {
      const doc = await fetchDocument();
      const schema = operationOf(doc, route).requestBody?.content['application/json'].schema as {
        required?: string[];
      };
      // POST /v1/moderate requires no one field (text, image_url or both): an empty body fails whole.
      const field = schema.required?.[0];
      const rest = field
        ? Object.fromEntries(Object.entries(route.example as object).filter(([k]) => k !== field))
        : {};
      const auth = route.auth === 'admin' ? adminAuth : bearer((await createTestKey()).key);
      const res = await exports.default.fetch(`http://gateway${route.path}`, {
        method: route.method.toUpperCase(),
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(rest),
      });
      expect(res.status).toBe(400);
      const error = ErrorResponse.parse(await res.json());
      expect(error.error).toMatchObject({ code: 'invalid_request', ...(field ? { param: field } : {}) });
    },
  );

  it('answers every failure with the one error body', async () => {
    const doc = await fetchDocument();
    for (const route of ROUTES) {
      const responses = operationOf(doc, route).responses;
      // A route's own 4xx/5xx bodies (GET /health's 503) are its documented responses, not failures.
      const failures = Object.entries(responses).filter(([s]) => Number(s) >= 400 && !(s in route.responses));
      for (const [status, response] of failures) {
        expect([route.path, status, response.content?.['application/json']?.schema]).toEqual([
          route.path,
          status,
          { $ref: '#/components/schemas/Error' },
        ]);
      }
      expect(Object.keys(responses)).toContain('500');
      if (route.auth !== 'none') expect(Object.keys(responses)).toContain('401');
    }
  });
});
