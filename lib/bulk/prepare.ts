import { modelsFor, type TaskModels } from '../model-policy';
import { withVariant } from '../variants';
import type { StoredItem } from './job';
import type { SubmitDeps } from './submit-deps';
import type { AnyBulkTask } from './tasks';

/**
 * Each accepted item's structured task (with the prompt variant the single endpoint would pick) and
 * what the collector needs of it. Results are cached only when the single endpoint uses the bulk model:
 * a cache entry must be what that endpoint would have generated.
 */
export async function prepareItems(
  deps: SubmitDeps,
  task: AnyBulkTask,
  { model, reasoningEffort }: Pick<TaskModels, 'model' | 'reasoningEffort'>,
  accepted: { index: number; request: unknown }[],
) {
  const cacheable = model === modelsFor(deps.env, task.single).model;
  const one = async ({ index, request }: { index: number; request: unknown }) => {
    const variant = deps.variant(task.single, task.variantUnit(request));
    const key = cacheable ? await deps.cacheKey(task.cacheParts(request, deps.env, variant)) : '';
    const item: StoredItem = { key, text: task.inputText(request) };
    const structured = { ...withVariant(task.structured(request), variant), reasoningEffort };
    return { index, task: structured, item };
  };
  // A slice at a time: ten thousand key hashes in flight at once keep all their buffers alive together.
  const prepared: Awaited<ReturnType<typeof one>>[] = [];
  for (let start = 0; start < accepted.length; start += PREPARE_SLICE) {
    prepared.push(...(await Promise.all(accepted.slice(start, start + PREPARE_SLICE).map(one))));
  }
  return prepared;
}

/** Items whose cache keys are hashed at once. */
const PREPARE_SLICE = 256;
