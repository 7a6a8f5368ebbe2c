/**
 * How a route describes itself to the OpenAPI document (document.ts builds it; errors.ts adds the
 * failures its auth and inputs imply). The descriptions live beside the routes, in functions/openapi/.
 */
import type { z } from 'zod';

export type JsonSchema = Record<string, unknown>;
/** Who may call: anyone, a client key (or the admin key), or only the admin key. */
export type Auth = 'none' | 'key' | 'admin';
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseDoc {
  description: string;
  /** A JSON body. */
  schema?: z.ZodType;
  /** Any other body: media type → JSON Schema (`{}` for bytes). */
  content?: Record<string, JsonSchema>;
  /** Headers worth naming besides `x-request-id`: name → what it says. */
  headers?: Record<string, string>;
}

export interface RouteDoc {
  method: Method;
  /** In OpenAPI form: `/admin/keys/{id}` for Hono's `/admin/keys/:id`. */
  path: string;
  operationId: string;
  summary: string;
  /** Markdown. */
  description: string;
  tag: string;
  auth: Auth;
  /** Overrides the security `auth` implies, for a route that takes another credential too. */
  security?: Record<string, string[]>[];
  /** The schemas the handler passes to `valid('param' | 'query' | 'json', …)`, the same objects. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A body the handler accepts; Swagger UI's "Try it out" starts from it. */
  example?: unknown;
  responses: Record<number, ResponseDoc>;
  /** What else can fail, status → Markdown bullets; authentication and validation are added from `auth` and the inputs. */
  errors?: Record<number, string[]>;
}
