import type { Rng } from './rng.ts';

const STOPWORDS = new Set(
  [
    'a an and are as at be but by can could do does for from give has have how i if in into is it its me my',
    'no not of on or our please should so that the their them then there these this those to us was we were',
    'what when where which who why will with would you your write generate create make return json about',
    'describe tell some any',
  ]
    .join(' ')
    .split(' '),
);

/** Words used when the request carries no usable text. */
const FALLBACK_WORDS = ['sample', 'product', 'quality', 'value', 'offer', 'customer', 'simulated', 'item'];

/**
 * The content words of `text` in order (stopwords and one-letter tokens dropped, duplicates kept once).
 * Generated strings are built from these so that, say, a `title` field echoes the user's input.
 */
export function contentWords(text: string): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const match of text.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu)) {
    const word = match[0].replace(/['-]+$/, '');
    const lower = word.toLowerCase();
    if (word.length < 2 || STOPWORDS.has(lower) || seen.has(lower)) continue;
    seen.add(lower);
    words.push(word);
  }
  return words.length > 0 ? words : FALLBACK_WORDS;
}

/** `count` consecutive words (wrapping around) starting at a seeded offset. */
export function takeWords(words: readonly string[], rng: Rng, count: number): string[] {
  const start = rng.int(0, Math.max(0, words.length - 1));
  return Array.from({ length: count }, (_, i) => words[(start + i) % words.length] ?? 'item');
}

/** The word with its first letter in upper case. */
export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Words joined with spaces, each capitalised. */
export function titleCase(words: readonly string[]): string {
  return words.map(capitalize).join(' ');
}

/** A capitalised sentence ending in a full stop. */
export function sentence(words: readonly string[]): string {
  return `${capitalize(words.join(' '))}.`;
}

/** A short, deterministic plain-text answer that mentions words from the input. */
export function plainAnswer(words: readonly string[], rng: Rng): string {
  const topic = takeWords(words, rng, Math.min(3, words.length)).join(' ');
  const points = takeWords(words, rng, Math.min(3, words.length));
  const list = points.length > 1 ? `${points.slice(0, -1).join(', ')} and ${points.at(-1)}` : points.join('');
  const openers = ['Here is a short answer about', 'In brief, regarding', 'A quick summary of'];
  return [
    `${rng.pick(openers)} ${topic}.`,
    `The main ${points.length > 1 ? 'points are' : 'point is'} ${list}.`,
    'This text was produced by the OpenAI simulator.',
  ].join(' ');
}

const FILLER_CLAUSES = [
  'designed for everyday use',
  'with a focus on quality and value',
  'chosen for comfort and durability',
  'a reliable pick for most customers',
  'built to last',
];

/** A one- or two-sentence description: input words (each at most once), then a filler clause. */
export function description(words: readonly string[], rng: Rng, wanted: number): string {
  const own = takeWords(words, rng, Math.min(wanted, words.length));
  return `${sentence(own)} ${capitalize(rng.pick(FILLER_CLAUSES))}.`;
}

/**
 * Splits `text` into stream deltas of at most `size` characters, breaking after whitespace where possible.
 * Joining the pieces gives back `text` exactly.
 */
export function chunkText(text: string, size = 12): string[] {
  const pieces: string[] = [];
  for (const match of text.matchAll(/\S*\s*/g)) {
    const word = match[0];
    for (let i = 0; i < word.length; i += size) pieces.push(word.slice(i, i + size));
  }
  return pieces.length > 0 ? pieces : [''];
}
