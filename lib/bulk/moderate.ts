/**
 * The three-layer moderation chain (lib/moderation/chain.ts) for many texts at once: the local layers on
 * each text, then one omni-moderation call per TEXTS_PER_CALL texts that passed them, through the
 * provider layer (retries, the shared breaker, backups). Verdicts have the chain's exact shape. A bulk
 * collection checks hundreds of texts per cron run, and one call each would spend the run's subrequests.
 */
import { CircuitOpenError, UpstreamError } from '../errors';
import type { Logger } from '../log';
import {
  checkBrandSafety,
  checkBusinessRules,
  type ModerationRules,
  readingsOnDemand,
  type Verdict,
} from '../moderation';
import { UpstreamRequestError } from '../providers/failures';
import type { RetryPolicy } from '../providers/retry';
import { callProviders } from '../providers/router';
import type { RouterDeps } from '../providers/router-deps';

/** Inputs per moderation request; a conservative size for one omni-moderation call. */
export const TEXTS_PER_CALL = 32;

export interface BulkModerationDeps {
  router: RouterDeps;
  policy: RetryPolicy;
  rules: ModerationRules;
  /** Reject when the moderation API is unavailable (MODERATION_FAIL_CLOSED). */
  failClosed: boolean;
  log: Pick<Logger, 'warn'>;
}

/**
 * One verdict per text, in order. When the moderation API is unavailable and moderation fails closed,
 * nothing is decided: it throws, so the caller can try the same texts again later instead of rejecting
 * them for an outage. Failing open approves on the local layers, with `checked.openai: 'unavailable'`.
 * @throws CircuitOpenError when the API is unavailable and `failClosed`.
 * @throws UpstreamRequestError when the API rejects the input itself.
 */
export async function moderateTexts(deps: BulkModerationDeps, texts: string[]): Promise<Verdict[]> {
  const verdicts = texts.map((text) => localVerdict(text, deps.rules));
  const waiting = verdicts.flatMap((v, i) => (v === null ? [i] : []));
  for (let start = 0; start < waiting.length; start += TEXTS_PER_CALL) {
    const batch = waiting.slice(start, start + TEXTS_PER_CALL);
    const results = await askOpenAI(
      deps,
      batch.map((i) => texts[i] as string),
    );
    batch.forEach((index, i) => {
      verdicts[index] = results ? openaiVerdict(results[i]) : unavailable();
    });
  }
  return verdicts as Verdict[];
}

type Result = { flagged: boolean; categories: Record<string, unknown> };

/** One moderation call's results, or null when it failed and moderation fails open. */
async function askOpenAI(deps: BulkModerationDeps, input: string[]): Promise<Result[] | null> {
  try {
    const served = await callProviders(deps.router, 'moderation', deps.policy, async (target, model) => {
      const res = await target.client.moderations.create({ model, input });
      if (res.results.length !== input.length) {
        throw new UpstreamError({
          message: `${target.name} returned ${res.results.length} moderation results.`,
        });
      }
      return res.results as unknown as Result[];
    });
    return served.value;
  } catch (err) {
    if (err instanceof UpstreamRequestError) throw err;
    deps.log.warn(`moderation unavailable; failing ${deps.failClosed ? 'closed' : 'open'}`, { cause: err });
    if (deps.failClosed) {
      throw new CircuitOpenError({
        message: 'Moderation is unavailable; retry shortly.',
        retryAfter: 30,
        cause: err,
      });
    }
    return null;
  }
}

const PASSED = { business_rules: 'passed', brand_safety: 'passed' } as const;

/** Layers 2 and 3, as the chain runs them; null when both pass and OpenAI must decide. */
export function localVerdict(text: string, rules: ModerationRules): Verdict | null {
  const readings = readingsOnDemand(text);
  const business = text ? checkBusinessRules(text, rules, readings) : null;
  const brand = text ? checkBrandSafety(text, rules, readings) : null;
  const checked: Verdict['checked'] = {
    openai: 'skipped',
    business_rules: business ? 'flagged' : 'passed',
    brand_safety: brand ? 'flagged' : 'passed',
  };
  const local = business ?? brand;
  if (local) return verdict(false, local.layer, local.reason, local.pattern, checked);
  // Nothing to send: the chain approves empty content with OpenAI skipped.
  return text ? null : verdict(true, null, null, null, checked);
}

function openaiVerdict(result: Result | undefined): Verdict {
  const categories = Object.fromEntries(
    Object.entries(result?.categories ?? {}).map(([k, v]) => [k, v === true]),
  );
  if (!result?.flagged) return verdict(true, null, null, null, { ...PASSED, openai: 'passed' }, categories);
  const pattern =
    Object.keys(categories)
      .filter((k) => categories[k])
      .join(', ') || null;
  const checked = { ...PASSED, openai: 'flagged' } as const;
  return verdict(false, 'openai', 'flagged by openai moderation', pattern, checked, categories);
}

function unavailable(): Verdict {
  return verdict(true, null, null, null, { ...PASSED, openai: 'unavailable' });
}

function verdict(
  approved: boolean,
  layer: Verdict['layer'],
  reason: string | null,
  pattern: string | null,
  checked: Verdict['checked'],
  categories: Record<string, boolean> = {},
): Verdict {
  return { approved, layer, reason, categories, pattern, checked };
}
