import type { Usage } from '../providers/usage';
import { chatUsage, responsesUsage } from './usage';

/** The two OpenAI APIs whose streams the gateway relays. */
export type StreamApi = 'chat' | 'responses';

/** How a relayed stream ended, as the budget settle and the cache write see it. */
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
 * Splits a stream's decoded text into whole events (one is only whole once its blank line has arrived)
 * and keeps what they say about the stream: its usage, and whether it ended, succeeded or failed.
 */
export class EventScanner {
  ended = false;
  succeeded = false;
  failed = false;
  usage: Usage | undefined;
  private pending = '';

  constructor(
    private readonly api: StreamApi,
    private readonly dropUsageChunk: boolean,
  ) {}

  /** Takes decoded text; returns the whole events to forward. */
  take(text: string): string {
    this.pending += text;
    let out = '';
    for (let match = EVENT_END.exec(this.pending); match; match = EVENT_END.exec(this.pending)) {
      const block = this.pending.slice(0, match.index);
      this.pending = this.pending.slice(match.index + match[0].length);
      if (!block.trim()) continue;
      const seen = inspect(this.api, block, this.dropUsageChunk);
      if (seen.usage) this.usage = seen.usage;
      if (seen.failed) this.failed = true;
      if (seen.ended) this.ended = true;
      if (seen.succeeded) this.succeeded = true;
      if (seen.forward) out += block + match[0];
    }
    return out;
  }

  /** What the stream said so far; `recorded` (what the client received) is kept only for a success. */
  outcome(recorded: string[] | undefined): RelayOutcome {
    const ok = this.ended && this.succeeded && !this.failed;
    return {
      ended: this.ended,
      succeeded: ok,
      ...(this.usage ? { usage: this.usage } : {}),
      ...(ok && recorded ? { recorded: recorded.join('') } : {}),
    };
  }
}
