import { isRecord } from './config.ts';
import { invalidParam, missingParam } from './errors.ts';
import { type Meter, usageOf } from './meter.ts';
import {
  addWithParent,
  flaggedCategories,
  IMAGE_CATEGORIES,
  IMAGE_FLAG_CATEGORIES,
  imageIsFlagged,
  MODERATION_CATEGORIES,
  type ModerationCategory,
} from './moderation-terms.ts';
import { createRng, hashOf } from './rng.ts';
import { exactPath, type RouteContext, type RouteResult, type SimRoute } from './routes.ts';
import { estimateTokens } from './tokens.ts';

const DEFAULT_MODEL = 'omni-moderation-latest';

/**
 * `POST /v1/moderations` in the omni shape. Text is flagged when it contains a configured term (see
 * moderation-terms.ts); an image is flagged when its URL, or a data URL's decoded bytes, contain 'sim-flag'.
 * A string or string[] gives one result per string; a multimodal array gives one result for all its parts.
 */
export const moderationsRoute: SimRoute = {
  method: 'POST',
  endpoint: '/v1/moderations',
  matches: exactPath('/v1/moderations'),
  defaultModel: DEFAULT_MODEL,
  handle: handleModerations,
};

interface ModerationInput {
  texts: string[];
  imageUrls: string[];
}

function handleModerations(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const inputs = parseInputs(body.input);
  const model = typeof body.model === 'string' ? body.model : DEFAULT_MODEL;
  const results = inputs.map((input) => moderate(input, ctx.flaggedTerms, ctx.flagImages, model));
  const tokens = inputs.reduce((sum, input) => sum + estimateTokens(input.texts.join(' ')), 0);
  const images = inputs.reduce((sum, input) => sum + input.imageUrls.length, 0);
  const meter: Meter = {
    usage: usageOf(model, { inputTokens: tokens }),
    work: { kind: 'moderation', seed: hashOf(model, tokens, images), images },
  };
  return { kind: 'json', body: { id: ctx.newId('modr-'), model, results }, meter };
}

function parseInputs(input: unknown): ModerationInput[] {
  if (input === undefined) throw missingParam('input');
  if (typeof input === 'string') return [{ texts: [input], imageUrls: [] }];
  if (!Array.isArray(input) || input.length === 0) throw invalidParam('input');
  if (input.every((item) => typeof item === 'string'))
    return input.map((text) => ({ texts: [text], imageUrls: [] }));
  const combined: ModerationInput = { texts: [], imageUrls: [] };
  for (const item of input) {
    if (isRecord(item) && item.type === 'text' && typeof item.text === 'string')
      combined.texts.push(item.text);
    else if (
      isRecord(item) &&
      item.type === 'image_url' &&
      isRecord(item.image_url) &&
      typeof item.image_url.url === 'string'
    ) {
      combined.imageUrls.push(item.image_url.url);
    } else
      throw invalidParam(
        'input',
        "Invalid 'input': items must be {type:'text'} or {type:'image_url'} objects.",
      );
  }
  return [combined];
}

function moderate(input: ModerationInput, terms: readonly string[], flagImages: boolean, model: string) {
  const text = input.texts.join('\n');
  const flagged = input.texts.length > 0 ? flaggedCategories(text, terms) : new Set<ModerationCategory>();
  if (input.imageUrls.some((url) => flagImages || imageIsFlagged(url)))
    for (const category of IMAGE_FLAG_CATEGORIES) addWithParent(flagged, category);
  const rng = createRng(hashOf(model, input));
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const applied: Record<string, string[]> = {};
  for (const category of MODERATION_CATEGORIES) {
    categories[category] = flagged.has(category);
    scores[category] = flagged.has(category) ? 0.9 + rng.next() * 0.09 : rng.next() * 0.001;
    applied[category] = [
      ...(input.texts.length > 0 ? ['text'] : []),
      ...(input.imageUrls.length > 0 && IMAGE_CATEGORIES.has(category) ? ['image'] : []),
    ];
  }
  return {
    flagged: flagged.size > 0,
    categories,
    category_scores: scores,
    category_applied_input_types: applied,
  };
}
