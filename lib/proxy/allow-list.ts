/**
 * What the OpenAI-compatible proxy forwards: only request fields it can price before the call and
 * bill exactly after it. Everything else is refused with a 400 naming the field, never passed through
 * unpriced: built-in tools (per-call fees, and `mcp` makes OpenAI connect to any URL at our cost),
 * file inputs (their pages are billed as text and images nobody counted), audio, predicted outputs,
 * priority and flex service tiers, and storing responses on the shared organisation.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../errors';

/** A field the gateway refuses; `why` ends the message. */
export const refused = (why: string) => z.never({ error: `is not supported through the gateway: ${why}` });

const UNKNOWN_FIELD =
  'the gateway forwards only the fields it can price (see docs/proxy.md); this one is not among them';

/** An object whose unknown fields are refused with a message that says why. */
export const allowOnly = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `is not supported through the gateway: ${UNKNOWN_FIELD}`
        : undefined,
  });

/** Tools whose only cost is their definition's tokens (counted in the prompt): functions and custom tools. */
const PRICEABLE_TOOLS = ['function', 'custom'] as const;

/** A tool definition; built-in tools are refused. */
export const Tool = z.looseObject({ type: z.string() }).superRefine((tool, ctx) => {
  if (!(PRICEABLE_TOOLS as readonly string[]).includes(tool.type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: `is not supported through the gateway: '${tool.type}' tools have per-call fees it does not price (function and custom tools are)`,
    });
  }
});

const FILE_INPUT =
  'a file is billed as the text and images of its pages, which cannot be counted before the call';

/** Content parts the gateway cannot price (Responses and Chat name files differently), and why. */
const UNPRICED_PARTS: Record<string, string> = {
  input_file: FILE_INPUT,
  file: FILE_INPUT,
  input_audio: 'audio input is not priced',
};

/**
 * Refuses any content part (at any depth of `value`) the gateway cannot price. Every part of every
 * message passes here: the walk extends one path and restores it, and copies it only for an issue.
 */
export function refuseUnpricedParts(
  value: unknown,
  ctx: z.RefinementCtx,
  path: (string | number)[] = [],
): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      refuseUnpricedParts(value[i], ctx, path);
      path.pop();
    }
    return;
  }
  if (!value || typeof value !== 'object') return;
  const type = (value as { type?: unknown }).type;
  // Own names only: a part typed `constructor` or `toString` is no unpriced part.
  if (typeof type === 'string' && Object.hasOwn(UNPRICED_PARTS, type)) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'type'],
      message: `is not supported through the gateway: ${UNPRICED_PARTS[type]}`,
    });
    return;
  }
  for (const key in value) {
    const inner = (value as Record<string, unknown>)[key];
    if (typeof inner !== 'object' || inner === null) continue;
    path.push(key);
    refuseUnpricedParts(inner, ctx, path);
    path.pop();
  }
}

/** Standard processing only: priority bills at a higher rate, flex at a lower one, neither priced. */
export const ServiceTier = z.enum(['auto', 'default'], {
  error:
    "is not supported through the gateway unless 'auto' or 'default': other tiers bill at rates it does not price",
});

/**
 * Whether an answer may be stored on the provider's (shared) organisation: only when PROXY_ALLOW_STORE
 * says so. Returns what to add upstream: `store: false` where the API would otherwise store (Responses
 * stores by default; Chat Completions does not).
 * @throws InvalidRequestError for `store: true` while storing is not allowed.
 */
export function storeField(
  store: boolean | null | undefined,
  { allowed, storesByDefault }: { allowed: boolean; storesByDefault: boolean },
): { store?: false } {
  if (allowed) return {};
  if (store === true) {
    throw new InvalidRequestError({
      message:
        'store: is not supported through the gateway: answers are not kept on the shared organisation (PROXY_ALLOW_STORE)',
      param: 'store',
    });
  }
  return storesByDefault ? { store: false } : {};
}
