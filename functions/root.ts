import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import pkg from '../package.json';

/** `GET /`: what this service is and where to go next. */
export const root = new Hono<AppEnv>().get('/', (c) =>
  c.json({
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    links: { health: '/health', docs: '/docs', openapi: '/openapi.json', dashboard: '/dashboard' },
  }),
);
