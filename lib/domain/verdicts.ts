/** Turns a moderation verdict into the error a client should see, or nothing when approved. */
import { CircuitOpenError, ContentBlockedError, CreativeRejectedError } from '../errors';
import type { Verdict } from '../moderation';

const detailsOf = (verdict: Verdict) => ({
  layer: verdict.layer,
  reason: verdict.reason,
  categories: verdict.categories,
  pattern: verdict.pattern,
  checked: verdict.checked,
});

/** The moderation API was down and moderation fails closed: a 503, not the client's fault. */
function unavailable(verdict: Verdict): boolean {
  return !verdict.approved && verdict.checked.openai === 'unavailable';
}

/** A client's input: flagged → `400 content_policy_violation` naming the field. */
export function assertInputApproved(verdict: Verdict, param: string): void {
  if (verdict.approved) return;
  if (unavailable(verdict)) {
    throw new CircuitOpenError({ message: 'Moderation is unavailable; retry shortly.', retryAfter: 30 });
  }
  throw new ContentBlockedError({
    message: `The ${param} was refused by ${verdict.layer}: ${verdict.reason}.`,
    param,
    details: detailsOf(verdict),
  });
}

/** Generated content: rejected → `422 creative_rejected` with the verdict; it is never returned. */
export function assertCreativeApproved(verdict: Verdict, what: string): void {
  assertGeneratedApproved(verdict, `The generated ${what} was`);
}

/**
 * A generated opportunities answer: rejected → `422 creative_rejected`, the one code for generated
 * content that failed moderation, whatever the task; the answer is never returned or cached.
 */
export function assertOpportunitiesApproved(verdict: Verdict): void {
  assertGeneratedApproved(verdict, 'The generated opportunities were');
}

function assertGeneratedApproved(verdict: Verdict, subject: string): void {
  if (verdict.approved) return;
  if (unavailable(verdict)) {
    throw new CircuitOpenError({ message: 'Moderation is unavailable; retry shortly.', retryAfter: 30 });
  }
  throw new CreativeRejectedError({
    message: `${subject} rejected by ${verdict.layer}: ${verdict.reason}.`,
    details: detailsOf(verdict),
  });
}
