import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json';

describe('GET /', () => {
  it('names the service, its version and where to go next', async () => {
    const res = await exports.default.fetch('http://gateway/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({
      name: 'commerce-ai-gateway',
      version: pkg.version,
      description: pkg.description,
      links: { health: '/health', docs: '/docs', openapi: '/openapi.json', dashboard: '/dashboard' },
    });
  });
});
