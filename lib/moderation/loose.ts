/**
 * The loose form of a rule, run on the normalised readings only (normalise.ts; the plain views keep
 * each rule as written). Three things loosen, each undoing what the readings cannot:
 * - every literal letter may repeat: `hurry` → `h+u+r+y+` (a doubled letter once), so `hurrrry` and
 *   `seeecret` match, while collapsing the text instead would break every word that doubles a letter;
 * - a literal space may be missing, because a spaced-out phrase joins into one word (`a c t n o w` reads
 *   `actnow`);
 * - `i` and `l` match each other, because `1`, `|` and `!` stand for either and the readings write `i`.
 * Whole-word boundaries stay, so `hurricane`, `secretary` and `contact now` still do not match.
 */
import { foldText, wholeWords } from './text.ts';

const QUANTIFIER = /[?*+{]/;
const LETTER = /\p{L}/u;
const I_OR_L: Record<string, string> = { i: '[il]', l: '[il]', I: '[IL]', L: '[IL]' };

/**
 * `source` with its literal letters and spaces loosened (an optional letter `s?` becomes `s*`). Escapes,
 * character classes, `{…}`, group names and letters with another quantifier are kept as written. Null when the result does not
 * compile (a construct this rewrite does not know); the rule then runs on the plain views only.
 */
export function looseRegex(source: string, flags: string): RegExp | null {
  let out = '';
  for (let i = 0; i < source.length; ) {
    const ch = source[i] as string;
    const next = source[i + 1] ?? '';
    const kept = keptLength(source, i, flags.includes('v'));
    if (kept > 0) {
      out += source.slice(i, i + kept);
      i += kept;
    } else if (ch === ' ' && !QUANTIFIER.test(next)) {
      out += ' ?';
      i += 1;
    } else if (LETTER.test(ch) && next === '?') {
      // An optional letter may repeat too: `secrets?` → `…t+s*`, so `secretss` matches.
      out += `${I_OR_L[ch] ?? ch}*`;
      i += 2;
    } else if (LETTER.test(ch) && !QUANTIFIER.test(next)) {
      out += `${I_OR_L[ch] ?? ch}+`;
      i += 1;
      // A doubled letter is one `x+`, unless the second has a quantifier of its own (`ss?`).
      while (source[i] === ch && !QUANTIFIER.test(source[i + 1] ?? '')) i += 1;
    } else {
      out += ch;
      i += 1;
    }
  }
  try {
    return new RegExp(out, flags);
  } catch {
    return null;
  }
}

/**
 * The loose matcher of a configured term (termMatcher's, loosened): its words and the parts of a word
 * split by punctuation (`knock-off`, `world's`) may be joined or spaced. Null for a term that begins or
 * ends with punctuation (`#1`), which the readings drop: such a term matches as written only.
 */
export function looseTermMatcher(term: string): RegExp | null {
  const folded = foldText(term).trim();
  if (!/^[\p{L}\p{N}](?:.*[\p{L}\p{N}])?$/u.test(folded)) return null;
  const words = folded.replace(/['\u2018\u2019\u02bc`]/gu, '').split(/[^\p{L}\p{N}]+/u);
  return looseRegex(wholeWords(words.join(' ')), 'iu');
}

/** How many characters at `i` are copied as written: an escape, a class, `{…}` or a group's name. */
function keptLength(source: string, i: number, nestedClasses: boolean): number {
  const ch = source[i];
  if (ch === '\\') return escapeLength(source, i);
  if (ch === '[') return classLength(source, i, nestedClasses);
  if (ch === '{') return untilAfter(source, i, '}');
  if (ch === '(' && source[i + 1] === '?') {
    // A named group `(?<name>`, or modifiers `(?i:`; lookarounds `(?<=`, `(?<!` are plain characters.
    if (source[i + 2] === '<' && LETTER.test(source[i + 3] ?? '')) return untilAfter(source, i, '>');
    const modifiers = /^\(\?[a-z-]+:/.exec(source.slice(i));
    if (modifiers) return modifiers[0].length;
  }
  return 0;
}

function escapeLength(source: string, i: number): number {
  const kind = source[i + 1] ?? '';
  const opener = source[i + 2];
  if ('pPuk'.includes(kind) && (opener === '{' || opener === '<')) {
    return untilAfter(source, i, opener === '{' ? '}' : '>');
  }
  if (kind === 'u') return 6;
  if (kind === 'x') return 4;
  if (kind === 'c') return 3;
  return 2;
}

function classLength(source: string, start: number, nested: boolean): number {
  let depth = 0;
  for (let i = start; i < source.length; i += 1) {
    const ch = source[i];
    if (ch === '\\') i += escapeLength(source, i) - 1;
    else if (ch === '[' && (nested || depth === 0)) depth += 1;
    else if (ch === ']' && --depth === 0) return i + 1 - start;
  }
  return source.length - start;
}

function untilAfter(source: string, start: number, close: string): number {
  const end = source.indexOf(close, start);
  return end < 0 ? source.length - start : end + 1 - start;
}
