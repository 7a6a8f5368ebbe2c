/** The kinds of work the gateway routes: what a provider serves, what a policy applies to, how hard a model thinks. */

/** What a provider's model serves; a backup offers only those it names a model for. */
export const CAPABILITIES = ['text', 'vision', 'image', 'embeddings', 'moderation'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** OpenAI's `reasoning.effort` values (lib/providers/reasoning.ts sizes output caps by them). */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

/** The tasks a model policy and prompt variants apply to. */
export const TASKS = ['opportunities', 'creatives', 'creatives_batch', 'bulk', 'vision'] as const;
export type Task = (typeof TASKS)[number];
