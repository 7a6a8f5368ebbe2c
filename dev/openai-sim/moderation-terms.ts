/** The 13 omni-moderation categories, in OpenAI's order. */
export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

/** One of the 13 category keys. */
export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

/** The categories omni-moderation also scores for images; the rest are text-only. */
export const IMAGE_CATEGORIES: ReadonlySet<ModerationCategory> = new Set([
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'violence',
  'violence/graphic',
]);

/** Words that make text flagged unless `/_sim/config` sets `moderation.flagged_terms`. */
export const DEFAULT_FLAGGED_TERMS: readonly string[] = [
  'kill',
  'murder',
  'bomb',
  'terrorist',
  'suicide',
  'porn',
  'nazi',
];

/** An image URL or data URL (raw or base64-decoded) containing this marker is flagged. */
export const IMAGE_FLAG_MARKER = 'sim-flag';

/** Categories an image carrying the marker is flagged for. */
export const IMAGE_FLAG_CATEGORIES: readonly ModerationCategory[] = ['violence', 'violence/graphic'];

const TERM_CATEGORIES: Record<string, ModerationCategory[]> = {
  kill: ['violence', 'harassment/threatening'],
  murder: ['violence'],
  bomb: ['illicit/violent', 'violence'],
  terrorist: ['violence', 'illicit/violent'],
  suicide: ['self-harm', 'self-harm/intent'],
  porn: ['sexual'],
  nazi: ['hate'],
};

/** Category for a configured term that names none and is not one of the defaults. */
const FALLBACK_CATEGORY: ModerationCategory = 'harassment';

/** A configured term and the categories it flags. */
export interface FlaggedTerm {
  term: string;
  categories: ModerationCategory[];
}

/**
 * A configured term: either a bare word (categories from the defaults' mapping, else 'harassment') or
 * 'word:category' with one of the 13 categories, e.g. 'scam:illicit'.
 */
export function parseTerm(entry: string): FlaggedTerm {
  const separator = entry.lastIndexOf(':');
  const category = separator > 0 ? entry.slice(separator + 1).trim() : '';
  if (MODERATION_CATEGORIES.includes(category as ModerationCategory)) {
    return {
      term: entry.slice(0, separator).trim().toLowerCase(),
      categories: [category as ModerationCategory],
    };
  }
  const term = entry.trim().toLowerCase();
  return { term, categories: TERM_CATEGORIES[term] ?? [FALLBACK_CATEGORY] };
}

/**
 * Categories `text` is flagged for: a term matches at the start of a word, case-insensitively, so 'kill'
 * matches 'killing' but not 'skill'. Subcategories also flag their parent ('self-harm/intent' flags
 * 'self-harm').
 */
export function flaggedCategories(text: string, terms: readonly string[]): Set<ModerationCategory> {
  const found = new Set<ModerationCategory>();
  const lower = text.toLowerCase();
  for (const { term, categories } of terms.map(parseTerm)) {
    const pattern = new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegex(term)}`, 'u');
    if (term && pattern.test(lower)) for (const category of categories) addWithParent(found, category);
  }
  return found;
}

/** Whether an image URL carries the flag marker, directly or inside a base64 data URL's bytes. */
export function imageIsFlagged(url: string): boolean {
  if (url.includes(IMAGE_FLAG_MARKER)) return true;
  const base64 = /^data:[^,]*;base64,(.*)$/s.exec(url)?.[1];
  return base64 !== undefined && Buffer.from(base64, 'base64').includes(IMAGE_FLAG_MARKER);
}

/** Adds `category` and, for a subcategory like 'self-harm/intent', its parent. */
export function addWithParent(found: Set<ModerationCategory>, category: ModerationCategory): void {
  found.add(category);
  const parent = category.split('/')[0] as ModerationCategory;
  if (MODERATION_CATEGORIES.includes(parent)) found.add(parent);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
