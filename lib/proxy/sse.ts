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
import { EventScanner, type RelayOutcome, type StreamApi } from './sse-events';
import { readWithin, toStreamError } from './timed-read';

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
  /** The text from the terminal event on, sent once `beforeEnd` is done. */
  let held = '';
  const scan = new EventScanner(options.api, options.dropUsageChunk);
  let recorded: string[] | undefined = [];
  let recordedChars = 0;
  let resolve: (outcome: RelayOutcome) => void = () => undefined;
  const outcome = new Promise<RelayOutcome>((r) => {
    resolve = r;
  });
  let over = false;
  /** The client cancelled its stream: nothing more is sent. */
  let cancelled = false;
  const outcomeNow = () => scan.outcome(recorded);
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
      while (!scan.ended) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const next = await read(Math.min(left, options.idleTimeoutMs));
        scan.take(next.done ? decoder.decode() : decoder.decode(next.value, { stream: true }));
        if (next.done) break;
      }
    } catch {
      // A stall or a break: the usage stays unknown, and the reservation stands.
    }
  };

  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: GatewayError) => {
    scan.failed = true;
    controller.enqueue(encoder.encode(options.errorEvent(error)));
    controller.close();
    reader.cancel().catch(() => undefined);
    finish();
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const text = scan.take(decoder.decode(first, { stream: true }));
      if (scan.ended) held += text;
      else emit(controller, text);
    },
    async pull(controller) {
      // Read until a whole event can go out: a pull that enqueues nothing is not called again.
      while (!scan.ended) {
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
        const text = scan.take(next.done ? decoder.decode() : decoder.decode(next.value, { stream: true }));
        if (cancelled) return; // the client went away during the read: `cancel` drains the rest
        if (scan.ended) held += text;
        else if (emit(controller, text) && !next.done) return;
        if (next.done) break;
      }
      if (!scan.ended) {
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
      if (options.drainMs && !scan.ended) await drain(options.drainMs);
      reader.cancel(reason).catch(() => undefined);
      finish();
    },
  });
  return { body, outcome };
}
