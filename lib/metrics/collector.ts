/**
 * What one client request did, gathered while it runs and written once, after the response, as one
 * script call (see store.ts): the request itself, every upstream call, every moderation verdict.
 */
import type { Verdict } from '../moderation';
import { costOf, type PriceTable } from '../pricing';
import type { ObservedCall } from '../providers/router-deps';
import { bucketOf, field, measureOf } from './fields';
import { approvedField, taskCallFields } from './tasks';

/** One logical upstream call (its retries and fallback included), as the provider layer reports it. */
export type UpstreamCall = ObservedCall;

/** The request as the app middleware sees it once answered. */
export interface RequestOutcome {
  /** The matched route pattern, e.g. `/v1/creatives`. */
  endpoint: string;
  status: number;
  durationMs: number;
  /** `x-cache` of the response, when the route has a cache. */
  cache?: string;
  errorCode?: string;
}

export interface MetricsCollector {
  upstream(call: UpstreamCall): void;
  /** Work the request's metrics wait for before they are written (a stream still being relayed). */
  hold(work: Promise<unknown>): void;
  /** Resolves once every held work has ended, however it ended. */
  settled(): Promise<void>;
  /** Whether any work is held: without any, the metrics are complete when the response is. */
  holds(): boolean;
  moderation(verdict: Verdict): void;
  variant(name: string): void;
  /** `count` approved results of structured task `task` (see lib/metrics/tasks.ts). */
  approved(task: string, count?: number): void;
  /** Turns everything gathered into counter increments, with the request's outcome. */
  increments(request: RequestOutcome): Map<string, number>;
  /** Summary for the request's log line. */
  summary(): { costNanos: number; calls: number; provider?: string; model?: string };
}

/** The label of every model the price table does not know. */
export const OTHER_MODEL = 'other';

export function createMetricsCollector(prices: PriceTable): MetricsCollector {
  // Metric fields never expire, so a label must come from a bounded set: the price table's entries (a
  // dated snapshot, any date the proxy accepts, counts under its base model). The gateway calls only
  // models it can price, so anything else (a name an upstream answered with) counts as `other`.
  const modelLabel = (model: string) => prices.entryOf(model) ?? OTHER_MODEL;
  const calls: (UpstreamCall & { costNanos: number })[] = [];
  const verdicts: Verdict[] = [];
  const held: Promise<unknown>[] = [];
  const approved = new Map<string, number>();
  let variant = '';

  return {
    upstream(call) {
      const price = prices.price(call.model);
      const costNanos = price && call.usage ? costOf(price, call.usage) : 0;
      calls.push({ ...call, costNanos });
    },
    hold(work) {
      held.push(work);
    },
    holds() {
      return held.length > 0;
    },
    async settled() {
      await Promise.allSettled(held);
    },
    moderation(verdict) {
      verdicts.push(verdict);
    },
    variant(name) {
      variant = name;
    },
    approved(task, count = 1) {
      approved.set(task, (approved.get(task) ?? 0) + count);
    },
    increments(request) {
      const out = new Map<string, number>();
      const add = (name: string, by: number) => {
        if (by) out.set(name, (out.get(name) ?? 0) + Math.round(by));
      };
      const { endpoint } = request;
      const statusClass = `${Math.floor(request.status / 100)}xx`;
      // Each series is built once and its measures appended: cleaning and joining every part again for
      // each of a call's nine measures was a twentieth of a proxied call's allocations.
      const q = field('q', endpoint, statusClass, request.cache ?? '-', variant);
      add(measureOf(q, 'n'), 1);
      add(measureOf(q, 'ms'), request.durationMs);
      add(field('qh', endpoint, bucketOf(request.durationMs)), 1);
      if (request.errorCode) add(field('qe', endpoint, request.errorCode), 1);
      for (const call of calls) {
        const model = modelLabel(call.model);
        const u = field(
          'u',
          endpoint,
          call.capability,
          call.provider,
          model,
          call.errorCode ?? 'ok',
          variant,
        );
        add(measureOf(u, 'n'), 1);
        add(measureOf(u, 'ms'), call.durationMs);
        add(measureOf(u, 'in'), call.usage?.inputTokens ?? 0);
        add(measureOf(u, 'cached'), call.usage?.cachedTokens ?? 0);
        add(measureOf(u, 'out'), call.usage?.outputTokens ?? 0);
        add(measureOf(u, 'cost'), call.costNanos);
        add(measureOf(u, 'retries'), call.retries);
        add(measureOf(u, 'fallback'), call.fallback ? 1 : 0);
        add(measureOf(u, 'repair'), call.repair ? 1 : 0);
        add(field('uh', endpoint, model, bucketOf(call.durationMs)), 1);
        if (call.task)
          for (const [name, by] of taskCallFields(call.task, call.usage, call.costNanos)) add(name, by);
      }
      for (const [task, count] of approved) add(approvedField(task), count);
      for (const verdict of verdicts) {
        const outcome = verdict.approved
          ? 'passed'
          : verdict.checked.openai === 'unavailable'
            ? 'unavailable'
            : verdict.layer;
        add(field('mod', endpoint, outcome ?? 'rejected'), 1);
      }
      return out;
    },
    summary() {
      // Who served it: the last call that made something; the moderation calls around it only checked
      // (a request of moderation calls alone names the moderation model).
      const last = calls.findLast((call) => call.capability !== 'moderation') ?? calls.at(-1);
      return {
        costNanos: calls.reduce((sum, c) => sum + c.costNanos, 0),
        calls: calls.length,
        ...(last ? { provider: last.provider, model: last.model } : {}),
      };
    },
  };
}
