/**
 * A factory's options over its defaults: each option given a value takes its place, one left
 * `undefined` does not. A loop, not `fromEntries(entries().filter())`: the budget, the breaker and the
 * cache resolve theirs on every request that builds one.
 */
export function withDefaults<T extends object>(defaults: T, options: Partial<T>): T {
  const resolved = { ...defaults };
  for (const key in options) {
    const value = options[key];
    if (value !== undefined) resolved[key] = value as T[typeof key];
  }
  return resolved;
}
