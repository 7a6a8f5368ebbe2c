import type { SimConfig, SimFault, SimFaultKind } from './config.ts';
import { createImageInputLog, type ImageInputLog } from './image-inputs.ts';
import { createInvoice, type Invoice } from './invoice.ts';
import { createPromptCache, type PromptCache } from './prompt-cache.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { createRetryWatch, type RetryWatch } from './retry-watch.ts';

/** The body of `GET /_sim/stats`. */
export interface SimStats {
  requests: Record<string, number>;
  faults: Record<string, number>;
  models: Record<string, number>;
  /** Calls that retried a rate-limited call before the wait its 429 named (see retry-watch.ts). */
  early_retries: number;
}

/** One request as the stats see it. */
export interface RequestRecord {
  apiKey: string;
  endpoint: string;
  model?: string;
  /** The fault it got, or the 429 its account got instead of an answer (counted with the faults). */
  fault?: SimFaultKind | 'rate_limit_exceeded' | 'insufficient_quota';
  /** It retried a rate-limited call before the wait that call's 429 named. */
  early?: boolean;
}

/**
 * Mutable simulator state: the global config (starting as the run config), per-API-key configs, the uses left
 * of faults with `times`, stats and the invoice kept both globally and per key, and the prompt cache and
 * rate-limit usage (per key). Scoping lets parallel tests inject faults without touching each other.
 */
export interface SimState {
  /** The config a request with this key runs under: its scoped config, else the global one. */
  configFor(apiKey: string): SimConfig;
  /**
   * A copy of the config stored for `key` (undefined when none) or of the global config, with `remaining` on
   * each fault that has `times`.
   */
  getConfig(key?: string): SimConfig | undefined;
  setConfig(config: SimConfig, key?: string): void;
  /**
   * Without a key: global config back to the run config, global stats and invoice cleared, the whole prompt
   * cache emptied and every key's rate-limit usage forgotten; scoped configs, stats and invoices stay. With a
   * key: that key's config, stats, invoice, cached prompts and rate-limit usage.
   */
  reset(key?: string): void;
  stats(key?: string): SimStats;
  record(entry: RequestRecord): void;
  /** False once a fault with `times` has applied that many times; always true for faults without it. */
  hasUsesLeft(fault: SimFault): boolean;
  /** Counts one use of the fault a request got (a no-op without `times`). */
  useFault(fault: SimFault): void;
  /** What the simulator bills (see invoice.ts). */
  invoice: Invoice;
  /** The images requests carried (see image-inputs.ts). */
  images: ImageInputLog;
  /** Prompts cached per key (prompt-cache.ts). */
  promptCache: PromptCache;
  /** Requests and tokens per key and model, against the config's rate limits. */
  limiter: RateLimiter;
  /** Rate-limited calls and the earliest their retries may come. */
  retryWatch: RetryWatch;
}

/** State for one simulator instance, starting from its run config. */
export function createSimState(runConfig: SimConfig): SimState {
  let globalConfig = structuredClone(runConfig);
  let globalStats = emptyStats();
  const scopedConfigs = new Map<string, SimConfig>();
  const scopedStats = new Map<string, SimStats>();
  // Keyed by the fault objects of the stored configs: every setConfig/reset clones, so each scope and each
  // replacement counts from `times` again, and dropped configs take their counts with them.
  const usesLeft = new WeakMap<SimFault, number>();
  const left = (fault: SimFault) => usesLeft.get(fault) ?? fault.times;
  const invoice = createInvoice();
  const images = createImageInputLog();
  const promptCache = createPromptCache();
  const limiter = createRateLimiter();
  const retryWatch = createRetryWatch();

  return {
    configFor: (apiKey) => scopedConfigs.get(apiKey) ?? globalConfig,
    getConfig(key) {
      const config = key === undefined ? globalConfig : scopedConfigs.get(key);
      if (config?.faults === undefined) return config && structuredClone(config);
      const faults = config.faults.map((fault) =>
        fault.times === undefined ? { ...fault } : { ...fault, remaining: left(fault) },
      );
      return { ...structuredClone(config), faults };
    },
    setConfig(config, key) {
      if (key === undefined) globalConfig = structuredClone(config);
      else scopedConfigs.set(key, structuredClone(config));
    },
    reset(key) {
      invoice.reset(key);
      images.reset(key);
      promptCache.clear(key);
      limiter.clear(key);
      retryWatch.clear(key);
      if (key === undefined) {
        globalConfig = structuredClone(runConfig);
        globalStats = emptyStats();
        return;
      }
      scopedConfigs.delete(key);
      scopedStats.delete(key);
    },
    stats: (key) => structuredClone(key === undefined ? globalStats : (scopedStats.get(key) ?? emptyStats())),
    record(entry) {
      let keyStats = scopedStats.get(entry.apiKey);
      if (!keyStats) {
        keyStats = emptyStats();
        scopedStats.set(entry.apiKey, keyStats);
      }
      for (const stats of [globalStats, keyStats]) {
        increment(stats.requests, entry.endpoint);
        if (entry.model) increment(stats.models, entry.model);
        if (entry.fault) increment(stats.faults, entry.fault);
        if (entry.early) stats.early_retries += 1;
      }
    },
    hasUsesLeft: (fault) => (left(fault) ?? 1) > 0,
    useFault(fault) {
      const uses = left(fault);
      if (uses !== undefined) usesLeft.set(fault, Math.max(0, uses - 1));
    },
    invoice,
    images,
    promptCache,
    limiter,
    retryWatch,
  };
}

function emptyStats(): SimStats {
  return { requests: {}, faults: {}, models: {}, early_retries: 0 };
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
