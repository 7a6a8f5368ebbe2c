import { env } from 'cloudflare:workers';

/** Bindings the test config adds beside the Worker's own: where the dev infrastructure listens. */
export interface TestBindings extends Cloudflare.Env {
  BRIDGE_URL: string;
  SIMULATOR_URL: string;
}

export const bindings = env as unknown as TestBindings;

/** A raw env for calling the Worker directly, with some settings changed. */
export function envWith(overrides: Record<string, unknown>): Cloudflare.Env {
  return { ...bindings, ...overrides } as Cloudflare.Env;
}
