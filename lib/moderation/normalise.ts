/**
 * The normalised readings of a text: where the local layers look for the evasions the plain views
 * (text.ts) miss, issue #16: look-alike letters from other scripts (`hurrу` with a Cyrillic у),
 * leetspeak (`gu4ranteed m0ney`), letters spaced out or split by invisible fillers (`h u r r y`,
 * `hur\u3164ry`). Repeated letters (`hurrrry`) are left to the rules' loose forms (loose.ts), which let
 * each letter repeat: collapsing the text instead would also collapse the words that double a letter.
 *
 * The steps, each from a maintained source where one exists (docs/moderation.md):
 * 1. fold (text.ts): compatibility forms, accents and format characters (zero-width space) go;
 * 2. the invisible characters left go: every Default_Ignorable_Code_Point (the Hangul fillers U+3164,
 *    U+115F, U+1160, U+FFA0 are letters to Unicode, so the words view reads them as part of a word)
 *    and the blank braille pattern U+2800;
 * 3. each non-ASCII character becomes its TR39 skeleton prototype (Unicode's confusables.txt, through
 *    `unhomoglyph`), folded again; where that is not plain ASCII (TR39 maps Cyrillic к to ĸ), obscenity's
 *    confusables table decides. ASCII is left as it is: TR39 also maps `m` to `rn` and `0` to `O`, which
 *    would break rules written in plain letters; digits are step 5's;
 * 4. words: apostrophes go, other non-alphanumerics separate words; a run of two or more one-character
 *    words is joined (`h u r r y` → `hurry`), split where its separator changes (`h.u.r.r.y n.o.w` →
 *    `hurry now`), so that `contact now for a quote`, with one lone `a`, reads as written;
 * 5. leetspeak, with obscenity's table (4 → a, 3 → e, 1 → i, 0 → o, $ → s, …), inside the words that
 *    have a letter: `m0ney` reads `money`, while `24/7` and `#1` stay numbers.
 *
 * The two readings differ in step 4: in the first every symbol separates (`h!u!r!r!y`); in the second
 * leet symbols are letters (`$ecret`, `h!dden`, `rep|!c@`), except where they usually are punctuation:
 * an opening bracket before a word (`(best`) and `!`, `|`, `/` or `(` after one (`secret!`).
 */
import { resolveConfusablesTransformer, resolveLeetSpeakTransformer } from 'obscenity';
import unhomoglyph from 'unhomoglyph';
import { foldText } from './text.ts';

const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800]/gu;
const NON_ASCII = /[\u0080-\u{10ffff}]/gu;
const ANY_NON_ASCII = /[\u0080-\u{10ffff}]/u;
const APOSTROPHES = /['\u2018\u2019\u02bc`]/gu;
const HAS_LETTER = /\p{L}/u;
const confusables = resolveConfusablesTransformer();
const leet = resolveLeetSpeakTransformer();

/** The ASCII symbols obscenity's leet table reads as letters (`@ $ ! | ( /`), found by asking it. */
const LEET_SYMBOLS = [...'!"#$%&()*+,-./:;<=>?@[\\]^_{|}~'].filter((ch) => leetOf(ch) !== ch).join('');
const escaped = LEET_SYMBOLS.replace(/[\\\]^-]/g, '\\$&');
/** A word is a run of letters and digits; in the second reading, leet symbols too. */
const WORDS = [/[\p{L}\p{N}]+/gu, new RegExp(`[\\p{L}\\p{N}${escaped}]+`, 'gu')] as const;
/** A digit or leet symbol: a word without one has no leetspeak to resolve. */
const MAYBE_LEET = new RegExp(`[0-9${escaped}]`);
/** Leet symbols that, at a word's edge, are punctuation: `(best`, `secret!`. */
const EDGE_PUNCTUATION = /^\(+|[!|/(]+$/g;

/** The text's normalised readings, distinct, each words separated by single spaces. */
export function normalisedReadings(text: string): string[] {
  // One look-up per distinct character: a text in another script repeats few characters many times.
  const skeletons = new Map<string, string>();
  const skeleton = (ch: string) => skeletons.get(ch) ?? skeletons.set(ch, skeletonOf(ch)).get(ch) ?? ch;
  const plain = foldText(text).replace(INVISIBLE, '').replace(NON_ASCII, skeleton).replace(APOSTROPHES, '');
  return [...new Set(WORDS.map((word) => readWords(plain, word)))];
}

/** `normalisedReadings(text)`, made on first use: most texts are decided on the plain views alone. */
export function readingsOnDemand(text: string): () => string[] {
  let readings: string[] | undefined;
  return () => {
    readings ??= normalisedReadings(text);
    return readings;
  };
}

/** One character's plain ASCII look-alike: its TR39 prototype, else obscenity's; itself when neither. */
function skeletonOf(ch: string): string {
  const prototype = foldText(unhomoglyph(ch));
  if (isAscii(prototype)) return prototype;
  for (const candidate of [ch, prototype]) {
    const mapped = [...candidate].map((c) =>
      codePointString(confusables.transform(c.codePointAt(0) ?? 0), c),
    );
    if (isAscii(mapped.join(''))) return mapped.join('');
  }
  return ch;
}

function readWords(text: string, word: RegExp): string {
  const tokens: { word: string; gap: string }[] = [];
  let end = 0;
  for (const match of text.matchAll(word)) {
    // Punctuation at the edges goes to the gaps; a word of punctuation alone (`!!!`) is all gap.
    const core = match[0].replace(EDGE_PUNCTUATION, '');
    if (!core) continue;
    const start = match.index + match[0].indexOf(core);
    tokens.push({ word: core, gap: text.slice(end, start) });
    end = start + core.length;
  }
  return joinSpelledOut(tokens)
    .map((w) => (HAS_LETTER.test(w) && MAYBE_LEET.test(w) ? [...w].map((ch) => leetOf(ch)).join('') : w))
    .join(' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Words, with each run of two or more one-character words joined: `h u r r y` → `hurry`. A gap unlike
 * the run's usual one (`h.u.r.r.y n.o.w`, or three spaces between spaced-out words) stays a space.
 */
function joinSpelledOut(tokens: { word: string; gap: string }[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    let j = i;
    while (j < tokens.length && [...(tokens[j]?.word ?? '')].length === 1) j += 1;
    if (j - i < 2) {
      words.push(tokens[i]?.word ?? '');
      i = Math.max(j, i + 1);
      continue;
    }
    const run = tokens.slice(i, j);
    const usual = mostCommon(run.slice(1).map((t) => t.gap));
    words.push(run.map((t, k) => (k > 0 && t.gap !== usual ? ` ${t.word}` : t.word)).join(''));
    i = j;
  }
  return words;
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

function leetOf(ch: string): string {
  return codePointString(leet.transform(ch.codePointAt(0) ?? 0), ch);
}

function codePointString(codePoint: number | undefined, fallback: string): string {
  return codePoint === undefined ? fallback : String.fromCodePoint(codePoint);
}

function isAscii(text: string): boolean {
  return !ANY_NON_ASCII.test(text);
}
