import type { z } from 'zod';
import { InvalidModelOutputError } from '../errors';
import { DEFAULT_REASONING_EFFORT, INCOMPLETE_RETRY_FACTOR } from './reasoning';
import type { RetryPolicy } from './retry';
import { callProviders, type Served } from './router';
import type { RouterDeps } from './router-deps';
import {
  type CallShape,
  type PromptPart,
  type StructuredTask,
  type Turn,
  viaChat,
  viaResponses,
} from './structured-calls';
import { addUsage, type Usage, ZERO_USAGE } from './usage';

export interface StructuredResult<T> extends Omit<Served<T>, 'value'> {
  data: T;
  /** Summed over every call that returned a body, the repair included: all of it is billed. */
  usage: Usage;
  /** 1 when the first output was unusable and a second call (a repair or a larger cap) fixed it. */
  repairs: number;
}

/**
 * Generates a schema-validated result. Every output that cannot be used gets exactly one more call:
 * an answer the output cap cut off (reasoning counts against it) is asked again with
 * INCOMPLETE_RETRY_FACTOR times the cap; one that is refused or fails the schema (length limits
 * included) gets a repair call that tells the model what was wrong. If that fails too,
 * `502 invalid_model_output`. Unvalidated content is never returned.
 */
export async function generateStructured<T>(
  deps: RouterDeps,
  policy: RetryPolicy,
  task: StructuredTask<T>,
): Promise<StructuredResult<T>> {
  const turns: Turn[] = [{ role: 'user', content: toParts(task.input) }];
  const effort = task.reasoningEffort ?? DEFAULT_REASONING_EFFORT;
  let capFactor = 1;
  let usage = ZERO_USAGE;
  let attempts = 0;
  let retries = 0;
  for (let repairs = 0; ; repairs++) {
    const call: CallShape = { effort, capFactor };
    // An attempt of this call the provider may have billed is charged this call's own worst case.
    const billing = deps.billing?.forCall?.(repairs > 0 ? 'second' : 'first') ?? deps.billing;
    const served = await callProviders(
      billing ? { ...deps, billing } : deps,
      task.capability ?? 'text',
      policy,
      (target, model) =>
        target.api === 'responses'
          ? viaResponses(target, model, task, turns, call)
          : viaChat(target, model, task, turns, call),
      {
        ...(task.model ? { primaryModel: task.model } : {}),
        usageOf: (raw) => raw.usage,
        repair: repairs > 0,
        task: task.name,
      },
    );
    attempts += served.attempts;
    retries += served.retries;
    usage = addUsage(usage, served.value.usage);
    if (deps.logPrompts) {
      deps.log.info('model exchange', {
        task: task.name,
        model: served.model,
        repairs,
        instructions: task.instructions,
        input: turns,
        output: served.value.text,
      });
    }
    const verdict = served.value.problem
      ? { ok: false as const, problems: served.value.problem }
      : check(task.schema, served.value.text);
    if (verdict.ok) {
      const { value: _raw, ...meta } = served;
      return { ...meta, attempts, retries, data: verdict.data, usage, repairs };
    }
    deps.log.warn('model output invalid', {
      provider: served.provider,
      model: served.model,
      repairs,
      problems: verdict.problems,
    });
    if (repairs >= 1) {
      throw new InvalidModelOutputError({
        message: `The model's output stayed invalid after a repair attempt (${verdict.problems}).`,
        usage,
      });
    }
    if (served.value.capped) {
      // Nothing to repair: the same question, with room for the reasoning that used up the cap.
      capFactor = INCOMPLETE_RETRY_FACTOR;
      continue;
    }
    turns.push(
      { role: 'assistant', content: served.value.text || '(no answer)' },
      {
        role: 'user',
        content: [
          {
            type: 'text',
            text: `Your previous answer was unusable: ${verdict.problems}. Answer again with JSON that satisfies the schema exactly; respect every length and count limit.`,
          },
        ],
      },
    );
  }
}

/** Parses and validates an answer; tolerates a code fence around it, which prompt-only backups add. */
function check<T>(
  schema: z.ZodType<T>,
  text: string,
): { ok: true; data: T } | { ok: false; problems: string } {
  let json: unknown;
  try {
    json = JSON.parse(text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1'));
  } catch {
    return { ok: false, problems: 'the answer is not valid JSON' };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, data: result.data };
  const problems = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, problems };
}

function toParts(input: string | PromptPart[]): PromptPart[] {
  return typeof input === 'string' ? [{ type: 'text', text: input }] : input;
}
