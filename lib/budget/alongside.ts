/**
 * A budget hold and a further admission (the key's units of work) issued in the same tick, so they
 * share a Redis round trip. When the admission refuses, the hold it may have got is given back and
 * the admission's refusal is what the caller sees; otherwise the hold's own outcome.
 */
export async function holdAlongside<H>(
  hold: Promise<H>,
  admission: Promise<unknown> | undefined,
  giveBack: (held: H) => void,
): Promise<H> {
  const [held, admitted] = await Promise.allSettled([hold, admission]);
  if (admitted.status === 'rejected') {
    if (held.status === 'fulfilled') giveBack(held.value);
    throw admitted.reason;
  }
  if (held.status === 'rejected') throw held.reason;
  return held.value;
}
