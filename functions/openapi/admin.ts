/** The operator's routes: keys, reports and metrics. The admin key only. */
import type { RouteDoc } from '../../lib/openapi/route-doc';
import { KeyId, KeyUpdate, NewKeyRequest } from '../admin-keys';
import { ReportQuery } from '../admin-variants';
import { MetricsQuery } from '../metrics';
import { CreatedKeyResponse, KeyListResponse, KeyResponse, VariantsResponse } from './admin-schemas';

export const ADMIN_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/admin/keys',
    operationId: 'createKey',
    summary: 'Create a client key',
    description:
      "The key is in this response only; Redis keeps its SHA-256. Without `rpm` or `upm` the gateway-wide limits apply (`KEY_RATE_LIMIT_RPM`, `KEY_RATE_LIMIT_UPM`); without `daily_budget_usd` or `budget_share`, its daily budget is `KEY_BUDGET_SHARE` of the gateway's. Without `scopes` it may call every route (`domain`, `proxy`, `bulk`); without `models`, any model the gateway can price.",
    tag: 'Admin',
    auth: 'admin',
    body: NewKeyRequest,
    example: { name: 'storefront', rpm: 600, upm: 5000, daily_budget_usd: 5, scopes: ['domain'] },
    responses: { 201: { description: 'The new key, with its secret.', schema: CreatedKeyResponse } },
  },
  {
    method: 'get',
    path: '/admin/keys',
    operationId: 'listKeys',
    summary: 'List every key',
    description: "Every key's metadata, revoked ones included; never a secret.",
    tag: 'Admin',
    auth: 'admin',
    responses: { 200: { description: 'The keys.', schema: KeyListResponse } },
  },
  {
    method: 'patch',
    path: '/admin/keys/{id}',
    operationId: 'updateKey',
    summary: "Change a key's limits, scopes or models",
    description:
      'Only the fields sent change; `null` returns a field to its default. Takes effect on the next request in every isolate.',
    tag: 'Admin',
    auth: 'admin',
    params: KeyId,
    body: KeyUpdate,
    example: { scopes: ['domain', 'proxy'], models: ['gpt-5-mini'] },
    responses: { 200: { description: 'The key as it now is.', schema: KeyResponse } },
    errors: { 404: ['`not_found`: no key has this id.'] },
  },
  {
    method: 'delete',
    path: '/admin/keys/{id}',
    operationId: 'revokeKey',
    summary: 'Revoke a key',
    description: 'Takes effect on the next request in every isolate.',
    tag: 'Admin',
    auth: 'admin',
    params: KeyId,
    responses: { 200: { description: 'The revoked key.', schema: KeyResponse } },
    errors: { 404: ['`not_found`: no key has this id.'] },
  },
  {
    method: 'get',
    path: '/admin/variants',
    operationId: 'getVariantReport',
    summary: 'Prompt variants: generations, rejections and cost',
    description:
      "Each prompt variant's configured weight, generations, rejections (moderation, or output still invalid after its repair), rejection rate and cost over the last `days` budget days.",
    tag: 'Admin',
    auth: 'admin',
    query: ReportQuery,
    responses: { 200: { description: 'The report.', schema: VariantsResponse } },
  },
  {
    method: 'get',
    path: '/v1/metrics',
    operationId: 'getMetrics',
    summary: 'Performance over the last minutes',
    description:
      'Requests, upstream calls, latency percentiles, cache and moderation rates, cost by endpoint and by model, token efficiency per structured task (`by_task`: input, cached, cache-write, output and reasoning tokens, cost, approved results, cached share, cost per approved result; not filtered), a series (per minute up to 60 minutes, per hour beyond), breaker states and today’s budget, over the last `minutes`, optionally for one `endpoint` or `model`. What `/dashboard` shows.',
    tag: 'Admin',
    auth: 'admin',
    query: MetricsQuery,
    responses: {
      200: { description: 'The summary: `window`, `filters`, the figures, `breakers`, `budget`.' },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getPrometheusMetrics',
    summary: 'Running totals for Prometheus',
    description:
      'The Prometheus text format, per-task `cag_task_*` counters (label `task`) included. Takes the admin key or `METRICS_SCRAPE_TOKEN`.',
    tag: 'Admin',
    auth: 'admin',
    security: [{ adminKey: [] }, { scrapeToken: [] }],
    responses: {
      200: { description: 'Counters and gauges.', content: { 'text/plain': { type: 'string' } } },
    },
  },
];
