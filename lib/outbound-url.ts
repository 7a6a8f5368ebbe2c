/** Hosts of this machine, where the dev bridge and simulator listen over plain http. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether the gateway may send to (or fetch from) `url`: https, so no key, prompt or image crosses the
 * network in the clear; plain http only to this machine (local development). False for anything else,
 * a string that is no URL included.
 */
export function isOutboundUrl(url: string): boolean {
  const parsed = URL.parse(url);
  return parsed?.protocol === 'https:' || (parsed?.protocol === 'http:' && LOOPBACK.has(parsed.hostname));
}
