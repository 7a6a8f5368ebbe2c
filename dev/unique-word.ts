/**
 * A word no other request sends, from letters that spell nothing the profanity filter knows: a UUID's
 * hex reads as leetspeak ("a55" is "ass", "fa6" is "fag") and gets about 1 % of moderated inputs
 * refused at random. For the tests, the bench and the drills alike.
 */
export function uniqueWord(length = 12): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(length)), (b) => 'bdgjmpqvwxz'[b % 11]).join('');
}
