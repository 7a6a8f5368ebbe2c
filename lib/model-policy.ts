/**
 * Which model serves each task (MODEL_POLICY), and the cheaper one it degrades to once the day's spend
 * passes the alert threshold. Only the primary's model is chosen here: backups keep the models they
 * were configured with.
 */
import type { Task } from './capabilities';
import type { Env } from './env';
import { DEFAULT_REASONING_EFFORT, type ReasoningEffort } from './providers/reasoning';

export interface TaskModels {
  /** The primary's model for the task. */
  model: string;
  /** The model to use past the alert threshold; undefined when the task never degrades. */
  degradeTo?: string;
  /** How hard a reasoning model thinks on the task. */
  reasoningEffort: ReasoningEffort;
}

/** The models of `task`: the policy's, else OPENAI_VISION_MODEL for vision and OPENAI_TEXT_MODEL for the rest. */
export function modelsFor(env: Env, task: Task): TaskModels {
  const policy = env.MODEL_POLICY[task];
  const model = policy?.model ?? (task === 'vision' ? env.OPENAI_VISION_MODEL : env.OPENAI_TEXT_MODEL);
  const reasoningEffort = policy?.reasoning_effort ?? DEFAULT_REASONING_EFFORT;
  return policy?.degrade_to && policy.degrade_to !== model
    ? { model, degradeTo: policy.degrade_to, reasoningEffort }
    : { model, reasoningEffort };
}
