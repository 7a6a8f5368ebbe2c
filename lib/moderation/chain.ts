/**
 * The three-layer moderation chain. The local layers run first: business rules (layer 2) and brand
 * safety (layer 3) cost microseconds and no network, so text they reject never reaches the moderation
 * API. Both always run on text, so `checked` reports each. Only text both pass, and any images (the
 * local layers read text only), go to OpenAI's omni-moderation (layer 1) in one call.
 *
 * When the moderation API is unavailable after the provider layer's retries, breakers and backups,
 * the chain fails closed by default (`failClosed`: not approved, reason `moderation unavailable`) or,
 * if configured, fails open (approved on the local layers alone, `checked.openai: 'unavailable'`).
 * An upstream request error (the API answered that the input itself is bad, e.g. an image it cannot
 * fetch) is not unavailability: it is thrown, so the client learns what to fix.
 */
import type { Logger } from '../log';
import type { Providers } from '../providers';
import { UpstreamRequestError } from '../providers/failures';
import type { Served } from '../providers/router';
import { checkBrandSafety } from './brand-safety';
import { checkBusinessRules } from './business-rules';
import { readingsOnDemand } from './normalise';
import type { ModerationRules } from './rules';

export type ModerationLayer = 'openai' | 'business_rules' | 'brand_safety';

/** The chain's answer; also the body of `POST /v1/moderate`. */
export interface Verdict {
  approved: boolean;
  /** The layer that rejected; null when approved. */
  layer: ModerationLayer | null;
  reason: string | null;
  /** OpenAI's category flags; `{}` when OpenAI was not reached. */
  categories: Record<string, boolean>;
  /** The matched business rule's name, brand-safety term, or OpenAI's flagged categories. */
  pattern: string | null;
  checked: {
    openai: 'passed' | 'flagged' | 'unavailable' | 'skipped';
    business_rules: 'passed' | 'flagged';
    brand_safety: 'passed' | 'flagged';
  };
}

/** The verdict and, when OpenAI (or a backup) answered, who served it (for `servedHeaders`). */
export interface ModerationResult {
  verdict: Verdict;
  served: Pick<Served<unknown>, 'provider' | 'model'> | null;
}

export interface ModerationDeps {
  providers: Pick<Providers, 'moderate'>;
  rules: ModerationRules;
  /** Reject when the moderation API is unavailable (MODERATION_FAIL_CLOSED). */
  failClosed: boolean;
  log?: Pick<Logger, 'warn'>;
  /** Told every verdict (metrics). */
  onVerdict?: (verdict: Verdict) => void;
}

export interface ContentToModerate {
  text?: string;
  /** https or `data:image/…;base64` URLs; moderated by OpenAI only. */
  imageUrls?: string[];
}

/**
 * Runs the chain on text and/or images. Nothing to moderate (no text, no images) is approved with
 * OpenAI skipped.
 * @throws UpstreamRequestError when the moderation API rejects the input itself.
 */
export async function moderateContent(
  deps: ModerationDeps,
  input: ContentToModerate,
): Promise<ModerationResult> {
  const result = await judge(deps, input);
  deps.onVerdict?.(result.verdict);
  return result;
}

async function judge(deps: ModerationDeps, input: ContentToModerate): Promise<ModerationResult> {
  const text = input.text ?? '';
  const imageUrls = input.imageUrls ?? [];
  const readings = readingsOnDemand(text);
  const business = text ? checkBusinessRules(text, deps.rules, readings) : null;
  const brand = text ? checkBrandSafety(text, deps.rules, readings) : null;
  const checked: Verdict['checked'] = {
    openai: 'skipped',
    business_rules: business ? 'flagged' : 'passed',
    brand_safety: brand ? 'flagged' : 'passed',
  };
  const local = business ?? brand;
  if (local) return { verdict: rejected(local.layer, local.reason, local.pattern, checked), served: null };
  if (!text && !imageUrls.length) return { verdict: approved(checked, {}), served: null };

  return askOpenAI(deps, { text, imageUrls }, checked);
}

/** Layer 1: one omni-moderation call for the text and images; its failure handled per `failClosed`. */
async function askOpenAI(
  deps: ModerationDeps,
  { text, imageUrls }: { text: string; imageUrls: string[] },
  checked: Verdict['checked'],
): Promise<ModerationResult> {
  let served: Awaited<ReturnType<Providers['moderate']>>;
  try {
    served = await deps.providers.moderate({
      ...(text ? { text } : {}),
      ...(imageUrls.length ? { imageUrls } : {}),
    });
  } catch (err) {
    if (err instanceof UpstreamRequestError) throw err;
    deps.log?.warn(`moderation unavailable; failing ${deps.failClosed ? 'closed' : 'open'}`, { cause: err });
    const unavailable = { ...checked, openai: 'unavailable' as const };
    const verdict = deps.failClosed
      ? rejected('openai', 'moderation unavailable', null, unavailable)
      : approved(unavailable, {});
    return { verdict, served: null };
  }
  const { flagged, categories: raw } = served.value;
  const categories = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v === true]));
  const who = { provider: served.provider, model: served.model };
  if (!flagged) return { verdict: approved({ ...checked, openai: 'passed' }, categories), served: who };
  const pattern =
    Object.keys(categories)
      .filter((k) => categories[k])
      .join(', ') || null;
  const verdict = rejected(
    'openai',
    'flagged by openai moderation',
    pattern,
    { ...checked, openai: 'flagged' },
    categories,
  );
  return { verdict, served: who };
}

function approved(checked: Verdict['checked'], categories: Record<string, boolean>): Verdict {
  return { approved: true, layer: null, reason: null, categories, pattern: null, checked };
}

function rejected(
  layer: ModerationLayer,
  reason: string,
  pattern: string | null,
  checked: Verdict['checked'],
  categories: Record<string, boolean> = {},
): Verdict {
  return { approved: false, layer, reason, categories, pattern, checked };
}
