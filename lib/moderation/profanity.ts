/**
 * The profanity matcher the brand-safety layer runs: `obscenity`'s English dataset with its
 * recommended transformers, which see through leetspeak (`sh1t`), look-alike characters (`ƒuck`),
 * repeated letters (`fuuuck`) and punctuation inside a word (`b!tch`). Compiled with the rest of the
 * rules (rules.ts), about 10 ms, so it is built once per env.
 */
import { englishDataset, englishRecommendedTransformers, RegExpMatcher } from 'obscenity';

/** Finds profanity; answers the dataset's base word (`fuck` for `fvck`), or null. */
export interface ProfanityMatcher {
  find(text: string): string | null;
}

/** The profanity matcher, with `allowlist` terms (e.g. `cumin`) never reported. */
export function createProfanityMatcher(allowlist: readonly string[]): ProfanityMatcher {
  const dataset = englishDataset.build();
  const matcher = new RegExpMatcher({
    ...dataset,
    whitelistedTerms: [...(dataset.whitelistedTerms ?? []), ...allowlist.map((term) => term.toLowerCase())],
    ...englishRecommendedTransformers,
  });
  return {
    find(text) {
      const match = matcher.getAllMatches(text, true)[0];
      if (!match) return null;
      return englishDataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord ?? 'profanity';
    },
  };
}
