import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createConnectionLog } from '../connection-log.ts';
import { cancelBatchRoute, createBatchRoute, listBatchesRoute, retrieveBatchRoute } from './batches.ts';
import { chatRoute } from './chat.ts';
import { handleControl } from './control.ts';
import { embeddingsRoute } from './embeddings.ts';
import { errorBody, SimHttpError } from './errors.ts';
import { createFileRoute, deleteFileRoute, fileContentRoute, retrieveFileRoute } from './files.ts';
import { sendJson } from './http.ts';
import { createImageHost } from './image-host.ts';
import { imagesRoute } from './images.ts';
import { modelsRoute } from './models.ts';
import { moderationsRoute } from './moderations.ts';
import { handleApi } from './pipeline.ts';
import { responsesRoute } from './responses.ts';
import type { SimRoute } from './routes.ts';
import type { SimState } from './state.ts';
import { createSimStorage } from './storage.ts';

/** Every `/v1` endpoint the simulator serves. */
export const ROUTES: readonly SimRoute[] = [
  responsesRoute,
  chatRoute,
  moderationsRoute,
  imagesRoute,
  embeddingsRoute,
  modelsRoute,
  createFileRoute,
  retrieveFileRoute,
  deleteFileRoute,
  fileContentRoute,
  createBatchRoute,
  retrieveBatchRoute,
  cancelBatchRoute,
  listBatchesRoute,
];

/** The server and its hard stop. */
export interface SimServer {
  server: Server;
  /** Stops waits in progress and destroys every open connection, hanging ones included. */
  destroyAll(): void;
}

/**
 * The HTTP server: `/_sim/images/*` to the test image host, the rest of `/_sim/*` to the control API,
 * `/v1/*` through the request pipeline.
 */
export function createSimServer(state: SimState, log?: (line: string) => void): SimServer {
  const closing = new AbortController();
  const storage = createSimStorage();
  // Every /v1 request's interval, so a test can count one gateway invocation's simultaneous connections.
  const connections = createConnectionLog();
  // Test images for a client to hand the gateway by URL (see image-host.ts).
  const imageHost = createImageHost();
  const server = createServer((req, res) => {
    void handleRequest(req, res);
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://sim.local');
    const requestAbort = new AbortController();
    res.on('close', () => requestAbort.abort());
    let faultKind = '';
    res.setHeader('x-request-id', `req_${randomBytes(16).toString('hex')}`);
    res.setHeader('openai-version', '2020-10-01');
    const headers = () => ({
      'openai-processing-ms': String(Math.round(performance.now() - startedAt)),
    });
    if (log) {
      res.on('close', () => {
        const status = res.headersSent ? res.statusCode : 'no-response';
        const ms = Math.round(performance.now() - startedAt);
        log(`${req.method} ${url.pathname} ${status} ${ms}ms${faultKind ? ` fault=${faultKind}` : ''}`);
      });
    }
    try {
      if (url.pathname === '/_sim/connections' && req.method === 'GET') {
        return sendJson(res, 200, { intervals: connections.intervals() }, headers());
      }
      if (url.pathname.startsWith('/_sim/images/')) return imageHost(req, res, url);
      if (url.pathname.startsWith('/_sim/')) {
        if (url.pathname === '/_sim/reset' && !url.searchParams.has('key')) connections.reset();
        const answer = await handleControl(req, url, state);
        return sendJson(res, answer.status, answer.body, headers());
      }
      if (!url.pathname.startsWith('/v1/'))
        throw new SimHttpError(404, `Invalid URL (${req.method} ${url.pathname})`);
      connections.track(req, res);
      await handleApi(req, res, url, {
        state,
        storage,
        routes: ROUTES,
        headers,
        signal: AbortSignal.any([closing.signal, requestAbort.signal]),
        onFault: (kind) => {
          faultKind = kind;
        },
      });
    } catch (error) {
      if (closing.signal.aborted) return;
      renderError(res, error, headers(), log);
    }
  }

  return {
    server,
    destroyAll() {
      closing.abort();
      server.closeAllConnections();
    },
  };
}

/** SimHttpErrors in OpenAI's shape; anything else is logged and becomes a generic 500. */
function renderError(
  res: ServerResponse,
  error: unknown,
  headers: Record<string, string>,
  log?: (line: string) => void,
) {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof SimHttpError) {
    sendJson(res, error.status, error.toBody(), headers);
    return;
  }
  log?.(`internal error: ${error instanceof Error ? error.stack : String(error)}`);
  sendJson(
    res,
    500,
    errorBody('The simulator failed while processing your request.', 'server_error'),
    headers,
  );
}
