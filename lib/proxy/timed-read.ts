/** Reads of an upstream body with an idle timeout, shared by the relays (sse.ts, json-relay.ts). */
import { type GatewayError, UpstreamError, UpstreamTimeoutError } from '../errors';

/** Nothing arrived within the idle timeout. */
export class IdleTimeout extends Error {}

/** The next read, or IdleTimeout when nothing arrives for `ms`. */
export async function readWithin(
  read: Promise<ReadableStreamReadResult<Uint8Array>>,
  ms: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IdleTimeout()), ms);
  });
  try {
    return await Promise.race([read, idle]);
  } finally {
    clearTimeout(timer);
  }
}

/** The gateway error for a relay's failed read: a stall is a 504, a break a 502. */
export function toStreamError(err: unknown, idleTimeoutMs: number): GatewayError {
  if (err instanceof IdleTimeout) {
    return new UpstreamTimeoutError({
      message: `The provider sent nothing for ${Math.round(idleTimeoutMs / 1000)} s; the stream was ended.`,
    });
  }
  return new UpstreamError({
    message: 'The provider stream broke off before it completed.',
    code: 'stream_interrupted',
    cause: err,
  });
}
