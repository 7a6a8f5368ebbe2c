/**
 * How the local layers read text, so trivial evasion does not get past them. Both views first fold
 * the text: compatibility forms become plain ones (full-width `ＡＣＴ` → `ACT`, `①` → `1`), and accents,
 * combining strokes and invisible format characters (zero-width space, soft hyphen) are dropped.
 */

/** Combining marks (accents, zalgo strokes) and format characters (zero-width space, joiners, soft hyphen). */
const MARKS_AND_FORMATS = /[\p{M}\p{Cf}]/gu;
const APOSTROPHES = /['\u2018\u2019\u02bc`]/gu;
const NON_WORD_RUN = /[^\p{L}\p{N}]+/gu;
const WORD_CHAR = '[\\p{L}\\p{N}]';
const NON_WORD_CHAR = '[^\\p{L}\\p{N}]';
/** What a regular expression in `u` mode lets us escape (escaping anything else is a syntax error there). */
const SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

/** The text folded to plain characters; punctuation and spacing are kept. */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(MARKS_AND_FORMATS, '');
}

/**
 * The words view that business rules match against: folded, apostrophes dropped (`don't` → `dont`),
 * and every run of other non-letters (spaces, punctuation, symbols) turned into one space, so
 * `Act-Now!`, `act   now` and `ACT...NOW` all read `act now` (case is left to the rule's flags).
 */
export function wordsOf(text: string): string {
  return foldText(text).replace(APOSTROPHES, '').replace(NON_WORD_RUN, ' ').trim();
}

/** Builds a regular expression source matching `phrases` as whole words in the words view. */
export function wholeWords(...phrases: string[]): string {
  return `(?<!${WORD_CHAR})(?:${phrases.join('|')})(?!${WORD_CHAR})`;
}

/**
 * A case-insensitive matcher for one configured term (blocked term, competitor, claim), run on the
 * folded text. Words match whole (`cure` does not match `secure` or `cured`); between the term's words
 * any run of spaces or punctuation matches (`best-in-the-world`); punctuation inside a word may be
 * anything or nothing (`knock-off` matches `knockoff`, `world's` matches `worlds`); punctuation at a
 * word's edges is literal, so `#1` matches `our #1 pick` but not `1` or `#10`.
 */
export function termMatcher(term: string): RegExp {
  const words = foldText(term).trim().split(/\s+/u);
  const folded = words.join(' ');
  const start = /^[\p{L}\p{N}]/u.test(folded) ? `(?<!${WORD_CHAR})` : '';
  const end = /[\p{L}\p{N}]$/u.test(folded) ? `(?!${WORD_CHAR})` : '';
  return new RegExp(`${start}${words.map(wordSource).join(`${NON_WORD_CHAR}+`)}${end}`, 'iu');
}

function wordSource(word: string): string {
  const parts = word.match(/[\p{L}\p{N}]+|[^\p{L}\p{N}]+/gu) ?? [];
  return parts
    .map((part, i) => {
      const interiorPunctuation = !/^[\p{L}\p{N}]/u.test(part) && i > 0 && i < parts.length - 1;
      return interiorPunctuation ? `${NON_WORD_CHAR}*` : part.replace(SYNTAX, '\\$&');
    })
    .join('');
}
