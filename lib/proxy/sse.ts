/**
 * Relays an upstream server-sent-event stream to the client as it arrives, one whole event at a time
 * (an event is only forwarded once its blank line has arrived, so one can be dropped or inspected),
 * while reading what the gateway needs from it: the usage, and whether the stream ended complete.
 *
 * A stream that breaks off, stalls past `idleTimeoutMs` or closes without its terminal event ends
 * with an error event in OpenAI's shape, never a clean close that looks complete (Portkey #1797).
 *
 * When the client goes away, the provider still bills what it generated until its stream closes, and
 * only the terminal event says how much (reasoning tokens are invisible before it). So the relay reads
 * on for up to `drainMs`, forwarding nothing, to learn the usage; a stream longer than that is cut and
 * its reservation stands.
 */
import { type GatewayError, UpstreamError } from '../errors';
import type { Usage } from '../providers/usage';
import { readWithin, toStreamError } from './timed-read';
import { chatUsage, responsesUsage } from './usage';

export type StreamApi = 'chat' | 'responses';

export interface RelayOptions {
  api: StreamApi;
  /** Drop chat's usage-only chunk: the gateway asked for it (to settle the budget), the client did not. */
  dropUsageChunk: boolean;
  /** Longest wait for the next upstream bytes before the stream is failed. */
  idleTimeoutMs: number;
  /** Most characters kept for the cache; a longer stream is relayed but not kept. */
  recordLimit: number;
  /** Renders the gateway's own failure as the stream's last event. */
  errorEvent: (error: GatewayError) => string;
  /**
   * Runs once the upstream stream has ended with its terminal event, before that event is sent and
   * the client's stream closes: work a client's next request must already see (the cache write).
   * Must not reject.
   */
  beforeEnd?: (outcome: RelayOutcome) => Promise<void>;
  /**
   * How long to keep reading upstream after the client went away, so the terminal event's usage (what
   * the provider bills) settles the budget; past it, the upstream is cut and the outcome has no usage.
   * 0: cut at once. @default 0
   */
  drainMs?: number;
}

export interface RelayOutcome {
  /** The stream ended with its terminal event (`[DONE]`; `response.completed`, `.incomplete` or `.failed`) or the provider's own error event. */
  ended: boolean;
  /** It ended as a success worth caching: `[DONE]` or `response.completed`, and no error event. */
  succeeded: boolean;
  usage?: Usage;
  /** Everything the client received, when it succeeded within `recordLimit`. */
  recorded?: string;
}

/** One SSE event's name (if any) and its data lines joined. */
export function parseEvent(block: string): { event?: string; data: string } {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { ...(event === undefined ? {} : { event }), data: data.join('\n') };
}

const EVENT_END = /\r\n\r\n|\n\n|\r\r/;
const RESPONSE_TERMINALS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** What one event means for the relay; `forward: false` drops it. */
interface Seen {
  forward: boolean;
  ended?: boolean;
  succeeded?: boolean;
  failed?: boolean;
  usage?: Usage;
}

function inspect(api: StreamApi, block: string, dropUsageChunk: boolean): Seen {
  const { event, data } = parseEvent(block);
  if (api === 'chat' && data === '[DONE]') return { forward: true, ended: true, succeeded: true };
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(data);
  } catch {
    return { forward: true };
  }
  if (!json || typeof json !== 'object') return { forward: true };
  const type = event ?? json.type;
  if (type === 'error' || json.error) return { forward: true, ended: true, failed: true };
  if (api === 'chat') {
    const usage = json.usage ? chatUsage(json.usage) : undefined;
    const usageOnly = Array.isArray(json.choices) && json.choices.length === 0 && usage !== undefined;
    return { forward: !(usageOnly && dropUsageChunk), ...(usage ? { usage } : {}) };
  }
  if (typeof type === 'string' && RESPONSE_TERMINALS.has(type)) {
    const usage = responsesUsage((json.response as { usage?: unknown } | undefined)?.usage);
    return {
      forward: true,
      ended: true,
      succeeded: type === 'response.completed',
      ...(usage ? { usage } : {}),
    };
  }
  return { forward: true };
}

/**
 * Relays `reader` (whose first bytes, `first`, were already read) as a byte stream for a Response
 * body; `outcome` resolves once the stream is over, however it ended (the client cancelling too).
 */
export function relaySse(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Uint8Array,
  options: RelayOptions,
): { body: ReadableStream<Uint8Array>; outcome: Promise<RelayOutcome> } {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  /** The text from the terminal event on, sent once `beforeEnd` is done. */
  let held = '';
  let ended = false;
  let succeeded = false;
  let failed = false;
  let usage: Usage | undefined;
  let recorded: string[] | undefined = [];
  let recordedChars = 0;
  let resolve: (outcome: RelayOutcome) => void = () => undefined;
  const outcome = new Promise<RelayOutcome>((r) => {
    resolve = r;
  });
  let over = false;
  /** The client cancelled its stream: nothing more is sent. */
  let cancelled = false;
  const outcomeNow = (): RelayOutcome => {
    const ok = ended && succeeded && !failed;
    return {
      ended,
      succeeded: ok,
      ...(usage ? { usage } : {}),
      ...(ok && recorded ? { recorded: recorded.join('') } : {}),
    };
  };
  const finish = () => {
    if (over) return;
    over = true;
    resolve(outcomeNow());
  };

  /** Keeps `text` for the cache while the stream stays within `recordLimit`. */
  const record = (text: string) => {
    if (!recorded) return;
    recordedChars += text.length;
    if (recordedChars > options.recordLimit) recorded = undefined;
    else recorded.push(text);
  };

  /** Sends `text` on; false when there was nothing to send (or no one left to send it to). */
  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, text: string): boolean => {
    if (!text || cancelled) return false;
    record(text);
    controller.enqueue(encoder.encode(text));
    return true;
  };

  /** Takes decoded text; returns the whole events to forward. */
  const take = (text: string): string => {
    pending += text;
    let out = '';
    for (let match = EVENT_END.exec(pending); match; match = EVENT_END.exec(pending)) {
      const block = pending.slice(0, match.index);
      pending = pending.slice(match.index + match[0].length);
      if (!block.trim()) continue;
      const seen = inspect(options.api, block, options.dropUsageChunk);
      if (seen.usage) usage = seen.usage;
      if (seen.failed) failed = true;
      if (seen.ended) ended = true;
      if (seen.succeeded) succeeded = true;
      if (seen.forward) out += block + match[0];
    }
    return out;
  };

  /**
   * The next chunk within `ms`. The upstream allows one pending read at a time (workerd enforces it): a
   * read a timeout gave up on stays the pending one, and the next call waits on it rather than
   * starting another.
   */
  let pendingRead: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  const read = async (ms: number) => {
    pendingRead ??= reader.read();
    const next = await readWithin(pendingRead, ms);
    pendingRead = undefined;
    return next;
  };
  /** The relay's read in flight, settled however it ends. */
  let pulling: Promise<void> | undefined;

  /** Reads the rest of the upstream, unforwarded, until its terminal event or `ms` have passed. */
  const drain = async (ms: number) => {
    const deadline = Date.now() + ms;
    try {
      while (!ended) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const next = await read(Math.min(left, options.idleTimeoutMs));
        take(next.done ? decoder.decode() : decoder.decode(next.value, { stream: true }));
        if (next.done) break;
      }
    } catch {
      // A stall or a break: the usage stays unknown, and the reservation stands.
    }
  };

  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: GatewayError) => {
    failed = true;
    controller.enqueue(encoder.encode(options.errorEvent(error)));
    controller.close();
    reader.cancel().catch(() => undefined);
    finish();
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const text = take(decoder.decode(first, { stream: true }));
      if (ended) held += text;
      else emit(controller, text);
    },
    async pull(controller) {
      // Read until a whole event can go out: a pull that enqueues nothing is not called again.
      while (!ended) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          const reading = read(options.idleTimeoutMs);
          pulling = reading.then(
            () => undefined,
            () => undefined,
          );
          next = await reading;
        } catch (err) {
          if (!cancelled) fail(controller, toStreamError(err, options.idleTimeoutMs));
          return;
        }
        const text = take(next.done ? decoder.decode() : decoder.decode(next.value, { stream: true }));
        if (cancelled) return; // the client went away during the read: `cancel` drains the rest
        if (ended) held += text;
        else if (emit(controller, text) && !next.done) return;
        if (next.done) break;
      }
      if (!ended) {
        fail(
          controller,
          new UpstreamError({
            message: 'The provider closed the stream before it completed.',
            code: 'stream_interrupted',
          }),
        );
        return;
      }
      // The terminal event has arrived and nothing after it matters: the upstream is let go, then
      // `beforeEnd` runs (the cache write), and only then does the client get the end of the stream.
      reader.cancel().catch(() => undefined);
      record(held);
      await options.beforeEnd?.(outcomeNow());
      if (over) return; // the client went away meanwhile
      if (held) controller.enqueue(encoder.encode(held));
      controller.close();
      finish();
    },
    async cancel(reason) {
      cancelled = true;
      // A read the relay started is still the stream's one pending read: let it land (and be
      // inspected) before the drain reads on.
      await pulling;
      if (options.drainMs && !ended) await drain(options.drainMs);
      reader.cancel(reason).catch(() => undefined);
      finish();
    },
  });
  return { body, outcome };
}
