/**
 * @upstash/ratelimit's sliding window counts in epoch minutes and floors the previous minute's weighted
 * count, so a small limit (1, 3) lets a request just past a minute boundary through as if the minute
 * before had been quieter. A test that counts a small limit exactly first waits, when less than
 * `needMs` of the current minute is left, for the next minute to begin.
 */
export async function withinOneMinute(needMs = 10_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}
