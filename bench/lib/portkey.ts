import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from '../../test/support/node/dev-gateway.ts';
import { type NodeChild, startNode } from './processes.ts';

/** The open-source Portkey gateway (`@portkey-ai/gateway`), running on Node. */
export interface RunningPortkey {
  url: string;
  pid: number;
  version: string;
  /** Headers that make Portkey proxy an OpenAI request to `baseUrl` (e.g. the simulator's /v1). */
  headersFor(baseUrl: string, apiKey: string): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts Portkey's own Node entry (`build/start-server.js`, its `start:node` script) on a free port,
 * headless and with NODE_ENV=production, so it serves the API only (no log console).
 */
export async function startPortkey(): Promise<RunningPortkey> {
  const manifest = createRequire(import.meta.url).resolve('@portkey-ai/gateway/package.json');
  const root = dirname(manifest);
  const { version } = createRequire(import.meta.url)(manifest) as { version: string };
  const port = await freePort();
  const child: NodeChild = await startNode(
    join(root, 'build/start-server.js'),
    { ...process.env, NODE_ENV: 'production' },
    /Ready for connections/,
    30_000,
    [`--port=${port}`, '--headless'],
  );
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    version,
    headersFor: (baseUrl, apiKey) => ({
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': baseUrl,
    }),
    stop: () => child.stop(),
  };
}
