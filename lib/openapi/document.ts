/**
 * Builds the OpenAPI 3.1 document from a list of routes whose inputs are the very zod schemas the
 * handlers validate with. They are converted by zod's own `z.toJSONSchema` into JSON Schema 2020-12,
 * the dialect OpenAPI 3.1 uses, so the document cannot drift from validation. We keep a list rather
 * than `@hono/zod-openapi` (whose `createRoute` would mean rewriting every handler) or `hono-openapi`
 * (a `describeRoute` middleware in every endpoint): the handlers stay as they are, and a test holds
 * the list to `app.routes`. Every error is the one body of lib/errors.ts. The routes are passed in:
 * they are described beside the handlers (functions/openapi/), which lib/ never imports.
 */
import { z } from 'zod';
import { ErrorResponse, errorResponsesOf } from './errors';
import type { Auth, JsonSchema, RouteDoc } from './route-doc';

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
  /** Tag → description, in the order the reference shows them. */
  tags: Record<string, string>;
}

export const SECURITY_SCHEMES = {
  clientKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'cag_…',
    description: 'A client key (`cag_` + 43 characters) from `POST /admin/keys`.',
  },
  adminKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'The operator key, `ADMIN_API_KEY`. It may also call every client route.',
  },
  scrapeToken: {
    type: 'http',
    scheme: 'bearer',
    description: '`METRICS_SCRAPE_TOKEN`, for a Prometheus scraper; `GET /metrics` only.',
  },
} as const;

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  none: [],
  key: [{ clientKey: [] }, { adminKey: [] }],
  admin: [{ adminKey: [] }],
};

/** A zod schema as JSON Schema 2020-12 (no `$schema`: OpenAPI 3.1 names its dialect itself). */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  return rest;
}

/** The OpenAPI 3.1 document for `routes`. Pure: the same routes give the same document. */
export function buildDocument(routes: readonly RouteDoc[], info: DocumentInfo) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route) };
  }
  return {
    openapi: '3.1.1',
    info: { title: info.title, version: info.version, description: info.description },
    tags: Object.entries(info.tags).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(ErrorResponse, 'output') },
      securitySchemes: SECURITY_SCHEMES,
      headers: {
        RequestId: {
          description: 'The request id (`req_…`); quote it when reporting a problem.',
          schema: { type: 'string' },
        },
        RetryAfter: { description: 'Seconds until a retry can succeed.', schema: { type: 'integer' } },
      },
    },
  };
}

function operationOf(route: RouteDoc) {
  const parameters = [...pathParametersOf(route), ...parametersOf('query', route.query)];
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description,
    tags: [route.tag],
    security: route.security ?? SECURITY[route.auth],
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: jsonSchemaOf(route.body, 'input'),
                ...(route.example === undefined ? {} : { example: route.example }),
              },
            },
          },
        }
      : {}),
    responses: { ...successesOf(route), ...errorResponsesOf(route) },
  };
}

/** The handler's param schema, or plain strings for a handler that reads `c.req.param()` as is. */
function pathParametersOf(route: RouteDoc) {
  if (route.params) return parametersOf('path', route.params);
  return [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name: name as string,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
}

function parametersOf(where: 'path' | 'query', schema: z.ZodObject | undefined) {
  if (!schema) return [];
  const json = jsonSchemaOf(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

function successesOf(route: RouteDoc) {
  return Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => {
      const content = response.schema
        ? { 'application/json': { schema: jsonSchemaOf(response.schema, 'output') } }
        : Object.fromEntries(
            Object.entries(response.content ?? {}).map(([type, schema]) => [type, { schema }]),
          );
      const headers = Object.fromEntries(
        Object.entries(response.headers ?? {}).map(([name, description]) => [
          name,
          { description, schema: { type: 'string' } },
        ]),
      );
      return [
        status,
        {
          description: response.description,
          headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' }, ...headers },
          ...(Object.keys(content).length ? { content } : {}),
        },
      ];
    }),
  );
}
