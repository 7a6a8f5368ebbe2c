import type { IncomingMessage } from 'node:http';
import { parseSimConfig } from './config.ts';
import { SimHttpError } from './errors.ts';
import { readBody } from './http.ts';
import type { SimState } from './state.ts';

/**
 * The control API under `/_sim/` (no auth; the server listens on loopback only). Every endpoint takes an
 * optional `?key=<api key>` that scopes it to requests made with that bearer key:
 * - `POST /_sim/config` replaces the config (`{ latency_ms? (ms, or endpoint → ms), faults?,
 *   moderation?: { flagged_terms?, flag_images? }, batch?: { duration_ms?, outcome? }, clock_offset_ms?,
 *   profile? ('instant' | 'realistic'), time_scale?, reasoning_tokens?, rate_limits?: { <model> | '*':
 *   { rpm?, tpm? } }, account_budget_usd? }`; see SimConfig). Replacing it keeps the key's rate-limit usage;
 *   a reset forgets it;
 * - `GET /_sim/config` shows it (the scoped config, or null when the key has none), with `remaining` uses on
 *   each fault that has `times`;
 * - `GET /_sim/stats` returns `{ requests, faults, models }` counts;
 * - `GET /_sim/inputs` returns `{ images: [{ endpoint, media_type, bytes, sha256 } | { endpoint, url }] }`,
 *   the images the requests carried, in order (the newest 200; see image-inputs.ts);
 * - `GET /_sim/invoice` returns what OpenAI would bill (`{ total_usd, requests, abandoned, by_model, lines,
 *   lines_dropped }`, see invoice.ts): for a key, that key's requests; otherwise every request;
 * - `GET /_sim/connections` returns `{ intervals: [[arrived, headers sent], …] }` (epoch ms) for every /v1
 *   request, so a test can count one gateway invocation's simultaneous connections (answered by the server,
 *   which keeps the log; a global reset clears it);
 * - `POST /_sim/reset` clears config, stats, invoice, image inputs, cached prompts and rate-limit usage:
 *   for a key, that key's (so a spent account has its quota again); otherwise the global config goes back
 *   to the run config, global stats, invoice and image inputs are cleared and the prompt cache and every
 *   key's rate-limit usage are emptied, while scoped configs, stats and invoices stay.
 */
export async function handleControl(
  req: IncomingMessage,
  url: URL,
  state: SimState,
): Promise<{ status: number; body: unknown }> {
  const key = url.searchParams.get('key') ?? undefined;
  if (key === '') throw new SimHttpError(400, "Query parameter 'key' must not be empty.", { param: 'key' });
  const route = `${req.method} ${url.pathname}`;
  if (route === 'POST /_sim/config') {
    const raw = await readBody(req);
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch {
      throw new SimHttpError(400, 'Invalid simulator config: body is not valid JSON.');
    }
    const parsed = parseSimConfig(input);
    if (!parsed.ok) throw new SimHttpError(400, `Invalid simulator config: ${parsed.message}.`);
    state.setConfig(parsed.value, key);
    return {
      status: 200,
      body: { ok: true, scope: key === undefined ? 'global' : 'key', config: parsed.value },
    };
  }
  if (route === 'GET /_sim/config') {
    return {
      status: 200,
      body: { scope: key === undefined ? 'global' : 'key', config: state.getConfig(key) ?? null },
    };
  }
  if (route === 'GET /_sim/stats') return { status: 200, body: state.stats(key) };
  if (route === 'GET /_sim/inputs') return { status: 200, body: state.images.view(key) };
  if (route === 'GET /_sim/invoice') return { status: 200, body: state.invoice.view(key) };
  if (route === 'POST /_sim/reset') {
    state.reset(key);
    return { status: 200, body: { ok: true } };
  }
  throw new SimHttpError(404, `Invalid URL (${route})`);
}
