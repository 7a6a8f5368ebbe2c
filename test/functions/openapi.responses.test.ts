import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { CreatedKeyResponse, KeyResponse } from '../../functions/openapi/admin-schemas';
import { ROUTES } from '../../functions/openapi/index';
import { BudgetResponse } from '../../functions/openapi/schemas';
import { ErrorResponse } from '../../lib/openapi/errors';
import type { RouteDoc } from '../../lib/openapi/route-doc';
import { envWith } from '../support/env';
import { callGateway } from '../support/gateway';
import { adminAuth, bearer, createTestKey } from '../support/keys';
import { simKey } from '../support/providers';

/**
 * The documented response bodies hold for real responses: each route with a JSON success schema is
 * called with its documented example (through the simulator), and its body must parse to itself, so
 * a field the document lacks fails too (zod drops unknown keys).
 */
function expectDescribes(schema: z.ZodType, body: unknown) {
  const parsed = schema.safeParse(body);
  expect(parsed.error?.issues ?? []).toEqual([]);
  expect(parsed.data).toEqual(body);
}

const documented = ROUTES.flatMap((route) =>
  Object.entries(route.responses)
    .filter(([status, response]) => Number(status) < 300 && response.schema)
    .map(([status, response]) => ({ route, status: Number(status), schema: response.schema as z.ZodType })),
).filter(({ route }) => !route.path.includes('{'));

async function call(
  route: RouteDoc,
  headers: Record<string, string>,
  env = envWith({ OPENAI_API_KEY: simKey() }),
) {
  const json = route.method === 'get' ? undefined : route.example;
  return callGateway(route.path, { method: route.method.toUpperCase(), headers, json }, env);
}

describe('documented response bodies', () => {
  it('cover the routes that have a JSON body, the model-backed ones included', () => {
    const paths = documented.map((d) => d.route.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/v1/opportunities', '/v1/creatives', '/v1/match', '/health']),
    );
  });

  it.each(documented.map((d) => [`${d.route.method.toUpperCase()} ${d.route.path}`, d] as const))(
    '%s answers as documented when called with its example',
    async (_, { route, status, schema }) => {
      const auth =
        route.auth === 'admin'
          ? adminAuth
          : route.auth === 'key'
            ? bearer((await createTestKey({ rpm: 1000 })).key)
            : {};
      const res = await call(route, auth);
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(status);
      expectDescribes(schema, body);
    },
  );

  it('describe a revoked key and the admin view of the budget', async () => {
    const { id } = await createTestKey();
    const revoked = await callGateway(
      `/admin/keys/${id}`,
      { method: 'DELETE', headers: adminAuth },
      envWith({}),
    );
    expect(revoked.status).toBe(200);
    expectDescribes(KeyResponse, await revoked.json());
    const budget = await callGateway('/v1/budget', { headers: adminAuth }, envWith({}));
    const body = await budget.json<{ keys?: unknown[] }>();
    expect(body.keys?.length).toBeGreaterThan(0);
    expectDescribes(BudgetResponse, body);
  });

  it('describe a created key, and a failure with the one error body', async () => {
    const created = await callGateway(
      '/admin/keys',
      { headers: adminAuth, json: { name: 'documented' } },
      envWith({}),
    );
    expectDescribes(CreatedKeyResponse, await created.json());
    const refused = await callGateway('/v1/budget', {}, envWith({}));
    expect(refused.status).toBe(401);
    expectDescribes(ErrorResponse, await refused.json());
  });
});
