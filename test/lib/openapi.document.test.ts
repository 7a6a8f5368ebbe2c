import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildDocument, jsonSchemaOf } from '../../lib/openapi/document';
import type { RouteDoc } from '../../lib/openapi/route-doc';

const INFO = { title: 't', version: '1.0.0', description: 'd', tags: { Things: 'All of them.' } };
const Body = z.strictObject({ name: z.string().min(1), size: z.number().int().default(1) });

const route = (overrides: Partial<RouteDoc>): RouteDoc => ({
  method: 'post',
  path: '/things/{id}',
  operationId: 'makeThing',
  summary: 's',
  description: 'd',
  tag: 'Things',
  auth: 'key',
  responses: { 200: { description: 'ok', schema: z.object({ id: z.string() }) } },
  ...overrides,
});

type Operation = {
  security: unknown[];
  parameters?: unknown[];
  requestBody?: { content: { 'application/json': { schema: unknown; example?: unknown } } };
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: unknown }>;
};
const operation = (routes: RouteDoc[], path = '/things/{id}', method = 'post') =>
  (buildDocument(routes, INFO).paths[path] as Record<string, Operation>)[method] as Operation;

describe('buildDocument', () => {
  it('converts the request body as input (defaults optional) and the response as output', () => {
    const op = operation([route({ body: Body, example: { name: 'a' } })]);
    const content = op.requestBody?.content['application/json'];
    expect(content?.schema).toEqual(jsonSchemaOf(Body, 'input'));
    expect(content?.schema).toMatchObject({ required: ['name'], additionalProperties: false });
    expect(content?.example).toEqual({ name: 'a' });
    expect(jsonSchemaOf(Body, 'input')).not.toHaveProperty('$schema');
    expect(op.responses['200']?.content).toEqual({
      'application/json': {
        schema: {
          type: 'object',
          properties: { id: { type: 'string' } },
          required: ['id'],
          additionalProperties: false,
        },
      },
    });
  });

  it('names path parameters from the template when the handler has no param schema', () => {
    expect(operation([route({})]).parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });

  it('adds the failures that auth and inputs imply to the route’s own, all with the one error body', () => {
    const op = operation([route({ body: Body, errors: { 400: ['`special`: why.'], 404: ['`gone`.'] } })]);
    expect(Object.keys(op.responses)).toEqual(['200', '400', '401', '404', '413', '429', '500', '503']);
    expect(op.responses['400']?.description).toContain('`invalid_request`');
    expect(op.responses['400']?.description).toContain('- `special`: why.');
    expect(op.responses['429']?.headers).toHaveProperty('retry-after');
    expect(op.responses['404']?.content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/Error' } },
    });
  });

  it('maps auth to security, and lets a route name another credential', () => {
    expect(operation([route({ auth: 'none' })]).security).toEqual([]);
    expect(operation([route({ auth: 'admin' })]).security).toEqual([{ adminKey: [] }]);
    const custom: Record<string, string[]>[] = [{ adminKey: [] }, { scrapeToken: [] }];
    expect(operation([route({ auth: 'admin', security: custom })]).security).toEqual(custom);
    expect(operation([route({ auth: 'none' })]).responses).not.toHaveProperty('401');
  });

  it('keeps two methods of one path apart', () => {
    const doc = buildDocument([route({}), route({ method: 'get', operationId: 'getThing' })], INFO);
    expect(Object.keys(doc.paths['/things/{id}'] ?? {})).toEqual(['post', 'get']);
    expect(doc.openapi).toBe('3.1.1');
    expect(doc.tags).toEqual([{ name: 'Things', description: 'All of them.' }]);
  });
});
