/**
 * Every route the gateway serves, for the OpenAPI document (../openapi.ts hands them to
 * lib/openapi/document.ts). Inputs are the schema objects the handlers pass to `valid(…)`, imported
 * from the endpoints beside them and lib/domain, never restated; bodies come from ./schemas.ts.
 * test/functions/openapi.test.ts fails when a served route is missing here, or a listed one is not served.
 */
import type { RouteDoc } from '../../lib/openapi/route-doc';
import { ADMIN_ROUTES } from './admin';
import { CLIENT_ROUTES } from './client';
import { GENERATION_ROUTES } from './generation';
import { OPENAI_ROUTES } from './openai';
import { SERVICE_ROUTES } from './service';

/** Tag → description, in the order the reference shows them. */
export const TAGS: Record<string, string> = {
  Generation: 'Opportunities and creatives: cache first, moderated, budgeted.',
  Analysis: 'Moderation, image analysis and similarity.',
  'OpenAI-compatible':
    "OpenAI's own API under `/openai/v1`, with the same keys, cache, budget and resilience.",
  Images: 'Generated images, served by content hash.',
  Budget: 'What has been spent today.',
  Admin: 'Keys, reports and metrics; the admin key only.',
  Service: 'What the gateway is, whether it is up, and its documentation.',
};

export const ROUTES: readonly RouteDoc[] = [
  ...GENERATION_ROUTES,
  ...CLIENT_ROUTES,
  ...OPENAI_ROUTES,
  ...ADMIN_ROUTES,
  ...SERVICE_ROUTES,
];
