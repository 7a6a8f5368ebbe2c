/**
 * The corpora the local moderation layers are measured on (issue #16, docs/moderation.md): an evasion
 * corpus generated from a fixed matrix, rule term × evasion, that must all be caught, and a benign
 * corpus of ordinary commerce phrases that must all pass. `scoreCorpora` gives the catch and
 * false-positive rates; test/lib/moderation.corpus.test.ts holds them to their targets and
 * `npm run bench:moderation` reports them.
 *
 * The look-alike and leet tables below are test data, picked by hand from what evasions use, and kept
 * apart from the normaliser's sources (TR39 through `unhomoglyph`, obscenity's tables) on purpose: the
 * corpus checks that those sources cover real evasions, so it must not be generated from them.
 *
 * Plain node imports this module (the benchmark), so its imports carry their `.ts` extension.
 */
import { DEFAULT_BLOCKED_TERMS } from '../../lib/moderation/default-rules.ts';
import { BENIGN_EMBEDDED, BENIGN_ORDINARY } from './moderation-benign.ts';

export { BENIGN_EMBEDDED, BENIGN_ORDINARY, BORDERLINE } from './moderation-benign.ts';

/** Each built-in business rule's phrases, written plainly (the rules hold them as regular expressions). */
export const RULE_PHRASES: Record<string, readonly string[]> = {
  get_rich_quick: [
    'get rich quick',
    'guaranteed money',
    'guaranteed income',
    'guaranteed profits',
    'guaranteed returns',
    'no risk',
    'risk free',
  ],
  urgency: ['limited time', 'act now', 'hurry'],
  exclusivity: ['secret', 'secrets', 'hidden', 'insider', 'insiders'],
};

/** A few of the built-in claims: the multi-word ones and the shortest. */
export const CLAIM_SAMPLE = [
  'clinically proven',
  'scientifically proven',
  'doctor recommended',
  'number one',
  'best in the world',
  'cure',
] as const;

/** Every term the evasion corpus disguises: business-rule phrases, blocked terms, sampled claims. */
export const EVADED_TERMS: readonly string[] = [
  ...Object.values(RULE_PHRASES).flat(),
  ...DEFAULT_BLOCKED_TERMS,
  ...CLAIM_SAMPLE,
];

const CYRILLIC: Record<string, string> = {
  a: 'а',
  c: 'с',
  e: 'е',
  h: 'һ',
  i: 'і',
  j: 'ј',
  k: 'к',
  o: 'о',
  p: 'р',
  s: 'ѕ',
  x: 'х',
  y: 'у',
};
const GREEK: Record<string, string> = {
  a: 'α',
  e: 'ε',
  i: 'ι',
  k: 'κ',
  n: 'η',
  o: 'ο',
  p: 'ρ',
  t: 'τ',
  u: 'υ',
  v: 'ν',
  x: 'χ',
  y: 'γ',
};
const LEET_DIGITS: Record<string, string> = { a: '4', e: '3', i: '1', l: '1', o: '0', s: '5', t: '7' };
const LEET_SYMBOLS: Record<string, string> = { a: '@', i: '!', l: '|', s: '$' };

type Evasion = (phrase: string) => string;

const swapAll =
  (table: Record<string, string>): Evasion =>
  (phrase) =>
    [...phrase].map((ch) => table[ch] ?? ch).join('');
const swapFirst =
  (table: Record<string, string>): Evasion =>
  (phrase) => {
    const i = [...phrase].findIndex((ch) => table[ch]);
    return i < 0 ? phrase : [...phrase].map((ch, j) => (j === i ? (table[ch] ?? ch) : ch)).join('');
  };
/** Letters of each word joined by `between`; words by `words`. */
const spread =
  (between: string, words = ' '): Evasion =>
  (phrase) =>
    phrase
      .split(' ')
      .map((w) => [...w].join(between))
      .join(words);
/** `filler` in the middle of each word of three letters or more. */
const split =
  (filler: string): Evasion =>
  (phrase) =>
    phrase
      .split(' ')
      .map((w) => (w.length < 3 ? w : `${w.slice(0, w.length >> 1)}${filler}${w.slice(w.length >> 1)}`))
      .join(' ');
/** Each word's first vowel three times: `huuurry`. */
const stretchVowel: Evasion = (phrase) =>
  phrase
    .split(' ')
    .map((w) => w.replace(/[aeiou]/, '$&$&$&'))
    .join(' ');
/** Every letter twice: `hhuurrrryy`. */
const doubleLetters: Evasion = (phrase) => phrase.replace(/\p{L}/gu, '$&$&');
const both =
  (first: Evasion, second: Evasion): Evasion =>
  (phrase) =>
    second(first(phrase));

/** The matrix's evasions, by name: look-alikes, leetspeak, separators, repeats, and pairs of them. */
export const EVASIONS: Record<string, Evasion> = {
  cyrillic_one: swapFirst(CYRILLIC),
  cyrillic_all: swapAll(CYRILLIC),
  greek_all: swapAll(GREEK),
  leet_one: swapFirst(LEET_DIGITS),
  leet_digits: swapAll(LEET_DIGITS),
  leet_symbols: swapAll(LEET_SYMBOLS),
  spaced: spread(' ', '   '),
  dotted: spread('.'),
  hyphenated: spread('-'),
  zero_width: spread('\u200b'),
  hangul_filler: spread('\u3164'),
  halfwidth_filler: split('\uffa0'),
  repeated_vowel: stretchVowel,
  doubled_letters: doubleLetters,
  cyrillic_and_leet: both(swapAll(LEET_DIGITS), swapAll(CYRILLIC)),
  leet_and_spaced: both(swapAll(LEET_DIGITS), spread(' ', '   ')),
  cyrillic_and_zero_width: both(swapFirst(CYRILLIC), spread('\u200b')),
  leet_and_repeated: both(stretchVowel, swapFirst(LEET_DIGITS)),
  filler_and_repeated: both(stretchVowel, split('\u3164')),
  greek_and_dotted: both(swapAll(GREEK), spread('.')),
};

/** Sentences each disguised term is put in, in turn, so boundaries are tested in context. */
const CONTEXTS = [
  (x: string) => x,
  (x: string) => `Trail boots, ${x}, free delivery`,
  (x: string) => `${x}: new rain jackets in stock`,
  (x: string) => `Insulated mugs and flasks (${x})`,
];

export interface EvasionCase {
  term: string;
  evasion: string;
  text: string;
}

/** Every term × evasion, in context; a pair whose evasion leaves the term unchanged is left out. */
export function evasionCorpus(): EvasionCase[] {
  const cases: EvasionCase[] = [];
  for (const term of EVADED_TERMS) {
    for (const [evasion, disguise] of Object.entries(EVASIONS)) {
      const disguised = disguise(term);
      if (disguised === term) continue;
      const context = CONTEXTS[cases.length % CONTEXTS.length] ?? CONTEXTS[0];
      cases.push({ term, evasion, text: context?.(disguised) ?? disguised });
    }
  }
  return cases;
}

/** The whole benign corpus: ordinary phrases and those with a rule word inside another word. */
export const BENIGN_CORPUS: readonly string[] = [...BENIGN_ORDINARY, ...BENIGN_EMBEDDED];

export interface CorpusScore {
  evasions: number;
  caught: number;
  catchRate: number;
  /** Evasions that passed, to fix or explain. */
  missed: EvasionCase[];
  benign: number;
  falsePositives: { text: string; flag: string }[];
  falsePositiveRate: number;
}

/** Scores `flagOf` (what flags a text, or null) on both corpora. */
export function scoreCorpora(flagOf: (text: string) => string | null): CorpusScore {
  const evasions = evasionCorpus();
  const missed = evasions.filter((c) => flagOf(c.text) === null);
  const falsePositives = BENIGN_CORPUS.flatMap((text) => {
    const flag = flagOf(text);
    return flag === null ? [] : [{ text, flag }];
  });
  return {
    evasions: evasions.length,
    caught: evasions.length - missed.length,
    catchRate: (evasions.length - missed.length) / evasions.length,
    missed,
    benign: BENIGN_CORPUS.length,
    falsePositives,
    falsePositiveRate: falsePositives.length / BENIGN_CORPUS.length,
  };
}
